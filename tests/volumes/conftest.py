"""Fixtures for volume tests: a STORAGE tier, the storage a cluster declares for it, and servers.

``volumes_env`` builds on the shared ``shop`` (PAR-1, its cluster and nodes): a
STORAGE-NVME tier (0.15 a GB-month, 50K IOPS per TB) sold in PAR-1 and the
cluster's ``ceph-nvme`` declared for it, 1000 GB at the 60 % envelope (600 GB
reservable). ``server_row`` writes a server row (no Proxmox needed: the service
tests never run the task, whose on-commit callback is not executed).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from apps.catalogue import choices as catalogue_choices
from apps.infrastructure.models import ClusterStorage
from tests import factories
from tests.factories import Personas, Shop
from tests.infrastructure.factories import FamilyFactory, OfferFactory

HOLDER = 899_999


@dataclass
class VolumesEnv:
    shop: Shop
    personas: Personas
    tier: Any
    storage: ClusterStorage


def storage_tier(dc: Any, *, code: str = "STORAGE-NVME", iops: int = 50_000, price: str = "0.15") -> Any:
    family = FamilyFactory(slug="storage", name="Storage", kind=catalogue_choices.FamilyKind.VIRTUAL_MACHINE)
    tier = OfferFactory(
        family=family,
        code=code,
        vcpu=None,
        ram_gb=None,
        disk_gb=None,
        storage_iops_per_tb=iops,
        billing_unit="gb_month",
        price_monthly=Decimal(price),
        price_hourly=Decimal("0"),
    )
    tier.datacentres.add(dc)
    return tier


@pytest.fixture
def volumes_env(shop: Shop, personas: Personas) -> VolumesEnv:
    tier = storage_tier(shop.dc)
    storage = ClusterStorage.objects.create(
        cluster=shop.fleet["cluster"],
        tier=tier,
        storage="ceph-nvme",
        node_name=shop.fleet["nodes"][0].name,
        shared=True,
        holder_vmid=HOLDER,
        capacity_gb=1000,
    )
    return VolumesEnv(shop=shop, personas=personas, tier=tier, storage=storage)


def server_row(env: VolumesEnv, *, name: str = "web-1", status: str = "running", vmid: int = 100_500, **fields: Any):
    """A server row of Acme's default project in PAR-1 on the shop's cluster."""
    return factories.server_row(env.personas, env.shop, name=name, status=status, vmid=vmid, **fields)
