"""The service backend interface (issue 14, "Delivery"; operator's page: docs/content/service-backends.md).

A backend delivers one family of managed services. It is called only from the
managed app's Celery task (``apps.managed.tasks.backend_call``) after the
service's state already says what is wanted: the database is the source of
truth, a backend makes the outside world match it. Every method must be
idempotent (a redelivered task calls it again) and return quickly; long work is
reported as ``done=False`` and finished later (by staff in the back office, or
by the backend reporting through ``apps.managed.services.service_deliver``).

Register a backend for a family with ``backend_register(family, backend)``
(from an ``AppConfig.ready``); a family without one uses ``StaffBackend``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from apps.managed.models import ManagedService


class BackendError(Exception):
    """A backend failed; ``transient`` ones are retried by the task with backoff."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class BackendResult:
    """What a backend call did.

    ``done``: the change is live (the service becomes ``active``); False: someone
    (staff, a webhook) finishes it later. ``endpoints`` (``{"urls": [...],
    "hostnames": [...]}``), ``credentials`` (name → clear value, stored encrypted)
    and ``backend_ref`` (the external id) are recorded on the service when given.
    """

    done: bool
    backend_ref: str = ""
    endpoints: dict[str, list[str]] | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    notes: str = ""


@dataclass(frozen=True)
class BackendStatus:
    """What the outside world says of a service: ``state`` one of "active", "suspended", "absent", "unknown"."""

    state: str
    detail: str = ""


@runtime_checkable
class ServiceBackend(Protocol):
    """Delivers one family: the six calls the managed app makes."""

    #: True when staff deliver by hand (the service appears in the back office's fulfilment queue).
    staff_fulfilled: bool

    def provision(self, service: ManagedService, *, secrets: dict[str, str]) -> BackendResult:
        """Create the service from ``service.config`` (and the customer's ``secrets``, clear)."""
        ...

    def change(self, service: ManagedService, *, secrets: dict[str, str]) -> BackendResult:
        """Apply ``service.offer`` (the new tier) and ``service.config`` to the existing service."""
        ...

    def suspend(self, service: ManagedService) -> BackendResult:
        """Stop serving, keep the data."""
        ...

    def resume(self, service: ManagedService) -> BackendResult:
        """Serve again after a suspension."""
        ...

    def terminate(self, service: ManagedService) -> BackendResult:
        """Delete the service and its data for good (idempotent: absent is fine)."""
        ...

    def status(self, service: ManagedService) -> BackendStatus:
        """Read the service's state outside (never invented: "unknown" when it cannot be read)."""
        ...


class StaffBackend:
    """Staff deliver by hand: ``provision`` and ``change`` put the service in the fulfilment queue.

    Suspend, resume and terminate are recorded by the service's state (staff act
    on their hosting panel, Nomad or CDN partner account); the back office shows
    ended services whose resources staff still have to remove.
    """

    staff_fulfilled = True

    def provision(self, service: ManagedService, *, secrets: dict[str, str]) -> BackendResult:
        return BackendResult(done=False)

    def change(self, service: ManagedService, *, secrets: dict[str, str]) -> BackendResult:
        return BackendResult(done=False)

    def suspend(self, service: ManagedService) -> BackendResult:
        return BackendResult(done=True)

    def resume(self, service: ManagedService) -> BackendResult:
        return BackendResult(done=True)

    def terminate(self, service: ManagedService) -> BackendResult:
        return BackendResult(done=True)

    def status(self, service: ManagedService) -> BackendStatus:
        return BackendStatus(state="unknown", detail="delivered by staff")


_REGISTRY: dict[str, ServiceBackend] = {}
_STAFF = StaffBackend()


def backend_register(family: str, backend: ServiceBackend) -> None:
    """Deliver ``family`` with ``backend`` from now on (call from an ``AppConfig.ready``)."""
    _REGISTRY[str(family)] = backend


def backend_unregister(family: str) -> None:
    """Back to the staff backend for ``family`` (tests)."""
    _REGISTRY.pop(str(family), None)


def backend_for(family: str) -> ServiceBackend:
    """The backend that delivers ``family`` (the staff backend unless one is registered)."""
    return _REGISTRY.get(str(family), _STAFF)


def is_staff_fulfilled(family: str) -> bool:
    return bool(getattr(backend_for(family), "staff_fulfilled", False))
