"""The managed services' lifecycle (issue 14): state machine, secrets, billing periods, audit, backends."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from apps.infrastructure.rules import crypto
from apps.managed import selectors, services
from apps.managed.backends import BackendResult, StaffBackend, backend_register, backend_unregister
from apps.managed.choices import SecretKind, ServiceFamily, ServiceState
from apps.managed.models import ManagedService, ServiceSecret
from tests.infrastructure.factories import FamilyFactory, OfferFactory
from tests.managed.factories import service_row, tier_offer

pytestmark = pytest.mark.django_db


def _actions(service: ManagedService) -> list[str]:
    events = AuditEvent.objects.filter(target_id=str(service.pk), action__startswith="managed.")
    return list(events.order_by("id").values_list("action", flat=True))


def test_create_is_provisioning_with_encrypted_env_secrets_and_queued_for_staff(
    personas, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        service = service_row(personas, shop, active=False, secrets={"DATABASE_URL": "postgres://x"})
    assert len(callbacks) == 2  # the state signal and the backend's provision, both on commit
    service.refresh_from_db()
    assert service.state == ServiceState.PROVISIONING
    assert service.family == ServiceFamily.WEB_HOSTING
    assert service.price_hourly == shop.service.price_hourly
    secret = ServiceSecret.objects.get(service=service)
    assert secret.kind == SecretKind.ENV and "postgres" not in secret.value
    assert crypto.decrypt(secret.value) == "postgres://x"
    assert list(service.transitions.values_list("from_state", "to_state")) == [("", "provisioning")]
    assert _actions(service) == ["managed.service.create"]
    # The staff backend leaves it to staff: it is in the fulfilment queue, not billed.
    assert list(selectors.fulfilment_queue()) == [service]
    assert not service.price_periods.exists()


def test_a_non_managed_offer_is_refused(personas, shop):
    with pytest.raises(ValidationFailed):
        service_row(personas, shop, offer=shop.vps, active=False)


def test_a_live_name_is_unique_per_project(personas, shop):
    service_row(personas, shop, name="site")
    with pytest.raises(ValidationFailed) as exc:
        service_row(personas, shop, name="site")
    assert "name" in exc.value.fields


def test_deliver_activates_opens_the_price_period_and_stores_credentials_encrypted(personas, shop):
    service = service_row(personas, shop)
    assert service.state == ServiceState.ACTIVE and service.activated_at is not None
    period = service.price_periods.get()
    assert period.ended_at is None and period.started_at == service.activated_at
    assert period.price_hourly == shop.service.price_hourly and period.price_monthly == shop.service.price_monthly
    credential = service.secrets.get(kind=SecretKind.CREDENTIAL)
    assert "s3cret" not in credential.value
    assert service.endpoints == {"urls": ["https://example.com"], "hostnames": ["example.com"]}
    assert not selectors.fulfilment_queue().exists()


def test_a_customer_cannot_deliver(personas, shop):
    service = service_row(personas, shop, active=False)
    with pytest.raises(PermissionDenied):
        services.service_deliver(service=service, actor=personas.owner, endpoints={}, credentials={}, notes="")


def test_credentials_are_revealed_once_and_audited(personas, shop):
    service = service_row(personas, shop)
    assert services.service_credentials_reveal(service=service, actor=personas.owner) == {"sftp_password": "s3cret"}
    with pytest.raises(Conflict) as exc:
        services.service_credentials_reveal(service=service, actor=personas.owner)
    assert exc.value.code == "service_credentials_already_revealed"
    assert _actions(service).count("managed.service.credentials_reveal") == 1
    with pytest.raises(PermissionDenied):
        services.service_credentials_reveal(service=service, actor=personas.viewer)


def test_cancel_needs_the_typed_name_and_respects_delete_protection(personas, shop):
    service = service_row(personas, shop, delete_protection=True)
    with pytest.raises(ValidationFailed) as exc:
        services.service_cancel(service=service, actor=personas.owner, confirm_name="wrong")
    assert exc.value.code == "confirmation_mismatch" and "confirm" in exc.value.fields
    with pytest.raises(Conflict) as conflict:
        services.service_cancel(service=service, actor=personas.owner, confirm_name=service.name)
    assert conflict.value.code == "delete_protected"
    with pytest.raises(PermissionDenied):
        services.service_cancel(service=service, actor=personas.viewer, confirm_name=service.name)
    services.service_update(actor=personas.owner, service=service, delete_protection=False)
    ended = services.service_cancel(service=service, actor=personas.owner, confirm_name=service.name)
    assert ended.state == ServiceState.CANCELLED and ended.ended_at is not None
    period = ended.price_periods.get()
    assert period.ended_at == ended.ended_at
    assert not ended.secrets.exists()
    assert ended.transitions.last().to_state == ServiceState.CANCELLED
    with pytest.raises(Conflict) as again:
        services.service_cancel(service=service, actor=personas.owner, confirm_name=service.name)
    assert again.value.code == "service_ended"


def test_a_provisioning_service_can_be_cancelled_and_was_never_billed(personas, shop):
    service = service_row(personas, shop, active=False)
    ended = services.service_cancel(service=service, actor=personas.member, confirm_name=service.name)
    assert ended.state == ServiceState.CANCELLED and not ended.price_periods.exists()


def test_staff_suspend_resume_terminate_need_a_reason(personas, shop):
    service = service_row(personas, shop)
    with pytest.raises(ValidationFailed):
        services.service_suspend(service=service, actor=personas.staff, reason=" ")
    with pytest.raises(PermissionDenied):
        services.service_suspend(service=service, actor=personas.owner, reason="abuse")
    suspended = services.service_suspend(service=service, actor=personas.staff, reason="abuse report 42")
    assert suspended.state == ServiceState.SUSPENDED and suspended.state_reason == "abuse report 42"
    assert suspended.price_periods.get().ended_at is None  # kept, still billed
    with pytest.raises(Conflict):
        services.service_change_tier(service=service, actor=personas.owner, offer=tier_offer(shop))
    resumed = services.service_resume(service=service, actor=personas.staff, reason="cleared")
    assert resumed.state == ServiceState.ACTIVE
    with pytest.raises(Conflict):
        services.service_resume(service=service, actor=personas.staff, reason="again")
    # Staff terminate whatever the delete protection says.
    ManagedService.objects.filter(pk=service.pk).update(delete_protection=True)
    ended = services.service_terminate(service=service, actor=personas.staff, reason="contract ended")
    assert ended.state == ServiceState.TERMINATED and ended.price_periods.get().ended_at == ended.ended_at
    assert [t.to_state for t in selectors.service_transition_list(service=service)] == [
        "provisioning",
        "active",
        "suspended",
        "active",
        "terminated",
    ]
    event = AuditEvent.objects.filter(action="managed.service.terminate").get()
    assert event.actor_kind == "staff" and event.changes["reason"] == "contract ended"


def test_change_tier_closes_and_reopens_the_price_period_within_the_family(personas, shop):
    service = service_row(personas, shop)
    other_family = OfferFactory(family=FamilyFactory(slug="cdn", name="CDN"), code="CDN-X")
    with pytest.raises(ValidationFailed) as exc:
        services.service_change_tier(service=service, actor=personas.owner, offer=other_family)
    assert exc.value.code == "service_tier_family_mismatch"
    with pytest.raises(ValidationFailed):
        services.service_change_tier(service=service, actor=personas.owner, offer=shop.service)
    pro = tier_offer(shop)
    changed = services.service_change_tier(service=service, actor=personas.owner, offer=pro)
    assert changed.state == ServiceState.CHANGING and changed.offer == pro
    old, new = changed.price_periods.order_by("started_at", "id")
    assert old.ended_at == new.started_at and new.ended_at is None
    assert new.price_hourly == Decimal("0.02") and new.offer == pro
    assert list(selectors.fulfilment_queue()) == [changed]  # staff apply the tier
    done = services.service_deliver(service=changed, actor=personas.staff, endpoints=changed.endpoints, notes="")
    assert done.state == ServiceState.ACTIVE and done.price_periods.count() == 2


def test_usage_is_recorded_by_staff(personas, shop):
    service = service_row(personas, shop)
    usage = services.service_usage_record(service=service, actor=personas.staff, metric="storage_gb", value=Decimal(3))
    assert usage.recorded_by == personas.staff
    with pytest.raises(ValidationFailed):
        services.service_usage_record(service=service, actor=personas.staff, metric="storage_gb", value="-1")
    with pytest.raises(PermissionDenied):
        services.service_usage_record(service=service, actor=personas.owner, metric="x", value=Decimal(1))


class _AutoBackend(StaffBackend):
    staff_fulfilled = False
    calls: list[str] = []

    def provision(self, service, *, secrets):
        self.calls.append(f"provision:{sorted(secrets)}")
        return BackendResult(done=True, backend_ref="ext-1", endpoints={"urls": ["https://cdn.example"]})

    def terminate(self, service):
        self.calls.append("terminate")
        return BackendResult(done=True)


def test_an_automated_backend_delivers_through_the_task(personas, shop, django_capture_on_commit_callbacks):
    backend = _AutoBackend()
    backend.calls = []
    backend_register(ServiceFamily.WEB_HOSTING, backend)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            service = service_row(personas, shop, active=False, secrets={"TOKEN": "t"})
        service.refresh_from_db()
        assert service.state == ServiceState.ACTIVE and service.backend_ref == "ext-1"
        assert service.endpoints["urls"] == ["https://cdn.example"]
        assert service.price_periods.filter(ended_at__isnull=True).count() == 1
        assert not selectors.fulfilment_queue().exists()
        with django_capture_on_commit_callbacks(execute=True):
            services.service_cancel(service=service, actor=personas.owner, confirm_name=service.name)
        assert backend.calls == ["provision:['TOKEN']", "terminate"]
        # A duplicated message finds nothing to do: the service no longer wants a provision.
        outcome = services.service_backend_call(service_id=service.pk, operation="provision", task_id="dup")
        assert outcome == services.CallOutcome.SKIPPED
    finally:
        backend_unregister(ServiceFamily.WEB_HOSTING)


def test_a_call_on_a_service_another_call_holds_is_busy(personas, shop):
    service = service_row(personas, shop, active=False)
    ManagedService.objects.filter(pk=service.pk).update(backend_task="other-task")
    outcome = services.service_backend_call(service_id=service.pk, operation="provision", task_id="mine")
    assert outcome == services.CallOutcome.BUSY


def test_the_live_services_quota_counts_live_services_only(personas, shop, settings):
    settings.MANAGED_DEFAULT_QUOTAS = {"max_services": 2}
    first = service_row(personas, shop, name="one")
    service_row(personas, shop, name="two", active=False)
    with pytest.raises(Conflict) as exc:
        service_row(personas, shop, name="three")
    assert exc.value.code == "quota_exceeded"
    services.service_cancel(service=first, actor=personas.owner, confirm_name=first.name)
    assert service_row(personas, shop, name="three").state == ServiceState.ACTIVE
    from apps.managed.models import ManagedServiceQuota

    ManagedServiceQuota.objects.create(organisation=personas.org, max_services=5)
    services.service_quota_check(organisation=personas.org, add=3)


def test_state_changes_are_signalled_once_committed(personas, shop, django_capture_on_commit_callbacks):
    from apps.managed.signals import service_state_changed

    seen: list[tuple[str, str]] = []

    def receiver(sender, *, service_id, before, after, **kwargs):
        seen.append((before, after))

    service_state_changed.connect(receiver, dispatch_uid="test-managed-signal")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            service = service_row(personas, shop)
        with django_capture_on_commit_callbacks(execute=True):
            services.service_cancel(service=service, actor=personas.owner, confirm_name=service.name)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict):
            services.service_cancel(service=service, actor=personas.owner, confirm_name=service.name)
    finally:
        service_state_changed.disconnect(dispatch_uid="test-managed-signal")
    assert seen == [("", "provisioning"), ("provisioning", "active"), ("active", "cancelled")]
