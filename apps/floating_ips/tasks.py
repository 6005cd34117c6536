"""Celery tasks of the floating IPs app: thin, claim the action, call ``services`` (docs/dev/style.md#celery-tasks).

``acks_late`` with ``reject_on_worker_lost``: a killed worker's message is
redelivered, and the conditional-UPDATE claim makes a duplicate a no-op. Only
transient errors (Proxmox, the routing backend) are retried, with capped
exponential backoff and jitter.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.app.task import Task
from django.utils.translation import gettext as _

from apps.floating_ips import services, task_names
from apps.floating_ips.routing import RoutingError
from apps.infrastructure.proxmox import ProxmoxError

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
    """Run one floating IP action (assign, unassign, delete)."""
    task_id = self.request.id or f"local-{action_id}"
    action = services.floating_ip_action_claim(action_id=action_id, task_id=task_id)
    if action is None:
        logger.info("floating IP action %s: not claimed (done, or held by another task)", action_id)
        return
    try:
        services.floating_ip_action_execute(action=action)
    except (ProxmoxError, RoutingError) as exc:  # transient only: floating_ip_action_execute handles the rest
        if self.request.retries >= MAX_RETRIES:
            services.floating_ip_action_fail(
                action=action,
                code="unavailable",
                message=_("The operation failed. Our team has been notified."),
                detail=f"gave up after {MAX_RETRIES} retries: {exc}",
            )
            return
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries)) from exc
