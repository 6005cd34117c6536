"""Fixtures and helpers of the metering / invoicing / credits tests (area A), imported explicitly by its modules."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from apps.catalogue import choices as cc
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.instances.services import instance_transition
from apps.teams.models import Organisation
from tests.factories import UserFactory, organisation_with_owner
from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory, OsImageFactory


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """``timezone.now()`` is ``moment`` inside the block (time stands still)."""
    with time_machine.travel(moment, tick=False):
        yield


@pytest.fixture
def offers(db) -> dict[str, Any]:
    """Two VPS plans, a GPU plan, a managed service and the snapshot storage offer (settings' code)."""
    dc = DatacentreFactory(code="TLL-1")
    vps = FamilyFactory(slug="vps", name="VPS")
    gpu = FamilyFactory(slug="gpu", name="GPU")
    storage = FamilyFactory(slug="storage", name="Storage", kind=cc.FamilyKind.MANAGED_SERVICE)
    db_family = FamilyFactory(slug="databases", name="Databases", kind=cc.FamilyKind.MANAGED_SERVICE)
    return {
        "dc": dc,
        "image": OsImageFactory(),
        # 5.00 / 730 = 0.00685 → 0.0068 per hour
        "small": OfferFactory(family=vps, code="VPS-S", price_hourly=Decimal("0.0068"), price_monthly=Decimal("5.00")),
        # 20.00 / 730 = 0.0274 per hour
        "large": OfferFactory(family=vps, code="VPS-L", price_hourly=Decimal("0.0274"), price_monthly=Decimal("20.00")),
        "gpu": OfferFactory(family=gpu, code="GPU-A", price_hourly=Decimal("1.2000"), price_monthly=Decimal("600.00")),
        "db": OfferFactory(
            family=db_family,
            code="DB-PG",
            price_hourly=Decimal("0.0411"),
            price_monthly=Decimal("30.00"),
            vcpu=None,
            ram_gb=None,
            disk_gb=None,
        ),
        "storage": OfferFactory(
            family=storage,
            code="STORAGE-SSD",
            billing_unit=cc.BillingUnit.GB_MONTH,
            price_hourly=Decimal("0.000137"),
            price_monthly=Decimal("0.10"),
            vcpu=None,
            ram_gb=None,
            disk_gb=None,
        ),
    }


def buyer(name: str, *, country: str, vat_id: str = "", legal_name: str = "") -> Organisation:
    """An organisation (default project, owner) with the billing identity given."""
    org = organisation_with_owner(UserFactory(email=f"owner-{name.lower()}@example.test"), name=name)
    org.country = country
    org.vat_id = vat_id
    org.legal_name = legal_name
    org.billing_email = f"billing-{name.lower()}@example.test"
    org.save()
    return org


def server(org: Organisation, offers: dict[str, Any], offer_key: str, name: str) -> Instance:
    """An instance row in ``provisioning`` (billing starts when it first runs)."""
    offer = offers[offer_key]
    return Instance.objects.create(
        organisation=org,
        project=org.projects.get(is_default=True),
        name=name,
        offer=offer,
        datacentre=offers["dc"],
        image=offers["image"],
        status=InstanceStatus.PROVISIONING,
        price_hourly=offer.price_hourly,
        price_monthly=offer.price_monthly,
    )


def move(instance: Instance, to: str, moment: datetime, **fields: Any) -> Instance:
    """``instance_transition`` at ``moment`` (the lifecycle services' own bookkeeping of price periods)."""
    with at(moment):
        instance.refresh_from_db()
        if to == InstanceStatus.DELETED:
            fields.setdefault("deleted_at", moment)
        return instance_transition(instance=instance, to=to, **fields)


def resize(instance: Instance, offer: Any, started: datetime, finished: datetime) -> Instance:
    """A resize asked at ``started`` and finished at ``finished`` (new price frozen from then)."""
    was = instance.status
    move(instance, InstanceStatus.RESIZING, started)
    return move(
        instance,
        was,
        finished,
        offer=offer,
        price_hourly=offer.price_hourly,
        price_monthly=offer.price_monthly,
    )


def pdf_text(data: bytes) -> str:
    """The text drawn in a PDF made by fpdf2 (inflates its content streams; enough for assertions)."""
    chunks = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        raw = match.group(1)
        with suppress(zlib.error):
            raw = zlib.decompress(raw)
        chunks += [m.decode("latin-1") for m in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", raw)]
    return " ".join(c.replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\") for c in chunks)


def usage(org: Organisation, *, hours: int, price: str, month: tuple[int, int] = (2026, 1), name: str = "vm") -> None:
    """``hours`` usage rows of one server of ``org`` from the 1st of ``month`` (no metering needed)."""
    import uuid
    from datetime import timedelta

    from apps.billing.models import UsageRecord

    resource = uuid.uuid4()
    start = utc(month[0], month[1], 1)
    UsageRecord.objects.bulk_create(
        [
            UsageRecord(
                organisation=org,
                project=org.projects.get(is_default=True),
                resource_type="instance",
                resource_id=resource,
                resource_name=name,
                description="VPS-X",
                hour=start + timedelta(hours=h),
                quantity=Decimal(1),
                unit_price=Decimal(price),
                amount=Decimal(price),
                monthly_cap=Decimal("1000.00"),
            )
            for h in range(hours)
        ]
    )


def issued_invoice(org: Organisation, *, hours: int = 100, price: str = "1.00", month: tuple[int, int] = (2026, 1)):
    """Usage, draft and issue (on the 2nd of the next month); returns the issued invoice."""
    from datetime import date

    from apps.billing.services.invoicing import invoice_draft_build, invoice_issue

    usage(org, hours=hours, price=price, month=month)
    year, mon = (month[0] + month[1] // 12, month[1] % 12 + 1)
    with at(utc(year, mon, 2, 3)):
        draft = invoice_draft_build(organisation=org, month=date(*month, 1))
        assert draft is not None
        return invoice_issue(invoice=draft, actor=None)
