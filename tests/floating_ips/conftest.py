"""Fixtures for floating IP tests: the add-on offer, servers in the shop's PAR-1 (IP pool 203.0.113.0/24).

``fip_env`` builds on the shared ``shop`` (PAR-1, its cluster, nodes and IP
pools) and ``personas``. ``server_row`` writes a server row (no Proxmox: the
service tests never run the task, whose on-commit callback is not executed).
The add-on offer comes from the app's data migration; a transactional test
flushes it, so ``offer_ensure`` writes it again like the migration does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from apps.catalogue.models import Offer, ProductFamily
from apps.instances.models import Instance
from tests.factories import Personas, Shop


@dataclass
class FipEnv:
    shop: Shop
    personas: Personas
    offer: Offer


def offer_ensure(price: str = "3.00") -> Offer:
    family, _ = ProductFamily.objects.get_or_create(slug="add-ons", defaults={"name": "Add-ons", "kind": "service"})
    offer, _ = Offer.objects.get_or_create(
        code=settings.FLOATING_IPS_OFFER_CODE,
        defaults={
            "family": family,
            "name": "Floating IPv4",
            "tier": "starter",
            "status": "retired",
            "description": "PLACEHOLDER PRICE",
            "price_monthly": Decimal(price),
            "price_hourly": Decimal("0.004110"),
        },
    )
    return offer


@pytest.fixture
def fip_env(shop: Shop, personas: Personas) -> FipEnv:
    return FipEnv(shop=shop, personas=personas, offer=offer_ensure())


def server_row(env: FipEnv, *, name: str = "web-1", status: str = "running", vmid: int = 100_500, **fields: Any):
    """A server row of Acme's default project in PAR-1 on the shop's cluster, with a public IPv4."""
    values: dict[str, Any] = {
        "organisation": env.personas.org,
        "project": env.personas.project,
        "name": name,
        "offer": env.shop.vps,
        "datacentre": env.shop.dc,
        "image": env.shop.image,
        "status": status,
        "cluster": env.shop.fleet["cluster"],
        "node_name": env.shop.fleet["nodes"][0].name,
        "vmid": vmid,
        "ipv4": f"198.51.100.{vmid % 200 + 1}",
        "price_hourly": Decimal("0.0137"),
        "price_monthly": Decimal("9.99"),
        "created_by": env.personas.owner,
    }
    values.update(fields)
    return Instance.objects.create(**values)


def create(env: FipEnv, name: str = "vip", **kwargs: Any):
    from apps.floating_ips import services

    kwargs.setdefault("datacentre", env.shop.dc)
    return services.floating_ip_create(
        actor=env.personas.owner, organisation=env.personas.org, project=env.personas.project, name=name, **kwargs
    )
