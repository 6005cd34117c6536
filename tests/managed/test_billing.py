"""Billing of managed services (issue 14): from delivery to the hour it ends, servers' cap rule, tier changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from apps.billing.choices import DunningState, ResourceType
from apps.billing.models import DunningPolicy, UsageRecord, VatRate
from apps.billing.selectors import costs
from apps.billing.selectors.usage import rate_month
from apps.billing.services import billing_account_for, dunning, payments
from apps.billing.services.metering import meter_hour
from apps.managed import services
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService
from tests.billing.fixtures_invoices import at, utc
from tests.billing.fixtures_payments import make_invoice, org  # noqa: F401  # fixtures
from tests.managed.factories import service_billed, service_row, tier_offer

pytestmark = pytest.mark.django_db


def _hours(service: ManagedService) -> list[tuple[int, Decimal]]:
    return [
        (hour.hour, amount)
        for hour, amount in UsageRecord.objects.filter(
            resource_type=ResourceType.SERVICE, resource_id=service.public_id
        )
        .order_by("hour")
        .values_list("hour", "amount")
    ]


def test_a_service_cancelled_at_10_20_is_billed_through_the_10_00_hour_and_not_after(personas, shop):
    with at(utc(2026, 3, 2, 8, 5)):
        service = service_row(personas, shop)
    with at(utc(2026, 3, 2, 10, 20)):
        services.service_cancel(service=service, actor=personas.owner, confirm_name=service.name)
    for h in range(7, 14):
        meter_hour(hour=utc(2026, 3, 2, h))
    rate = shop.service.price_hourly
    assert _hours(service) == [(8, rate), (9, rate), (10, rate)]


def test_a_service_never_delivered_is_never_billed(personas, shop):
    with at(utc(2026, 3, 2, 8, 5)):
        service = service_row(personas, shop, active=False)
    for h in range(8, 11):
        meter_hour(hour=utc(2026, 3, 2, h))
    assert _hours(service) == []


def test_a_tier_change_bills_the_new_price_from_the_hour_of_the_change(personas, shop):
    pro = tier_offer(shop, monthly="14.60", hourly="0.02")
    with at(utc(2026, 3, 2, 8, 5)):
        service = service_row(personas, shop)
    with at(utc(2026, 3, 2, 9, 30)):
        services.service_change_tier(service=service, actor=personas.owner, offer=pro)
    with at(utc(2026, 3, 2, 9, 45)):
        services.service_deliver(service=service, actor=personas.staff, endpoints={}, notes="moved")
    for h in range(8, 12):
        meter_hour(hour=utc(2026, 3, 2, h))
    old = shop.service.price_hourly
    assert _hours(service) == [(8, old), (9, Decimal("0.020000")), (10, Decimal("0.020000")), (11, Decimal("0.020000"))]


def test_the_month_is_capped_at_the_tier_monthly_price(personas, shop):
    service = service_billed(
        organisation=personas.org,
        offer=shop.service,
        started_at=utc(2026, 3, 1, 0, 0),
        price_hourly=Decimal("1.000000"),
        price_monthly=Decimal("5.00"),
    )
    for h in range(10):
        meter_hour(hour=utc(2026, 3, 1, h))
    assert len(_hours(service)) == 10
    lines = rate_month(organisation_id=personas.org.pk, month=dt.date(2026, 3, 1))
    assert sum(line.amount for line in lines if line.resource_id == service.public_id) == Decimal("5.00")


def test_costs_forecast_follows_the_open_price_period(personas, shop):
    # The rates come from billing's data migration; a transactional test elsewhere may have flushed them.
    VatRate.objects.get_or_create(country=personas.org.country or "EE", defaults={"rate": Decimal("22.00")})
    now = timezone.now()
    service_row(personas, shop)
    summary = costs.cost_summary(organisation=personas.org, now=now)
    services_forecast = [r for r in summary.resources if r.resource_type == ResourceType.SERVICE]
    assert len(services_forecast) == 1 and services_forecast[0].forecast > 0


def test_dunning_termination_ends_every_service_through_service_terminate(org):  # noqa: F811
    from tests.factories import shop_create

    shop = shop_create(nodes=1)
    DunningPolicy.objects.create(reminder_days=[1], suspend_after_days=14, terminate_after_days=30)
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(days=45)
    live = service_billed(organisation=org, offer=shop.service, started_at=t0 - dt.timedelta(days=20), name="a")
    ManagedService.objects.filter(pk=live.pk).update(delete_protection=True)
    provisioning = ManagedService.objects.create(
        organisation=org, project=org.projects.first(), offer=shop.service, family="web_hosting", name="b"
    )
    invoice = make_invoice(org, issued_at=t0 - dt.timedelta(days=14), due_at=t0)
    payments.invoice_payment_failed(invoice=invoice, at=t0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        dunning.dunning_run(now=t0 + dt.timedelta(days=14))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert dunning.dunning_run(now=t0 + dt.timedelta(days=30)) == {"terminated": 1}
    assert billing_account_for(organisation=org).dunning_state == DunningState.TERMINATED
    for service in (live, provisioning):
        service.refresh_from_db()
        assert service.state == ServiceState.TERMINATED and service.ended_at is not None
        assert service.transitions.last().reason == "Terminated for non-payment."
    assert live.price_periods.get().ended_at == live.ended_at


def test_dunning_suspension_suspends_services_and_paying_resumes_only_those(org, staff_user):  # noqa: F811
    from tests.factories import shop_create

    shop = shop_create(nodes=1)
    DunningPolicy.objects.create(reminder_days=[1], suspend_after_days=14, terminate_after_days=30)
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(days=45)
    serving = service_billed(organisation=org, offer=shop.service, started_at=t0 - dt.timedelta(days=20), name="a")
    by_staff = service_billed(organisation=org, offer=shop.service, started_at=t0 - dt.timedelta(days=20), name="b")
    services.service_suspend(service=by_staff, actor=staff_user, reason="abuse")
    invoice = make_invoice(org, issued_at=t0 - dt.timedelta(days=14), due_at=t0)
    payments.invoice_payment_failed(invoice=invoice, at=t0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        dunning.dunning_run(now=t0 + dt.timedelta(days=14))
    assert billing_account_for(organisation=org).dunning_state == DunningState.SUSPENDED
    serving.refresh_from_db()
    assert serving.state == ServiceState.SUSPENDED and serving.price_periods.get().ended_at is None  # still billed
    with TestCase.captureOnCommitCallbacks(execute=True):
        payments.invoice_mark_paid(invoice=invoice, actor=staff_user)
    assert billing_account_for(organisation=org).dunning_state == DunningState.GOOD
    serving.refresh_from_db()
    by_staff.refresh_from_db()
    assert serving.state == ServiceState.ACTIVE
    assert by_staff.state == ServiceState.SUSPENDED  # staff's own suspension stays
