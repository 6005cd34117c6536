"""Celery tasks of the managed app: thin (docs/dev/style.md#celery-tasks).

``backend_call`` runs one backend call for a service (``services.service_backend_call``
claims the service with a conditional UPDATE, so a redelivered or duplicated
message is a no-op). A call that finds another call holding the service, or a
transient backend error, is retried with capped exponential backoff and jitter.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.app.task import Task
from django.db import InterfaceError, OperationalError

from apps.managed import services, task_names
from apps.managed.backends import BackendError

logger = logging.getLogger(__name__)

MAX_RETRIES = 8


def _countdown(retries: int) -> float:
    # 5 s, 10 s, 20 s ... capped at 5 min, with jitter (AWS "Exponential Backoff and Jitter").
    return min(300, 5 * 2**retries) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter


@shared_task(
    name=task_names.BACKEND_CALL,
    bind=True,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def backend_call(self: Task, service_id: int, operation: str) -> str:  # type: ignore[type-arg]
    """Call the service's backend for ``operation`` (provision, change, suspend, resume, terminate)."""
    task_id = self.request.id or f"local-{service_id}-{operation}"
    try:
        outcome = services.service_backend_call(service_id=service_id, operation=operation, task_id=task_id)
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries)) from exc
    except BackendError as exc:
        if exc.transient:
            raise self.retry(exc=exc, countdown=_countdown(self.request.retries)) from exc
        logger.error("managed: backend %s of service %s failed: %s", operation, service_id, exc)
        return "failed"
    if outcome == services.CallOutcome.BUSY:
        raise self.retry(countdown=_countdown(self.request.retries))
    return outcome.value


@shared_task(name=task_names.RESUME_BACKEND_CALLS, ignore_result=True)
def resume_backend_calls() -> int:
    """Beat: send again the backend calls whose worker died mid-call (``services.service_backend_calls_resume``)."""
    return len(services.service_backend_calls_resume())
