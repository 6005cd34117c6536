"""Celery tasks of the firewalls app: thin, claim the action, call ``services`` (docs/dev/style.md#celery-tasks).

``acks_late`` with ``reject_on_worker_lost``: a killed worker's message is redelivered, and the
conditional-UPDATE claim makes a duplicate a no-op; the work itself is idempotent per VM, so a
resumed action only re-checks the servers already written. Only transient Proxmox errors are retried.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.app.task import Task

from apps.firewalls import services, task_names
from apps.infrastructure.proxmox import ProxmoxError
from apps.instances.services import resource_action_claim, resource_action_fail

logger = logging.getLogger(__name__)

MAX_RETRIES = 8


def _countdown(retries: int) -> float:
    # 5 s, 10 s, 20 s ... capped at 5 min, with jitter (AWS "Exponential Backoff and Jitter").
    return min(300, 5 * 2**retries) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter


@shared_task(
    bind=True,
    name=task_names.RUN_ACTION,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def run_action(self: Task, action_id: int) -> None:  # type: ignore[type-arg]
    """Run one firewall action (apply, delete)."""
    task_id = self.request.id or f"local-{action_id}"
    action = resource_action_claim(action_id=action_id, task_id=task_id)
    if action is None:
        logger.info("firewall action %s: not claimed (done, or held by another task)", action_id)
        return
    try:
        services.firewall_action_execute(action=action)
    except ProxmoxError as exc:  # transient only: firewall_action_execute handles the rest
        if self.request.retries >= MAX_RETRIES:
            resource_action_fail(
                action=action,
                code="proxmox_unavailable",
                message="The operation failed. Our team has been notified.",
                detail=f"gave up after {MAX_RETRIES} retries: {exc}",
            )
            return
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries)) from exc


@shared_task(name=task_names.RECONCILE, ignore_result=True)
def reconcile() -> None:
    """Periodic: clusters' firewall switch, label selectors, VM drift (``services.firewalls_reconcile``)."""
    summary = services.firewalls_reconcile()
    logger.info("firewalls reconcile: %s", summary)
