"""Celery tasks of the volumes app: thin, the shared action task body (docs/dev/style.md#celery-tasks).

``apps.instances.tasks.run_claimed_action`` claims the action with a conditional UPDATE
(a redelivered or duplicated message is a no-op: ``acks_late`` with ``reject_on_worker_lost``),
runs it, and retries transient errors only, with capped exponential backoff and jitter.
"""

from __future__ import annotations

from celery import shared_task
from celery.app.task import Task

from apps.instances.tasks import RESOURCE_ACTION_TASK_OPTIONS, run_claimed_action
from apps.volumes import services, task_names


@shared_task(name=task_names.RUN_ACTION, **RESOURCE_ACTION_TASK_OPTIONS)
def run_action(self: Task, action_id: int) -> None:  # type: ignore[type-arg]
    """Run one volume action (create, attach, detach, resize, delete)."""
    run_claimed_action(
        self,
        action_id,
        claim=services.volume_action_claim,
        execute=services.volume_action_execute,
        fail=services.volume_action_fail,
    )
