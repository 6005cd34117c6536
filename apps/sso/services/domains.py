"""The e-mail domains of a SAML connection: claim one, verify it (DNS TXT record or staff), remove it.

A domain routes sign-ins to the connection only once verified, and at most one
organisation ever holds a domain verified; the DNS lookup is ``dns_txt``.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.actors import Actor, actor_is_back_office_staff
from apps.core.choices import ActorKind
from apps.core.errors import Conflict, PermissionDenied, Unavailable, ValidationFailed
from apps.core.services import audit_record
from apps.sso.choices import PUBLIC_EMAIL_DOMAINS, DomainVerification
from apps.sso.models import SamlConnection, SamlDomain
from apps.sso.services import dns_txt

_DOMAIN_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _normalise_domain(domain: str) -> str:
    return (domain or "").strip().lower().rstrip(".").removeprefix("@")


@transaction.atomic
def saml_domain_add(*, connection: SamlConnection, domain: str, actor: Actor) -> SamlDomain:
    """Claim ``domain`` for the connection; it is used only once verified (DNS TXT record or staff).

    Public mail domains are refused. A domain another organisation already
    claimed is accepted as a competing claim that only staff can verify
    (``staff_review``): at most one organisation ever holds it verified.
    """
    domain = _normalise_domain(domain)
    if not _DOMAIN_RE.match(domain):
        raise ValidationFailed(_("Enter a domain name such as example.com."), fields={"domain": [_("Invalid domain.")]})
    if domain in PUBLIC_EMAIL_DOMAINS:
        raise ValidationFailed(
            _("Public email providers cannot be routed to an organisation's SSO."),
            fields={"domain": [_("Public email domain.")]},
        )
    if SamlDomain.objects.filter(connection=connection, domain=domain).exists():
        raise Conflict(
            _("The domain %(domain)s is already listed.") % {"domain": domain},
            code="domain_taken",
            fields={"domain": [_("Already listed.")]},
        )
    contested = SamlDomain.objects.filter(domain=domain).exclude(connection=connection).exists()
    try:
        with transaction.atomic():
            row = SamlDomain.objects.create(connection=connection, domain=domain, staff_review=contested)
    except IntegrityError as exc:  # the same domain added twice at once
        raise Conflict(
            _("The domain %(domain)s is already listed.") % {"domain": domain},
            code="domain_taken",
            fields={"domain": [_("Already listed.")]},
        ) from exc
    audit_record(
        actor=actor,
        actor_kind=ActorKind.STAFF if actor_is_back_office_staff(actor) else None,
        action="sso.domain.add",
        target=row,
        organisation_id=connection.organisation_id,
        changes={"domain": domain, "staff_review": contested},
    )
    return row


def _mark_verified(row: SamlDomain, *, method: str, actor: Actor) -> SamlDomain:
    row.verified_at = timezone.now()
    row.verification_method = method
    try:
        with transaction.atomic():
            row.save(update_fields=["verified_at", "verification_method"])
    except IntegrityError as exc:
        raise Conflict(
            _("%(domain)s is already verified for another organisation.") % {"domain": row.domain},
            code="domain_taken",
            fields={"domain": [_("Verified for another organisation.")]},
        ) from exc
    audit_record(
        actor=actor,
        actor_kind=ActorKind.STAFF if actor_is_back_office_staff(actor) else None,
        action="sso.domain.verify",
        target=row,
        organisation_id=row.connection.organisation_id,
        changes={"domain": row.domain, "method": method},
    )
    return row


@transaction.atomic
def saml_domain_verify_dns(*, domain: SamlDomain, actor: Actor) -> SamlDomain:
    """Verify the domain by its DNS TXT record (``row.txt_name`` must carry ``row.txt_value``).

    Raises ``ValidationFailed`` (record missing, or the claim awaits staff) or
    ``Unavailable`` (DNS could not be asked); both leave the domain unverified.
    """
    row = SamlDomain.objects.select_for_update().select_related("connection").get(pk=domain.pk)
    if row.verified_at is not None:
        return row
    if row.staff_review:
        raise ValidationFailed(
            _("Another organisation has claimed %(domain)s: our staff will review the claims.")
            % {"domain": row.domain},
            code="domain_staff_review",
            fields={"domain": [_("Awaiting staff review.")]},
        )
    try:
        records = dns_txt.txt_records(row.txt_name)
    except dns_txt.DnsLookupError as exc:
        raise Unavailable(
            _("DNS could not be queried for %(name)s; try again in a few minutes.") % {"name": row.txt_name},
            code="dns_unavailable",
        ) from exc
    if row.txt_value not in (r.strip() for r in records):
        raise ValidationFailed(
            _("No TXT record %(name)s with the value %(value)s was found. DNS changes can take a while to appear.")
            % {"name": row.txt_name, "value": row.txt_value},
            code="domain_txt_missing",
            fields={"domain": [_("TXT record not found.")]},
        )
    return _mark_verified(row, method=DomainVerification.DNS, actor=actor)


@transaction.atomic
def saml_domain_verify(*, domain: SamlDomain, actor: Actor) -> SamlDomain:
    """Staff confirm, in the back office, that the organisation controls the domain."""
    if not actor_is_back_office_staff(actor):
        raise PermissionDenied(_("Only staff can verify a domain without its DNS record."))
    row = SamlDomain.objects.select_for_update().select_related("connection").get(pk=domain.pk)
    if row.domain in PUBLIC_EMAIL_DOMAINS:
        raise ValidationFailed(
            _("Public email providers cannot be routed to an organisation's SSO."),
            fields={"domain": [_("Public email domain.")]},
        )
    if row.verified_at is not None:
        return row
    return _mark_verified(row, method=DomainVerification.STAFF, actor=actor)


@transaction.atomic
def saml_domain_remove(*, domain: SamlDomain, actor: Actor) -> None:
    connection = domain.connection
    audit_record(
        actor=actor,
        actor_kind=ActorKind.STAFF if actor_is_back_office_staff(actor) else None,
        action="sso.domain.remove",
        target=domain,
        organisation_id=connection.organisation_id,
        changes={"domain": domain.domain},
    )
    domain.delete()
