"""The backend's side of the lifecycle: one call (provision, change, suspend, resume, terminate) per task.

``service_backend_call`` is what ``tasks.backend_call`` runs. It claims the
service with a conditional UPDATE (``backend_task`` empty or already ours, and
the state still wanting the call), so a duplicated message is a no-op and two
calls on one service never overlap; then it calls the family's backend outside
any transaction and records what the backend delivered.

A worker that dies mid-call leaves its claim behind (its message may never come
back). ``service_backend_calls_resume`` (the beat's ``managed.resume_backend_calls``)
releases every claim older than ``BACKEND_CALL_LEASE`` and sends the call again,
as the instances app's ``resource_actions_resume`` does for actions: the release
is a conditional UPDATE on the claim it saw, so two sweeps send it once, and a
backend call is idempotent (apps/docs/content/service-backends.md, "The interface").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.errors import Conflict
from apps.core.services import audit_record, task_enqueue
from apps.managed import task_names
from apps.managed.backends import BackendError, BackendResult, backend_for
from apps.managed.choices import ENDED_STATES, ServiceState
from apps.managed.models import ManagedService
from apps.managed.services.lifecycle import service_deliver, service_secrets_clear

S = ServiceState
# Longer than any backend call takes (a load balancer's provision returns once its VM is queued; a partner's
# API call times out well before): a claim this old belongs to a worker that died.
BACKEND_CALL_LEASE = timedelta(minutes=30)

# The state a service must (still) be in for each call: a call its state no longer wants is skipped.
WANTED_STATES: dict[str, tuple[str, ...]] = {
    "provision": (S.PROVISIONING,),
    "change": (S.CHANGING,),
    "suspend": (S.SUSPENDED,),
    "resume": (S.ACTIVE,),
    "terminate": tuple(ENDED_STATES),
}


class CallOutcome(StrEnum):
    DONE = "done"  # the backend applied it
    PENDING = "pending"  # someone (staff) finishes it later
    SKIPPED = "skipped"  # the service no longer wants it (or is gone)
    BUSY = "busy"  # another call holds the service: try again later


def service_backend_call(*, service_id: int, operation: str, task_id: str) -> CallOutcome:
    """Run one backend call for the service; ``BackendError`` propagates (the task retries transient ones)."""
    if operation not in WANTED_STATES:
        raise ValueError(f"unknown backend operation {operation!r}")
    wanted = WANTED_STATES[operation]
    claimed = (
        ManagedService.objects.filter(pk=service_id, state__in=wanted)
        .filter(Q(backend_task="") | Q(backend_task=task_id))
        .update(backend_task=task_id, backend_operation=operation, backend_claimed_at=timezone.now())
    )
    if not claimed:
        exists_wanting = ManagedService.objects.filter(pk=service_id, state__in=wanted).exists()
        return CallOutcome.BUSY if exists_wanting else CallOutcome.SKIPPED
    try:
        service = ManagedService.objects.select_related("offer", "offer__family").get(pk=service_id)
        backend = backend_for(service.family)
        result: BackendResult
        if operation == "provision":
            result = backend.provision(service, secrets=service_secrets_clear(service=service))
        elif operation == "change":
            result = backend.change(service, secrets=service_secrets_clear(service=service))
        elif operation == "suspend":
            result = backend.suspend(service)
        elif operation == "resume":
            result = backend.resume(service)
        else:
            result = backend.terminate(service)
    finally:
        ManagedService.objects.filter(pk=service_id, backend_task=task_id).update(
            backend_task="", backend_operation="", backend_claimed_at=None
        )
    if result.backend_ref and not service.backend_ref:
        ManagedService.objects.filter(pk=service_id, backend_ref="").update(backend_ref=result.backend_ref[:200])
    if not result.done:
        return CallOutcome.PENDING
    if operation in ("provision", "change"):
        try:
            service_deliver(
                service=service,
                actor=None,
                endpoints=result.endpoints if result.endpoints is not None else service.endpoints,
                credentials=result.credentials,
                notes=result.notes or service.delivery_notes,
                backend_ref=result.backend_ref or None,
            )
        except Conflict:  # the service moved on meanwhile (cancelled): nothing to deliver
            return CallOutcome.SKIPPED
    return CallOutcome.DONE


def service_backend_calls_resume(*, now: datetime | None = None) -> list[int]:
    """Release the claims older than ``BACKEND_CALL_LEASE`` and send their calls again; the services' ids.

    A claim without its operation or time (claimed before they were recorded) is released and its call
    left to the state's own path (the admin's retry): nothing says which call it was.
    """
    now = now or timezone.now()
    stuck = (
        ManagedService.objects.exclude(backend_task="")
        .filter(Q(backend_claimed_at__lt=now - BACKEND_CALL_LEASE) | Q(backend_claimed_at__isnull=True))
        .values_list("pk", "organisation_id", "backend_task", "backend_operation", "backend_claimed_at")
    )
    resumed = []
    for pk, organisation_id, task, operation, claimed_at in stuck:
        with transaction.atomic():
            released = ManagedService.objects.filter(
                pk=pk, backend_task=task, backend_operation=operation, backend_claimed_at=claimed_at
            ).update(backend_task="", backend_operation="", backend_claimed_at=None)
            if not released:  # the call finished, or another sweep released it, meanwhile
                continue
            audit_record(
                actor=None,
                action="managed.backend_call.resume",
                target=ManagedService.objects.get(pk=pk),
                organisation_id=organisation_id,
                changes={
                    "operation": operation,
                    "task": task,
                    "claimed_at": claimed_at.isoformat() if claimed_at else None,
                },
            )
            if operation in WANTED_STATES:
                task_enqueue(task_names.BACKEND_CALL, pk, operation)
                resumed.append(pk)
    return resumed


__all__ = [
    "BACKEND_CALL_LEASE",
    "WANTED_STATES",
    "BackendError",
    "CallOutcome",
    "service_backend_call",
    "service_backend_calls_resume",
]
