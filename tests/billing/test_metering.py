"""Hourly metering: started hours, frozen prices, resize inside an hour, idempotence, catch-up, snapshots, services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from apps.billing.choices import ResourceType
from apps.billing.models import MeteringRun, UsageRecord
from apps.billing.services.metering import meter_catch_up, meter_hour
from apps.instances.choices import InstanceStatus, SnapshotStatus
from apps.instances.models import Snapshot
from tests.billing.fixtures_invoices import at, buyer, move, offers, resize, server, utc  # noqa: F401
from tests.managed.factories import service_billed

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def test_server_is_billed_per_started_hour_at_its_frozen_price(offers):  # noqa: F811
    org = buyer("Acme", country="EE")
    vm = server(org, offers, "small", "web-1")
    move(vm, InstanceStatus.RUNNING, utc(2026, 3, 2, 10, 40))
    for hour in (utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), utc(2026, 3, 2, 11)):
        meter_hour(hour=hour)
    rows = list(UsageRecord.objects.values_list("hour", "unit_price", "amount", "monthly_cap", "resource_name"))
    # 09:00 is before the server ran; 10:40 starts the 10:00 hour.
    assert rows == [
        (utc(2026, 3, 2, 10), Decimal("0.0068"), Decimal("0.0068"), Decimal("5.00"), "web-1"),
        (utc(2026, 3, 2, 11), Decimal("0.0068"), Decimal("0.0068"), Decimal("5.00"), "web-1"),
    ]
    record = UsageRecord.objects.first()
    assert record.organisation == org and record.description == "VPS-S" and record.resource_id == vm.public_id


def test_running_an_hour_twice_changes_nothing(offers):  # noqa: F811
    org = buyer("Acme", country="EE")
    for i in range(3):
        move(server(org, offers, "small", f"vm-{i}"), InstanceStatus.RUNNING, utc(2026, 3, 1))
    first = meter_hour(hour=utc(2026, 3, 1, 5))
    before = list(UsageRecord.objects.order_by("id").values())
    second = meter_hour(hour=utc(2026, 3, 1, 5))
    assert (first.records_created, second.records_created) == (3, 0)
    assert list(UsageRecord.objects.order_by("id").values()) == before
    run = MeteringRun.objects.get()
    assert run.hour == utc(2026, 3, 1, 5) and run.records_created == 3


def test_stopped_server_keeps_billing_and_deleted_server_stops(offers):  # noqa: F811
    org = buyer("Acme", country="EE")
    vm = server(org, offers, "small", "db-1")
    move(vm, InstanceStatus.RUNNING, utc(2026, 3, 1, 0))
    move(vm, InstanceStatus.STOPPED, utc(2026, 3, 1, 1, 30))
    move(vm, InstanceStatus.DELETING, utc(2026, 3, 1, 3, 10))
    move(vm, InstanceStatus.DELETED, utc(2026, 3, 1, 3, 20))
    for h in range(6):
        meter_hour(hour=utc(2026, 3, 1, h))
    # Hours 0, 1, 2 (stopped: still billed) and 3 (deleted at 03:20: a started hour); nothing after.
    assert sorted(UsageRecord.objects.values_list("hour", flat=True)) == [utc(2026, 3, 1, h) for h in range(4)]


def test_resize_inside_an_hour_bills_that_hour_once_at_the_new_price(offers):  # noqa: F811
    org = buyer("Acme", country="EE")
    vm = server(org, offers, "small", "app")
    move(vm, InstanceStatus.RUNNING, utc(2026, 3, 1, 0))
    resize(vm, offers["large"], utc(2026, 3, 1, 2, 10), utc(2026, 3, 1, 2, 15))
    for h in range(4):
        meter_hour(hour=utc(2026, 3, 1, h))
    prices = list(UsageRecord.objects.order_by("hour").values_list("hour", "unit_price", "monthly_cap"))
    assert prices == [
        (utc(2026, 3, 1, 0), Decimal("0.0068"), Decimal("5.00")),
        (utc(2026, 3, 1, 1), Decimal("0.0068"), Decimal("5.00")),
        (utc(2026, 3, 1, 2), Decimal("0.0274"), Decimal("20.00")),
        (utc(2026, 3, 1, 3), Decimal("0.0274"), Decimal("20.00")),
    ]


def test_snapshot_storage_is_billed_per_gb_hour_until_deleted(offers):  # noqa: F811
    org = buyer("Acme", country="EE")
    vm = server(org, offers, "small", "vm")
    with at(utc(2026, 3, 1, 0, 30)):
        kept = Snapshot.objects.create(instance=vm, name="before-upgrade", proxmox_name="s1", size_gb=20)
        Snapshot.objects.create(instance=vm, name="failed", proxmox_name="s2", size_gb=20, status=SnapshotStatus.ERROR)
        Snapshot.objects.create(instance=vm, name="empty", proxmox_name="s3", size_gb=0)
    Snapshot.objects.filter(pk=kept.pk).update(status=SnapshotStatus.DELETED, deleted_at=utc(2026, 3, 1, 1, 5))
    for h in range(3):
        meter_hour(hour=utc(2026, 3, 1, h))
    rows = list(UsageRecord.objects.values_list("resource_type", "hour", "quantity", "unit_price", "amount"))
    assert rows == [
        (ResourceType.SNAPSHOT, utc(2026, 3, 1, 0), Decimal("20.000"), Decimal("0.000137"), Decimal("0.002740")),
        (ResourceType.SNAPSHOT, utc(2026, 3, 1, 1), Decimal("20.000"), Decimal("0.000137"), Decimal("0.002740")),
    ]
    assert UsageRecord.objects.first().monthly_cap is None


def test_managed_service_is_billed_from_delivery_to_its_end(offers):  # noqa: F811
    org = buyer("Acme", country="EE")
    order = service_billed(
        organisation=org,
        offer=offers["db"],
        name="orders-db",
        price_hourly=Decimal("0.041100"),
        price_monthly=Decimal("30.00"),
        started_at=utc(2026, 3, 1, 1, 59),
        ended_at=utc(2026, 3, 1, 3),
    )
    for h in range(5):
        meter_hour(hour=utc(2026, 3, 1, h))
    rows = list(UsageRecord.objects.values_list("resource_type", "resource_id", "hour", "amount", "monthly_cap"))
    assert rows == [
        (ResourceType.SERVICE, order.public_id, utc(2026, 3, 1, 1), Decimal("0.041100"), Decimal("30.00")),
        (ResourceType.SERVICE, order.public_id, utc(2026, 3, 1, 2), Decimal("0.041100"), Decimal("30.00")),
    ]


def test_missed_hours_are_caught_up(offers):  # noqa: F811
    org = buyer("Acme", country="EE")
    vm = server(org, offers, "small", "vm")
    move(vm, InstanceStatus.RUNNING, utc(2026, 3, 1, 0, 20))
    # First run ever: from the earliest billable start to the last closed hour.
    results = meter_catch_up(now=utc(2026, 3, 1, 3, 5))
    assert [r.hour for r in results] == [utc(2026, 3, 1, h) for h in range(3)]
    # The beat misses 03:00 to 06:00; the next run catches every hour up, once.
    results = meter_catch_up(now=utc(2026, 3, 1, 7, 1))
    assert [r.hour for r in results] == [utc(2026, 3, 1, h) for h in range(3, 7)]
    assert meter_catch_up(now=utc(2026, 3, 1, 7, 59)) == []
    assert UsageRecord.objects.count() == 7
    assert MeteringRun.objects.count() == 7


def test_first_catch_up_looks_back_31_days_at_most(offers):  # noqa: F811
    org = buyer("Acme", country="EE")
    move(server(org, offers, "small", "old"), InstanceStatus.RUNNING, utc(2025, 12, 1))
    results = meter_catch_up(now=utc(2026, 3, 1, 0, 30))
    assert results[0].hour == utc(2026, 3, 1) - timedelta(days=31)
    assert results[-1].hour == utc(2026, 2, 28, 23)
    assert len(results) == 31 * 24


def test_meter_task_runs_the_catch_up(offers):  # noqa: F811
    from apps.billing.tasks.invoicing import meter

    org = buyer("Acme", country="EE")
    move(server(org, offers, "small", "vm"), InstanceStatus.RUNNING, utc(2026, 3, 1, 0))
    with at(utc(2026, 3, 1, 2, 1)):
        assert meter() == 2
        assert meter() == 0
