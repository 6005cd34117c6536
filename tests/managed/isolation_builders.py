"""Tenant-isolation walk (tests/teams/test_tenant_isolation.py): the managed services routes' URL keyword and bodies."""

from __future__ import annotations

from typing import Any


def _service(org: Any, personas: Any) -> Any:
    """An active web hosting service row of the organisation (denials happen before any backend call)."""
    from decimal import Decimal

    from apps.catalogue import choices as catalogue_choices
    from apps.catalogue.models import Offer
    from apps.managed.models import ManagedService
    from tests.infrastructure.factories import FamilyFactory, OfferFactory

    existing = ManagedService.objects.filter(organisation=org).first()
    if existing is not None:
        return existing.public_id
    family = FamilyFactory(slug="web-hosting", name="Web hosting", kind=catalogue_choices.FamilyKind.MANAGED_SERVICE)
    offer = Offer.objects.filter(code="ISO-WEB").first() or OfferFactory(
        family=family, code="ISO-WEB", vcpu=None, ram_gb=None, disk_gb=None
    )
    return ManagedService.objects.create(
        organisation=org,
        project=org.projects.get(is_default=True),
        offer=offer,
        family="web_hosting",
        name=f"svc-{org.slug}",
        state="active",
        price_hourly=Decimal("0.0068"),
        price_monthly=Decimal("4.99"),
    ).public_id


OBJECT_BUILDERS = {"service_id": _service}

WRITE_BODIES: dict[str, dict[str, Any]] = {
    "api:service-detail": {"name": "renamed"},
    "api:service-change-tier": {"tier": "ISO-WEB"},
}
