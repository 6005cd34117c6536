"""SSO reads: connections by organisation, slug or email domain."""

from __future__ import annotations

from typing import Any

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
    """The connection requiring SSO for the address's domain: new addresses there go through SSO."""
    connection = connection_for_email(email)
    return connection if connection is not None and connection.sso_required else None


def sso_required_connection_for_user(user: Any) -> SamlConnection | None:
    """The connection whose "SSO required" applies to this existing account, if any.

    It applies to a member of the organisation whose address (primary or
    another verified one) is in the organisation's verified domains. An
    account that is not a member, such as one belonging to other
    organisations, is never affected (apps/docs/content/single-sign-on.md).
    """
    from allauth.account.models import EmailAddress

    if user is None or not getattr(user, "pk", None):
        return None
    emails = {str(getattr(user, "email", "") or "").lower()}
    emails |= {e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)}
    domains = {email_domain(e) for e in emails if e}
    if not domains:
        return None
    row = (
        SamlDomain.objects.select_related("connection__organisation")
        .filter(
            domain__in=domains,
            verified_at__isnull=False,
            connection__enabled=True,
            connection__sso_required=True,
            connection__organisation__memberships__user=user,
        )
        .order_by("domain")
        .first()
    )
    return row.connection if row is not None else None


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


def saml_accounts_for_user(user: Any) -> list[dict[str, Any]]:
    """The user's SSO identities: (connection, uid) for each SAML SocialAccount of theirs."""
    from allauth.socialaccount.models import SocialAccount

    prefix = "saml-"
    rows = list(SocialAccount.objects.filter(user=user, provider__startswith=prefix).order_by("provider"))
    connections = {
        c.slug: c
        for c in SamlConnection.objects.select_related("organisation").filter(
            slug__in=[r.provider.removeprefix(prefix) for r in rows]
        )
    }
    return [{"account": r, "connection": connections.get(r.provider.removeprefix(prefix))} for r in rows]


def connections_for_user_emails(user: Any) -> list[SamlConnection]:
    """Enabled connections whose verified domains hold one of the user's verified addresses, not yet connected."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount

    domains = {
        email_domain(e) for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    }
    connected = {
        p.removeprefix("saml-")
        for p in SocialAccount.objects.filter(user=user, provider__startswith="saml-").values_list(
            "provider", flat=True
        )
    }
    rows = (
        SamlDomain.objects.select_related("connection__organisation")
        .filter(domain__in=domains, verified_at__isnull=False, connection__enabled=True)
        .order_by("domain")
    )
    return [r.connection for r in rows if r.connection.is_configured and r.connection.slug not in connected]
