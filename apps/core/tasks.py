"""Core tasks: a heartbeat that shows the worker and beat are alive."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from apps.core import task_names
from apps.core.services import unsent_tasks_resend

logger = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "core:worker-heartbeat"


@shared_task(name=task_names.HEARTBEAT, ignore_result=True)
def heartbeat() -> str:
    """Record when a worker last ran a task (read by /healthz when the cache is shared)."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=3600)
    logger.info("heartbeat %s", now)
    return now


@shared_task(name=task_names.RESEND_UNSENT_TASKS, ignore_result=True)
def resend_unsent_tasks() -> int:
    """Send again what the broker refused while it was away (``apps.core.models.UnsentTask``)."""
    sent, waiting = unsent_tasks_resend()
    if sent or waiting:
        logger.warning("unsent tasks: %s sent again, %s still waiting", sent, waiting)
    return sent
