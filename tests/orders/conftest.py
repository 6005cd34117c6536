"""Helpers for orders tests. Who orders is the shared ``personas`` fixture and what they order the
shared ``shop`` fixture (PAR-1 with its nodes, VPS, GPU and managed-service offers), both in
``tests/conftest.py``; ``place`` orders from the one as the other."""

from __future__ import annotations

from typing import Any

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import Offer
from tests.factories import Personas, Shop


def place(personas: Personas, shop: Shop, *, actor: Any = None, offer: Offer | None = None, **overrides: Any):
    """order_place with sensible defaults: the member orders a VPS-TEST in PAR-1 into Acme's default project
    (a web hosting offer gets a service object: example.com on PHP 8.3)."""
    from apps.orders import services

    offer = offer or shop.vps
    kwargs: dict[str, Any] = {
        "actor": actor or personas.member,
        "organisation": personas.org,
        "project": personas.project,
        "offer": offer,
        "datacentre": shop.dc,
        "image": shop.image if offer.family.kind == catalogue_choices.FamilyKind.VIRTUAL_MACHINE else None,
        "name": "web-1",
        "ssh_keys": [],
        "user_data": "",
    }
    if offer.family.kind == catalogue_choices.FamilyKind.MANAGED_SERVICE and offer.family.slug == "web-hosting":
        # A managed offer takes its family's service object (apps.managed.rules); WEB-TEST is web hosting.
        kwargs["service"] = {"domain": "example.com", "runtime": "php", "version": "8.3"}
    kwargs.update(overrides)
    return services.order_place(**kwargs)
