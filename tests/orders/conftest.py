"""Fixtures for orders: a small fleet in PAR-1 (placement needs nodes, templates, addresses),
VM, GPU and managed-service offers, and the personas of one organisation plus an outsider."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import Datacentre, Offer, OsImage
from apps.teams.choices import Role
from apps.teams.models import Organisation, Project
from apps.teams.services import organisation_create
from tests.factories import UserFactory, member
from tests.infrastructure.factories import FamilyFactory, GpuModelFactory, OfferFactory, envelopes, fleet


@dataclass
class World:
    dc: Datacentre
    image: OsImage
    vps: Offer
    gpu: Offer
    service: Offer
    fleet: dict[str, Any]
    org: Organisation
    project: Project
    owner: Any
    member: Any
    viewer: Any
    other_org: Organisation
    other_project: Project
    outsider: Any


def build_world(*, nodes: int = 2) -> World:
    gpu_model = GpuModelFactory()
    f = fleet(nodes=nodes, gpus_per_node=2, gpu_model=gpu_model)
    envelopes(gpu={gpu_model: "1"})
    vps_family = FamilyFactory(slug="vps", name="VPS")
    service_family = FamilyFactory(
        slug="web-hosting", name="Web hosting", kind=catalogue_choices.FamilyKind.MANAGED_SERVICE
    )
    vps = OfferFactory(
        family=vps_family,
        code="VPS-TEST",
        vcpu=2,
        ram_gb=4,
        disk_gb=50,
        price_monthly=Decimal("9.99"),
        price_hourly=Decimal("0.0137"),
    )
    gpu = OfferFactory(
        code="GPU-TEST",
        vcpu=8,
        ram_gb=32,
        disk_gb=200,
        gpu_model=gpu_model,
        gpu_count=1,
        price_monthly=Decimal("80.00"),
        price_hourly=Decimal("0.390000"),
    )
    service = OfferFactory(
        family=service_family,
        code="WEB-TEST",
        vcpu=None,
        ram_gb=None,
        disk_gb=None,
        price_monthly=Decimal("4.99"),
        price_hourly=Decimal("0.0068"),
    )
    owner = UserFactory(email="owner@acme.test")
    org = organisation_create(name="Acme", owner=owner, actor=owner)
    outsider = UserFactory(email="outsider@globex.test")
    other = organisation_create(name="Globex", owner=outsider, actor=outsider)
    return World(
        dc=f["dc"],
        image=f["image"],
        vps=vps,
        gpu=gpu,
        service=service,
        fleet=f,
        org=org,
        project=org.projects.get(is_default=True),
        owner=owner,
        member=member(org, Role.MEMBER, email="member@acme.test"),
        viewer=member(org, Role.VIEWER, email="viewer@acme.test"),
        other_org=other,
        other_project=other.projects.get(is_default=True),
        outsider=outsider,
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


def place(world: World, *, actor: Any = None, offer: Offer | None = None, **overrides: Any):
    """order_place with sensible defaults for the world."""
    from apps.orders import services

    offer = offer or world.vps
    kwargs: dict[str, Any] = {
        "actor": actor or world.member,
        "organisation": world.org,
        "project": world.project,
        "offer": offer,
        "datacentre": world.dc,
        "image": world.image if offer.family.kind == catalogue_choices.FamilyKind.VIRTUAL_MACHINE else None,
        "name": "web-1",
        "ssh_keys": [],
        "user_data": "",
    }
    kwargs.update(overrides)
    return services.order_place(**kwargs)
