"""Names of the firewalls app's Celery tasks: services enqueue by name and never import ``tasks``."""

RUN_ACTION = "firewalls.run_action"
RECONCILE = "firewalls.reconcile"
