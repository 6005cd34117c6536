"""Celery tasks of the firewalls app: thin, claim the action, call ``services`` (docs/dev/style.md#celery-tasks).

``acks_late`` with ``reject_on_worker_lost``: a killed worker's message is redelivered, and the
conditional-UPDATE claim makes a duplicate a no-op; the work itself is idempotent per VM, so a
resumed action only re-checks the servers already written. Only transient Proxmox errors are retried.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.app.task import Task

from apps.firewalls import services, task_names
from apps.instances.services import resource_action_claim, resource_action_fail
from apps.instances.tasks import RESOURCE_ACTION_TASK_OPTIONS, run_claimed_action

logger = logging.getLogger(__name__)


@shared_task(name=task_names.RUN_ACTION, **RESOURCE_ACTION_TASK_OPTIONS)
def run_action(self: Task, action_id: int) -> None:  # type: ignore[type-arg]
    """Run one firewall action (apply, delete)."""
    run_claimed_action(
        self,
        action_id,
        claim=resource_action_claim,
        execute=services.firewall_action_execute,
        fail=resource_action_fail,
    )


@shared_task(name=task_names.RECONCILE, ignore_result=True)
def reconcile() -> None:
    """Periodic: clusters' firewall switch, label selectors, VM drift (``services.firewalls_reconcile``)."""
    summary = services.firewalls_reconcile()
    logger.info("firewalls reconcile: %s", summary)
