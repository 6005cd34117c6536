"""SSO reads: connections by organisation, slug or email domain."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.sso.models import SamlConnection, SamlDomain
from apps.teams.models import Organisation


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def connection_for_email(email: str) -> SamlConnection | None:
    """The enabled connection whose *verified* domains include the address's domain, if any."""
    domain = email_domain(email)
    if not domain:
        return None
    row = (
        SamlDomain.objects.select_related("connection__organisation")
        .filter(domain=domain, verified_at__isnull=False, connection__enabled=True)
        .first()
    )
    return row.connection if row is not None else None


def sso_required_for_email(email: str) -> SamlConnection | None:
    connection = connection_for_email(email)
    return connection if connection is not None and connection.sso_required else None


def connection_get_by_slug(slug: str, *, enabled_only: bool = True) -> SamlConnection | None:
    qs = SamlConnection.objects.select_related("organisation").filter(slug=slug)
    if enabled_only:
        qs = qs.filter(enabled=True)
    return qs.first()


def connection_for_organisation(organisation: Organisation) -> SamlConnection | None:
    return SamlConnection.objects.filter(organisation=organisation).prefetch_related("domains").first()


def connections_enabled() -> QuerySet[SamlConnection]:
    return SamlConnection.objects.select_related("organisation").filter(enabled=True)


def verified_domains(connection: SamlConnection) -> list[str]:
    return [d.domain for d in connection.domains.all() if d.verified_at is not None]
