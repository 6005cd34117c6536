"""Block storage volumes are metered per GB-hour from creation to deletion, attached or not, capped monthly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.billing.choices import ResourceType
from apps.billing.models import UsageRecord
from apps.billing.selectors.usage import rate_month
from apps.billing.services.metering import meter_catch_up, meter_hour
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from apps.volumes.services.volumes import volume_prices
from tests.billing.fixtures_invoices import at, utc
from tests.volumes.conftest import volumes_env  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _volume(env, *, name: str = "data", size_gb: int = 100, **fields) -> Volume:
    hourly, monthly = volume_prices(tier=env.tier, size_gb=size_gb)
    values = {
        "organisation": env.personas.org,
        "project": env.personas.project,
        "name": name,
        "tier": env.tier,
        "size_gb": size_gb,
        "datacentre": env.shop.dc,
        "status": VolumeStatus.AVAILABLE,
        "volid": f"ceph-nvme:vm-899999-disk-{name}",
        "price_hourly": hourly,
        "price_monthly": monthly,
    }
    values.update(fields)
    return Volume.objects.create(**values)


def test_a_volume_is_billed_its_gb_every_hour_from_creation_to_deletion(volumes_env):  # noqa: F811
    with at(utc(2026, 3, 1, 0, 40)):
        volume = _volume(volumes_env, size_gb=100)  # 100 GB × 0.15 = 15.00 a month, 0.020548 an hour
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.DELETED, deleted_at=utc(2026, 3, 1, 2, 10))
    for h in range(4):
        meter_hour(hour=utc(2026, 3, 1, h))
    rows = list(
        UsageRecord.objects.order_by("hour").values_list(
            "resource_type", "resource_id", "hour", "quantity", "unit_price", "amount", "monthly_cap"
        )
    )
    hour = (ResourceType.VOLUME, volume.public_id)
    cost = (Decimal("100.000"), Decimal("0.000205"), Decimal("0.020548"), Decimal("15.00"))
    assert rows == [(*hour, utc(2026, 3, 1, h), *cost) for h in range(3)]


def test_a_volume_that_never_got_a_disk_is_never_billed_and_catch_up_starts_at_the_first_volume(volumes_env):  # noqa: F811
    with at(utc(2026, 3, 1, 5, 10)):
        _volume(volumes_env, name="failed", status=VolumeStatus.ERROR, volid="")
        kept = _volume(volumes_env, name="kept", size_gb=10, server=None)
    results = meter_catch_up(now=utc(2026, 3, 1, 8, 5))
    assert [r.hour for r in results] == [utc(2026, 3, 1, h) for h in range(5, 8)]
    assert set(UsageRecord.objects.values_list("resource_id", flat=True)) == {kept.public_id}


def test_a_month_of_volume_hours_costs_at_most_its_monthly_price(volumes_env):  # noqa: F811
    with at(utc(2026, 3, 1, 0, 0)):
        volume = _volume(volumes_env, size_gb=100)
    # 744 hours in March at 0.020548 would be 15.29: the month is capped at 15.00.
    UsageRecord.objects.bulk_create(
        UsageRecord(
            organisation=volume.organisation,
            project=volume.project,
            resource_type=ResourceType.VOLUME,
            resource_id=volume.public_id,
            resource_name=volume.name,
            description=volume.tier.code,
            hour=utc(2026, 3, 1, 0) + (utc(2026, 3, 1, 1) - utc(2026, 3, 1, 0)) * h,
            quantity=Decimal("100"),
            unit_price=Decimal("0.000205"),
            amount=volume.price_hourly,
            monthly_cap=volume.price_monthly,
        )
        for h in range(744)
    )
    lines = rate_month(organisation_id=volume.organisation_id, month=date(2026, 3, 1))
    assert sum((line.amount for line in lines), Decimal("0")) == Decimal("15.00")


def test_a_floating_ip_is_billed_one_unit_an_hour_from_reservation_to_release(volumes_env):  # noqa: F811
    from apps.floating_ips.models import FloatingIp
    from apps.infrastructure.models import IpPool
    from tests.floating_ips.conftest import offer_ensure

    addon = offer_ensure()  # the add-on offer at its placeholder price (demo data)
    pool = IpPool.objects.filter(datacentre=volumes_env.shop.dc, family=4).first()
    with at(utc(2026, 3, 1, 0, 15)):
        fip = FloatingIp.objects.create(
            organisation=volumes_env.personas.org,
            project=volumes_env.personas.project,
            name="web-vip",
            datacentre=volumes_env.shop.dc,
            address="203.0.113.77",
            pool=pool,
            offer=addon,
            price_hourly=Decimal("0.004110"),
            price_monthly=Decimal("3.00"),
        )
    FloatingIp.objects.filter(pk=fip.pk).update(deleted_at=utc(2026, 3, 1, 1, 30))
    for h in range(3):
        meter_hour(hour=utc(2026, 3, 1, h))
    rows = list(
        UsageRecord.objects.filter(resource_type=ResourceType.FLOATING_IP)
        .order_by("hour")
        .values_list("resource_name", "hour", "amount", "monthly_cap", "description")
    )
    name = "web-vip (203.0.113.77)"
    assert rows == [(name, utc(2026, 3, 1, h), Decimal("0.004110"), Decimal("3.00"), "FLOATING-IPV4") for h in range(2)]
