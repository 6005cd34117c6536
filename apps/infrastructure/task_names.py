"""Names of the infrastructure app's Celery tasks: one constant each, for ``@shared_task(name=...)``,
``task_enqueue`` and the beat schedule (plain strings: settings import this module;
docs/dev/style.md#celery-tasks)."""

SYNC_INVENTORY = "infrastructure.sync_inventory"
SYNC_CLUSTER = "infrastructure.sync_cluster"
RELEASE_EXPIRED_RESERVATIONS = "infrastructure.release_expired_reservations"
