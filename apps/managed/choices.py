"""Families, states and secret kinds of managed services, shared by models, API, portal and admin."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceFamily(models.TextChoices):
    WEB_HOSTING = "web_hosting", _("Web hosting")
    PAAS = "paas", _("PaaS")
    LOAD_BALANCER = "load_balancer", _("Load balancer")
    CDN = "cdn", _("CDN")


# The catalogue's ProductFamily slug (apps.catalogue.services.seed_data) → the service family.
FAMILY_BY_PRODUCT_SLUG: dict[str, str] = {
    "web-hosting": ServiceFamily.WEB_HOSTING,
    "paas": ServiceFamily.PAAS,
    "load-balancer": ServiceFamily.LOAD_BALANCER,
    "cdn": ServiceFamily.CDN,
}


def family_for_product_slug(slug: str) -> str | None:
    """The service family sold under a catalogue family slug, or None (servers, storage)."""
    return FAMILY_BY_PRODUCT_SLUG.get(slug)


class ServiceState(models.TextChoices):
    PROVISIONING = "provisioning", _("Provisioning")
    ACTIVE = "active", _("Active")
    CHANGING = "changing", _("Changing")
    SUSPENDED = "suspended", _("Suspended")
    CANCELLED = "cancelled", _("Cancelled")
    TERMINATED = "terminated", _("Terminated")


S = ServiceState
# A service in one of these has ended: billing stopped, nothing can change it any more.
ENDED_STATES = (S.CANCELLED, S.TERMINATED)
LIVE_STATES = (S.PROVISIONING, S.ACTIVE, S.CHANGING, S.SUSPENDED)

# The state machine: every change goes through services along these edges (Conflict otherwise).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROVISIONING: frozenset({S.ACTIVE, S.CANCELLED, S.TERMINATED}),
    S.ACTIVE: frozenset({S.CHANGING, S.SUSPENDED, S.CANCELLED, S.TERMINATED}),
    S.CHANGING: frozenset({S.ACTIVE, S.SUSPENDED, S.CANCELLED, S.TERMINATED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.CANCELLED, S.TERMINATED}),
    S.CANCELLED: frozenset(),
    S.TERMINATED: frozenset(),
}


def can_transition(from_state: str, to_state: str) -> bool:
    return to_state in ALLOWED_TRANSITIONS.get(from_state, frozenset())


class SecretKind(models.TextChoices):
    ENV = "env", _("Environment variable")
    CREDENTIAL = "credential", _("Credential")
