"""Fixtures of the costs, estimates and budgets tests (area C): usage rows written directly, personas.

Import what you use explicitly in the test module (``from tests.billing.fixtures_costs import costs_world``).
Usage rows are created here rather than by the metering run, so these tests do not depend on it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from apps.billing.choices import ResourceType
from apps.billing.models import UsageRecord
from apps.instances.models import Instance, InstancePricePeriod
from apps.teams.choices import Role
from apps.teams.models import Organisation, Project
from apps.teams.services import organisation_create
from tests.factories import UserFactory, member
from tests.infrastructure.factories import (
    DatacentreFactory,
    FamilyFactory,
    GpuModelFactory,
    OfferFactory,
    OsImageFactory,
)

NOW = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)  # 346 hours of January are over; 398 are left
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class CostsWorld:
    org: Any
    project: Any
    owner: Any
    billing: Any
    admin: Any
    member: Any
    viewer: Any
    other_org: Any
    outsider: Any


@pytest.fixture
def costs_world(db) -> CostsWorld:
    owner = UserFactory(email="owner@costs.test")
    org = organisation_create(name="Costly", owner=owner, actor=owner)
    org.country = "EE"
    org.billing_email = "accounts@costs.test"
    org.save(update_fields=["country", "billing_email"])
    outsider = UserFactory(email="outsider@other.test")
    other = organisation_create(name="Othercorp", owner=outsider, actor=outsider)
    return CostsWorld(
        org=org,
        project=org.projects.get(is_default=True),
        owner=owner,
        billing=member(org, Role.BILLING, email="billing@costs.test"),
        admin=member(org, Role.ADMIN, email="admin@costs.test"),
        member=member(org, Role.MEMBER, email="member@costs.test"),
        viewer=member(org, Role.VIEWER, email="viewer@costs.test"),
        other_org=other,
        outsider=outsider,
    )


def usage(
    *,
    organisation: Organisation,
    project: Project,
    resource_id: Any,
    name: str,
    start: datetime,
    hours: int,
    unit_price: Decimal | str,
    cap: Decimal | str | None,
    resource_type: str = ResourceType.INSTANCE,
    description: str = "VPS-S",
    quantity: Decimal | str = "1",
) -> list[UsageRecord]:
    """``hours`` consecutive hourly usage rows from ``start`` (what the metering run would write)."""
    price = Decimal(unit_price)
    qty = Decimal(quantity)
    rows = [
        UsageRecord(
            organisation=organisation,
            project=project,
            resource_type=resource_type,
            resource_id=resource_id,
            resource_name=name,
            description=description,
            hour=start + timedelta(hours=h),
            quantity=qty,
            unit_price=price,
            amount=price * qty,
            monthly_cap=Decimal(cap) if cap is not None else None,
        )
        for h in range(hours)
    ]
    return UsageRecord.objects.bulk_create(rows)


def instance_row(
    *,
    organisation: Organisation,
    project: Project,
    name: str,
    price_hourly: str = "0.05",
    price_monthly: str = "29.00",
    status: str = "running",
    gpu: bool = False,
    billed_from: datetime | None = JAN_1,
    created_by: Any = None,
) -> Instance:
    """An instance row (no Proxmox) with an open price period from ``billed_from``."""
    family = FamilyFactory(slug="gpu" if gpu else "vps", name="GPU" if gpu else "VPS")
    offer_kwargs: dict[str, Any] = {}
    if gpu:
        offer_kwargs = {"gpu_model": GpuModelFactory(slug="a100-costs", name="A100"), "gpu_count": 1}
    offer = OfferFactory(
        family=family,
        code=f"C-{name.upper()}",
        price_hourly=Decimal(price_hourly),
        price_monthly=Decimal(price_monthly),
        **offer_kwargs,
    )
    instance = Instance.objects.create(
        organisation=organisation,
        project=project,
        name=name,
        offer=offer,
        datacentre=DatacentreFactory(code="PAR-1"),
        image=OsImageFactory(slug="ubuntu-24.04"),
        status=status,
        price_hourly=Decimal(price_hourly),
        price_monthly=Decimal(price_monthly),
        created_by=created_by,
    )
    if billed_from is not None:
        InstancePricePeriod.objects.create(
            instance=instance,
            offer=offer,
            price_hourly=Decimal(price_hourly),
            price_monthly=Decimal(price_monthly),
            started_at=billed_from,
        )
    return instance


@dataclass
class WebhookReceiver:
    """A loopback HTTP server recording the requests it receives; answers ``statuses`` in turn, then 200."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def webhook_receiver(settings) -> Any:
    settings.BILLING_BUDGET_WEBHOOK_ALLOW_LOOPBACK = True
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/budget"
    yield receiver
    server.shutdown()
    server.server_close()
