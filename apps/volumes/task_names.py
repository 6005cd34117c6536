"""Names of the volumes app's Celery tasks: services enqueue by name and never import ``tasks``."""

RUN_ACTION = "volumes.run_action"
