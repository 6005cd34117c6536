"""The backend's side of the lifecycle: one call (provision, change, suspend, resume, terminate) per task.

``service_backend_call`` is what ``tasks.backend_call`` runs. It claims the
service with a conditional UPDATE (``backend_task`` empty or already ours, and
the state still wanting the call), so a duplicated message is a no-op and two
calls on one service never overlap; then it calls the family's backend outside
any transaction and records what the backend delivered.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q

from apps.core.errors import Conflict
from apps.managed.backends import BackendError, BackendResult, backend_for
from apps.managed.choices import ENDED_STATES, ServiceState
from apps.managed.models import ManagedService
from apps.managed.services.lifecycle import service_deliver, service_secrets_clear

S = ServiceState

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
        .update(backend_task=task_id)
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
        ManagedService.objects.filter(pk=service_id, backend_task=task_id).update(backend_task="")
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


__all__ = ["WANTED_STATES", "BackendError", "CallOutcome", "service_backend_call"]
