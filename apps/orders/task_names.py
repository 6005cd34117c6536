"""Names of the orders app's Celery tasks: one constant each, for ``@shared_task(name=...)`` and the beat
schedule (plain strings: settings import this module; docs/dev/style.md#celery-tasks)."""

SYNC = "orders.sync"
APPLY_OPTIONS = "orders.apply_options"
