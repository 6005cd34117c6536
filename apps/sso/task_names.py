"""Names of the SSO app's Celery tasks: one constant each, for ``@shared_task(name=...)``, ``task_enqueue``
and the beat schedule (plain strings: settings import this module; docs/dev/style.md#celery-tasks)."""

PURGE_ASSERTIONS = "sso.purge_assertions"
REFRESH_METADATA = "sso.refresh_metadata"
