"""Names of the core app's Celery tasks: one constant each, for ``@shared_task(name=...)``, ``task_enqueue``
and the beat schedule (plain strings: settings import this module; docs/dev/style.md#celery-tasks)."""

HEARTBEAT = "core.heartbeat"
RESEND_UNSENT_TASKS = "core.resend_unsent_tasks"
