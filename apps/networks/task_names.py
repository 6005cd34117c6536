"""Names of the networks app's Celery tasks: services enqueue by name and never import ``tasks``."""

RUN_ACTION = "networks.run_action"
