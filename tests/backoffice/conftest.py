"""The back office's world: staff in each role, and an organisation with something in every queue.

``desk`` builds on the shared ``personas`` and ``shop`` (tests/conftest.py): Acme gets servers, a
failed order, a GPU order held for review, a managed-service order to deliver, an overdue invoice
and a billing account in dunning; the fleet gets a drift finding, a drained node and a faulty GPU.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.backoffice.rules import roles
from apps.backoffice.services import staff_roles_apply
from apps.billing.models import BillingAccount, Invoice, VatRate
from apps.infrastructure.models import GpuDevice, Node, Reservation
from apps.instances.models import Drift, Instance
from apps.orders.models import Order
from apps.teams.models import Organisation
from tests.factories import Personas, Shop, UserFactory, server_row


@dataclass
class Desk:
    personas: Personas
    shop: Shop
    staff: dict[str, Any]  # role -> user
    org: Organisation
    servers: list[Instance]
    failed_order: Order
    gpu_order: Order
    invoice: Invoice
    drained: Node


def staff_member(role: str) -> Any:
    """A staff user in the group of ``role`` (a superuser is the flag, as Django means it)."""
    if role == roles.SUPERUSER:
        user = UserFactory(email=f"{role}@vmcloud.test", is_staff=True, is_superuser=True)
    else:
        user = UserFactory(email=f"{role}@vmcloud.test", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def server_add(personas: Personas, shop: Shop, n: int) -> Instance:
    """Acme's running server number ``n`` (``web-<n>``, VMID 1000 + n, 203.0.113.<10 + n>), created by no one."""
    return server_row(personas, shop, name=f"web-{n}", vmid=1000 + n, ipv4=f"203.0.113.{10 + n}", created_by=None)


def gpu_server_add(personas: Personas, shop: Shop) -> Instance:
    """A GPU server on the first node holding its first GPU through a committed reservation."""
    node, gpu = shop.fleet["nodes"][0], shop.fleet["gpus"][0]
    reservation = Reservation.objects.create(
        state="committed",
        offer=shop.gpu,
        datacentre=shop.dc,
        cluster=node.cluster,
        node=node,
        vmid=2000,
        vcpu=8,
        ram_gb=32,
        gpu_model=gpu.gpu_model,
        gpu_count=1,
    )
    GpuDevice.objects.filter(pk=gpu.pk).update(state="in_use", reservation=reservation)
    Node.objects.filter(pk=node.pk).update(allocated_vcpu=8, allocated_ram_gb=32)
    server = server_add(personas, shop, 200)
    Instance.objects.filter(pk=server.pk).update(
        name="gpu-box", offer=shop.gpu, reservation=reservation, vmid=2000, ipv4=None
    )
    return server


def _order(personas: Personas, shop: Shop, **fields: Any) -> Order:
    return Order.objects.create(
        organisation=personas.org,
        project=personas.project,
        datacentre=shop.dc,
        price_hourly=Decimal("0.0137"),
        price_monthly=Decimal("9.99"),
        created_by=personas.owner,
        **fields,
    )


@pytest.fixture
def desk(personas: Personas, shop: Shop) -> Desk:
    staff_roles_apply()  # again: a transactional test's flush empties the groups the migration made
    # The seller's VAT rate (a data migration's row, flushed the same way) so the month's spend is rated.
    VatRate.objects.get_or_create(country=settings.BILLING_SELLER["country"], defaults={"rate": Decimal("22.00")})
    staff = {role: staff_member(role) for role in (roles.SUPPORT, roles.OPERATIONS, roles.FINANCE, roles.SUPERUSER)}
    servers = [server_add(personas, shop, n) for n in range(3)]
    failed = _order(personas, shop, offer=shop.vps, name="failed-1", state="failed", error_message="No capacity.")
    gpu = _order(
        personas, shop, offer=shop.gpu, name="gpu-1", state="awaiting_approval", flags=["gpu_new_organisation"]
    )
    _order(personas, shop, offer=shop.service, name="site-1", state="provisioning", fulfilment_status="queued")
    now = timezone.now()
    invoice = Invoice.objects.create(
        organisation=personas.org,
        number="VMC-2026-000123",
        status="open",
        period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 10, 31),
        issued_at=now - dt.timedelta(days=30),
        due_at=now - dt.timedelta(days=16),
        total=Decimal("120.00"),
        amount_due=Decimal("120.00"),
    )
    BillingAccount.objects.update_or_create(
        organisation=personas.org,
        defaults={"dunning_state": "past_due", "past_due_since": now - dt.timedelta(days=16), "reminders_sent": 1},
    )
    Drift.objects.create(cluster=shop.fleet["cluster"], vmid=4242, node_name="pve-x", kind="orphan")
    gpu_server_add(personas, shop)
    drained = shop.fleet["nodes"][1]
    Node.objects.filter(pk=drained.pk).update(maintenance=True, maintenance_reason="RAM swap")
    drained.refresh_from_db()
    return Desk(personas, shop, staff, personas.org, servers, failed, gpu, invoice, drained)
