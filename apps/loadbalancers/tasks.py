"""Celery tasks of the load balancers: thin (docs/dev/style.md#celery-tasks).

``apply`` runs ``services.lb_apply`` (claimed by a conditional UPDATE, so a redelivered or
duplicated message is a no-op); a transient Proxmox error (the guest agent not up yet, a
timeout) is retried with capped exponential backoff and jitter.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.app.task import Task
from django.db import InterfaceError, OperationalError

from apps.infrastructure.proxmox.errors import ProxmoxTransientError
from apps.loadbalancers import services, task_names

logger = logging.getLogger(__name__)

MAX_RETRIES = 8


def _countdown(retries: int) -> float:
    return min(300, 5 * 2**retries) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter


@shared_task(
    name=task_names.APPLY,
    bind=True,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def apply(self: Task, lb_id: int) -> str:  # type: ignore[type-arg]
    """Apply the load balancer's newest configuration to its VM."""
    task_id = self.request.id or f"local-apply-{lb_id}"
    try:
        return services.lb_apply(lb_id=lb_id, task_id=task_id)
    except (OperationalError, InterfaceError, ProxmoxTransientError) as exc:
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries)) from exc


@shared_task(name=task_names.HEALTH_READ, ignore_result=True)
def health_read(lb_id: int) -> dict[str, str]:
    """Read the targets' health from HAProxy on the VM ("unknown" when it cannot be read)."""
    return services.lb_health_read(lb_id=lb_id)


@shared_task(name=task_names.TARGETS_SYNC, ignore_result=True)
def targets_sync() -> dict[str, int]:
    """Beat, a safety net: targets catch up with a lost label or network event; lost applies are sent again."""
    return services.lb_sync_all()
