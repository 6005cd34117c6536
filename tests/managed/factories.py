"""Builders of managed services for the managed app's tests (and billing's): rows in a given state.

``service_row`` writes a ``ManagedService`` of Acme's default project on the shop's
WEB-TEST offer through the real services (``service_create`` then, for an active one,
``service_deliver`` by staff), so its transitions, price period and audit events are
those the platform writes. ``tier_offer`` adds another tier of the same family.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.catalogue.models import Offer
from apps.managed.models import ManagedService, ServicePricePeriod
from apps.managed.services import service_create, service_deliver
from tests.factories import Personas, Shop
from tests.infrastructure.factories import OfferFactory


def tier_offer(shop: Shop, *, code: str = "WEB-TEST-PRO", monthly: str = "14.60", hourly: str = "0.02") -> Offer:
    """Another tier of the shop's managed family (web hosting), sold in PAR-1."""
    offer = OfferFactory(
        family=shop.service.family,
        code=code,
        vcpu=None,
        ram_gb=None,
        disk_gb=None,
        price_monthly=Decimal(monthly),
        price_hourly=Decimal(hourly),
    )
    offer.datacentres.add(shop.dc)
    return offer


def service_row(
    personas: Personas,
    shop: Shop,
    *,
    name: str = "site-1",
    active: bool = True,
    activated_at: datetime | None = None,
    offer: Offer | None = None,
    organisation: Any = None,
    project: Any = None,
    **fields: Any,
) -> ManagedService:
    """A web hosting service of Acme (or ``organisation``/``project``), provisioning or delivered by staff.

    ``activated_at`` back-dates the delivery (and its price period's start), for billing tests.
    """
    service = service_create(
        actor=personas.owner if organisation is None else None,
        organisation=organisation or personas.org,
        project=project or personas.project,
        offer=offer or shop.service,
        datacentre=shop.dc,
        name=name,
        labels=fields.pop("labels", {"env": "prod"}),
        config=fields.pop("config", {"domain": "example.com"}),
        secrets=fields.pop("secrets", None),
    )
    if active:
        service = service_deliver(
            service=service,
            actor=None,
            endpoints={"urls": ["https://example.com"], "hostnames": ["example.com"]},
            credentials={"sftp_password": "s3cret"},
            notes="SFTP at sftp.example.com",
        )
        if activated_at is not None:
            ManagedService.objects.filter(pk=service.pk).update(activated_at=activated_at)
            ServicePricePeriod.objects.filter(service=service).update(started_at=activated_at)
            service.refresh_from_db()
    if fields:
        ManagedService.objects.filter(pk=service.pk).update(**fields)
        service.refresh_from_db()
    return service


def now() -> datetime:
    return timezone.now()


def service_billed(
    *,
    organisation: Any,
    offer: Offer,
    started_at: datetime,
    ended_at: datetime | None = None,
    name: str = "service",
    price_hourly: Decimal | None = None,
    price_monthly: Decimal | None = None,
    project: Any = None,
    family: str = "web_hosting",
) -> ManagedService:
    """A delivered service row and its price period [started_at, ended_at), written directly (billing tests).

    Ended (``ended_at`` given): cancelled at that moment, as ``service_cancel`` leaves it.
    """
    hourly = offer.price_hourly if price_hourly is None else price_hourly
    monthly = offer.price_monthly if price_monthly is None else price_monthly
    service = ManagedService.objects.create(
        organisation=organisation,
        project=project or organisation.projects.first(),
        offer=offer,
        family=family,
        name=name,
        state="cancelled" if ended_at is not None else "active",
        price_hourly=hourly,
        price_monthly=monthly,
        activated_at=started_at,
        ended_at=ended_at,
    )
    ServicePricePeriod.objects.create(
        service=service,
        offer=offer,
        price_hourly=hourly,
        price_monthly=monthly,
        started_at=started_at,
        ended_at=ended_at,
    )
    return service
