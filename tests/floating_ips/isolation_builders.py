"""Tenant-isolation walk (tests/teams/test_tenant_isolation.py): the floating IPs routes' URL keyword and bodies."""

from __future__ import annotations

from typing import Any


def _floating_ip(org: Any, personas: Any) -> Any:
    """An unassigned floating IP row of the organisation (no Proxmox needed: denials happen before any call)."""
    from decimal import Decimal

    from apps.floating_ips.models import FloatingIp
    from apps.infrastructure.models import IpAllocation, IpPool
    from tests.floating_ips.conftest import offer_ensure
    from tests.infrastructure.factories import DatacentreFactory

    existing = FloatingIp.objects.filter(organisation=org).first()
    if existing is not None:
        return existing.public_id
    dc = DatacentreFactory(code="ISO-1")
    pool = IpPool.objects.filter(datacentre=dc, family=4).first() or IpPool.objects.create(
        datacentre=dc, family=4, cidr="192.0.2.0/24", gateway="192.0.2.1"
    )
    address = f"192.0.2.{10 + org.pk % 200}"
    allocation = IpAllocation.objects.create(pool=pool, address=address, note="isolation")
    return FloatingIp.objects.create(
        organisation=org,
        project=org.projects.get(is_default=True),
        name=f"fip-{org.slug}",
        datacentre=dc,
        address=address,
        pool=pool,
        allocation=allocation,
        status="available",
        offer=offer_ensure(),
        price_hourly=Decimal("0.004110"),
        price_monthly=Decimal("3.00"),
    ).public_id


OBJECT_BUILDERS = {"floating_ip_id": _floating_ip}

WRITE_BODIES: dict[str, dict[str, Any]] = {
    "api:floating-ip-list": {"organisation_id": "{org_id}", "name": "probe", "datacentre": "NONE"},
    "api:floating-ip-assign": {"server_id": "{instance_id}"},
}
