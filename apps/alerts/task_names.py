"""Names of the alerts app's Celery tasks: services enqueue by name and never import ``tasks``."""

EVALUATE = "alerts.evaluate"
WEBHOOK_SEND = "alerts.webhook_send"
