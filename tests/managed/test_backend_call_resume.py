"""A backend call whose worker died: the beat's sweep releases the claim and sends the call again, once.

``service_backend_call`` claims the service (``backend_task``, ``backend_operation``,
``backend_claimed_at``); a worker killed mid-call leaves the claim. ``service_backend_calls_resume``
(beat ``managed.resume_backend_calls``) releases claims older than ``BACKEND_CALL_LEASE`` and sends
their call again; a fresh claim is left alone, and a second sweep finds nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.managed import services, task_names
from apps.managed.backends import BackendResult, StaffBackend, backend_register, backend_unregister
from apps.managed.choices import ServiceFamily, ServiceState
from apps.managed.models import ManagedService
from apps.managed.services.backend_calls import BACKEND_CALL_LEASE
from tests.managed.factories import service_row

pytestmark = pytest.mark.django_db


class _AutoBackend(StaffBackend):
    staff_fulfilled = False

    def __init__(self) -> None:
        self.calls: list[str] = []

    def provision(self, service, *, secrets):
        self.calls.append("provision")
        return BackendResult(done=True, backend_ref="ext-9", endpoints={"urls": ["https://site.example"]})


def _claim(service: ManagedService, *, task: str, operation: str, age: timedelta) -> None:
    ManagedService.objects.filter(pk=service.pk).update(
        backend_task=task, backend_operation=operation, backend_claimed_at=timezone.now() - age
    )


def test_a_claim_records_its_operation_and_time_and_the_release_clears_them(personas, shop):
    backend = _AutoBackend()
    backend_register(ServiceFamily.WEB_HOSTING, backend)
    try:
        service = service_row(personas, shop, active=False)
        claims = []
        original = backend.provision

        def provision(service, *, secrets):
            row = ManagedService.objects.get(pk=service.pk)
            claims.append((row.backend_task, row.backend_operation, row.backend_claimed_at is not None))
            return original(service, secrets=secrets)

        backend.provision = provision  # type: ignore[method-assign]
        outcome = services.service_backend_call(service_id=service.pk, operation="provision", task_id="t-1")
        assert outcome == services.CallOutcome.DONE
        assert claims == [("t-1", "provision", True)]
        service.refresh_from_db()
        assert (service.backend_task, service.backend_operation, service.backend_claimed_at) == ("", "", None)
    finally:
        backend_unregister(ServiceFamily.WEB_HOSTING)


def test_a_stale_claim_is_released_and_its_call_sent_again_once(personas, shop, django_capture_on_commit_callbacks):
    service = service_row(personas, shop, active=False)
    fresh = service_row(personas, shop, name="site-2", active=False)
    _claim(service, task="dead-worker", operation="provision", age=BACKEND_CALL_LEASE + timedelta(minutes=1))
    _claim(fresh, task="live-worker", operation="provision", age=timedelta(minutes=2))
    sent: list[tuple[str, tuple[object, ...]]] = []

    from apps.managed.services import backend_calls

    def record(name: str, *args: object) -> None:
        sent.append((name, args))

    original = backend_calls.task_enqueue
    backend_calls.task_enqueue = record  # type: ignore[assignment]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.service_backend_calls_resume() == [service.pk]
        # A second sweep (or one racing it) finds nothing left to release.
        with django_capture_on_commit_callbacks(execute=True):
            assert services.service_backend_calls_resume() == []
    finally:
        backend_calls.task_enqueue = original  # type: ignore[assignment]
    assert sent == [(task_names.BACKEND_CALL, (service.pk, "provision"))]
    service.refresh_from_db()
    fresh.refresh_from_db()
    assert (service.backend_task, service.backend_claimed_at) == ("", None)
    assert fresh.backend_task == "live-worker", "a call still within its lease is left to its worker"
    event = AuditEvent.objects.get(action="managed.backend_call.resume")
    assert event.changes["operation"] == "provision" and event.changes["task"] == "dead-worker"


def test_the_resent_call_delivers_the_service(personas, shop, django_capture_on_commit_callbacks):
    backend = _AutoBackend()
    backend_register(ServiceFamily.WEB_HOSTING, backend)
    try:
        service = service_row(personas, shop, active=False)  # created before registering: no call was sent
        _claim(service, task="dead-worker", operation="provision", age=timedelta(hours=2))
        with django_capture_on_commit_callbacks(execute=True):
            services.service_backend_calls_resume()
        service.refresh_from_db()
        assert backend.calls == ["provision"]
        assert service.state == ServiceState.ACTIVE and service.backend_ref == "ext-9"
        assert service.backend_task == ""
    finally:
        backend_unregister(ServiceFamily.WEB_HOSTING)


def test_the_sweep_runs_on_the_beat():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task_names.RESUME_BACKEND_CALLS]
    assert len(entries) == 1 and entries[0]["schedule"] <= BACKEND_CALL_LEASE.total_seconds()
