"""Names of the instances app's Celery tasks: one constant each, for ``@shared_task(name=...)``,
``task_enqueue`` and the beat schedule (plain strings: settings import this module; docs/dev/style.md#celery-tasks)."""

PROVISION = "instances.provision"
RUN_ACTION = "instances.run_action"
SCHEDULED_SNAPSHOT = "instances.scheduled_snapshot"
RECONCILE = "instances.reconcile"
RESUME_RESOURCE_ACTIONS = "instances.resume_resource_actions"
