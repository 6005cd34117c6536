"""Hourly metering: one ``meter_hour`` over 10,000 running instances (goal: <= 5 s).

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/metering_bench.py [--count 10000]

The database is a throwaway PostgreSQL one (``test_vmcloud_meterbench``,
recreated each run). 10,000 instances with an open price period each (plus one
snapshot per ten instances) are bulk-inserted, then one closed hour is metered
(three set-based INSERT … SELECT … ON CONFLICT DO NOTHING statements in one
transaction) and metered again (must insert nothing).

Printed: the duration of the metering run, usage rows written and rows per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import logging

import django

django.setup()
logging.disable(logging.WARNING)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

BENCH_DB = "test_vmcloud_meterbench"


def _database() -> None:
    if connection.vendor != "postgresql":
        sys.exit("metering_bench needs PostgreSQL (DJANGO_SETTINGS_MODULE=config.settings.test).")
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    # A fresh database each run: a kept one goes stale when migrations change.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    call_command("flush", interactive=False, verbosity=0)


def _world(count: int, start: datetime) -> None:
    from django.conf import settings

    from apps.accounts.models import User
    from apps.catalogue import choices as cc
    from apps.catalogue.models import Datacentre, Offer, OsImage, ProductFamily
    from apps.instances.models import Instance, InstancePricePeriod, Snapshot
    from apps.teams.services import organisation_create

    dc = Datacentre.objects.create(code="TLL-1", name="Tallinn", city="Tallinn", country="EE", tier="III+")
    vps = ProductFamily.objects.create(slug="vps", name="VPS", kind=cc.FamilyKind.VIRTUAL_MACHINE)
    storage = ProductFamily.objects.create(slug="storage", name="Storage", kind=cc.FamilyKind.MANAGED_SERVICE)
    image = OsImage.objects.create(slug="ubuntu-24.04", family="Ubuntu", version="24.04", os_type="linux")
    offer = Offer.objects.create(
        family=vps,
        code="VPS-BENCH",
        tier=cc.Tier.values[0],
        name="VPS bench",
        vcpu=1,
        ram_gb=1,
        disk_gb=10,
        price_hourly=Decimal("0.0068"),
        price_monthly=Decimal("5.00"),
    )
    Offer.objects.create(
        family=storage,
        code=settings.BILLING_SNAPSHOT_OFFER_CODE,
        tier=cc.Tier.values[0],
        name="Storage",
        billing_unit=cc.BillingUnit.GB_MONTH,
        price_hourly=Decimal("0.000137"),
        price_monthly=Decimal("0.10"),
    )
    owners = [User.objects.create_user(email=f"bench{i}@example.test", password="x") for i in range(10)]  # noqa: S106
    orgs = [organisation_create(name=f"Bench {i}", owner=o, actor=o) for i, o in enumerate(owners)]
    projects = [org.projects.get() for org in orgs]
    instances = Instance.objects.bulk_create(
        [
            Instance(
                organisation=orgs[i % 10],
                project=projects[i % 10],
                name=f"bench-{i:05d}",
                offer=offer,
                datacentre=dc,
                image=image,
                status="running",
                price_hourly=offer.price_hourly,
                price_monthly=offer.price_monthly,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    InstancePricePeriod.objects.bulk_create(
        [
            InstancePricePeriod(
                instance=vm,
                offer=offer,
                price_hourly=offer.price_hourly,
                price_monthly=offer.price_monthly,
                started_at=start,
            )
            for vm in instances
        ],
        batch_size=2000,
    )
    Snapshot.objects.bulk_create(
        [
            Snapshot(instance=vm, name="daily", proxmox_name=f"s{vm.pk}", size_gb=20, status="available")
            for vm in instances[::10]
        ],
        batch_size=2000,
    )
    Snapshot.objects.update(created_at=start)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()

    from apps.billing.models import UsageRecord
    from apps.billing.services.metering import meter_hour

    _database()
    start = datetime(2026, 3, 1, tzinfo=UTC)
    _world(args.count, start)
    hour = start + timedelta(hours=5)

    started = time.perf_counter()
    result = meter_hour(hour=hour)
    elapsed = time.perf_counter() - started
    again = time.perf_counter()
    repeat = meter_hour(hour=hour)
    elapsed_again = time.perf_counter() - again

    rows = UsageRecord.objects.filter(hour=hour).count()
    print(f"running instances:        {args.count} (+ {args.count // 10} snapshots)")
    print(f"one hourly metering run:  {elapsed:.2f} s  ({rows} usage rows, {rows / elapsed:,.0f} rows/s; goal <= 5 s)")
    print(f"same hour again:          {elapsed_again:.2f} s  ({repeat.records_created} rows: idempotent)")
    if rows != args.count + args.count // 10 or result.records_created != rows or repeat.records_created:
        sys.exit("error: the metering run did not write exactly one row per resource")


if __name__ == "__main__":
    main()
