"""Data the benchmarks share: one organisation with many running servers.

A package rather than a module at the top of ``benchmarks/``: ``make bench``
runs every ``benchmarks/*.py`` as a benchmark.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def servers_of_one_organisation(count: int) -> tuple[Any, Any]:
    """``count`` running VPS of one organisation in PAR-1, bulk-created; returns (owner, organisation).

    Call after ``django.setup()`` on an empty database.
    """
    from apps.accounts.models import User
    from apps.catalogue import choices as cc
    from apps.catalogue.models import Datacentre, Offer, OsImage, ProductFamily
    from apps.instances.models import Instance
    from apps.teams.services import organisation_create

    dc = Datacentre.objects.create(code="PAR-1", name="Paris", city="Paris", country="FR", tier="III+")
    family = ProductFamily.objects.create(slug="vps", name="VPS", kind=cc.FamilyKind.VIRTUAL_MACHINE)
    image = OsImage.objects.create(slug="ubuntu-24.04", family="Ubuntu", version="24.04", os_type="linux")
    offer = Offer.objects.create(
        family=family,
        code="VPS-S",
        name="VPS S",
        tier=cc.Tier.values[0],
        vcpu=2,
        ram_gb=4,
        disk_gb=40,
        price_hourly=Decimal("0.01"),
        price_monthly=Decimal("5.00"),
    )
    owner = User.objects.create_user(email="bench@example.test", password="x")  # noqa: S106 - throwaway
    org = organisation_create(name="Bench", owner=owner, actor=owner)
    project = org.projects.get()
    Instance.objects.bulk_create(
        [
            Instance(
                organisation=org,
                project=project,
                name=f"web-{i:05d}",
                labels={"env": "prod" if i % 2 else "dev"},
                offer=offer,
                datacentre=dc,
                image=image,
                status="running",
                power_state="running",
                node_name="pve1",
                vmid=10_000 + i,
                ipv4=f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}",
                price_hourly=offer.price_hourly,
                price_monthly=offer.price_monthly,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    return owner, org
