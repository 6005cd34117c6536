"""Celery tasks of the floating IPs app: thin, the shared action task body (docs/dev/style.md#celery-tasks).

``apps.instances.tasks.run_claimed_action`` claims the action with a conditional UPDATE
(a redelivered or duplicated message is a no-op: ``acks_late`` with ``reject_on_worker_lost``),
runs it, and retries transient errors only, with capped exponential backoff and jitter.
"""

from __future__ import annotations

from celery import shared_task
from celery.app.task import Task

from apps.floating_ips import services, task_names
from apps.floating_ips.routing import RoutingError
from apps.instances.tasks import MAX_RETRIES, RESOURCE_ACTION_TASK_OPTIONS, TRANSIENT_ERRORS, run_claimed_action


@shared_task(name=task_names.RUN_ACTION, **RESOURCE_ACTION_TASK_OPTIONS)
def run_action(self: Task, action_id: int) -> None:  # type: ignore[type-arg]
    """Run one floating IP action (assign, unassign, delete)."""
    run_claimed_action(
        self,
        action_id,
        claim=services.floating_ip_action_claim,
        execute=services.floating_ip_action_execute,
        fail=services.floating_ip_action_fail,
        transient=(*TRANSIENT_ERRORS, RoutingError),
    )


@shared_task(name=task_names.SERVER_IPSET_SYNC, bind=True, ignore_result=True, acks_late=True, max_retries=MAX_RETRIES)
def server_ipset_sync(self: Task, instance_id: int) -> None:  # type: ignore[type-arg]
    """Put a rebuilt server's anti-spoofing IP set back with its floating IPs (idempotent; retried)."""
    try:
        services.server_ipset_sync(instance_id=instance_id)
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc
