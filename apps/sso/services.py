"""SSO writes: configure an organisation's SAML connection and domains, consume assertions, provision members."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.core.choices import ActorKind
from apps.core.errors import Conflict, ValidationFailed
from apps.core.services import audit_record, model_changes
from apps.sso import saml
from apps.sso.choices import PUBLIC_EMAIL_DOMAINS
from apps.sso.models import SamlAssertionUse, SamlConnection, SamlDomain
from apps.sso.selectors import email_domain
from apps.teams.choices import Role
from apps.teams.models import Membership, Organisation
from apps.teams.services import membership_create

if TYPE_CHECKING:
    from apps.accounts.models import User

CONNECTION_FIELDS = [
    "enabled",
    "sso_required",
    "allow_idp_initiated",
    "idp_entity_id",
    "idp_sso_url",
    "idp_x509_cert",
    "idp_metadata_url",
    "idp_metadata_xml",
    "attr_email",
    "attr_first_name",
    "attr_last_name",
    "attr_uid",
    "default_role",
]
_DOMAIN_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# An assertion without NotOnOrAfter (python3-saml refuses those in strict mode,
# but be safe) is remembered this long.
ASSERTION_MEMORY = dt.timedelta(hours=24)


def _audit(*, actor: Any, action: str, connection: SamlConnection, target: Any = None, changes: Any = None) -> None:
    audit_record(
        actor=actor,
        actor_kind=ActorKind.STAFF if getattr(actor, "is_staff", False) else None,
        action=action,
        target=target if target is not None else connection,
        organisation_id=connection.organisation_id,
        changes=changes,
    )


def _clean_cert(value: str) -> str:
    body = re.sub(r"-----(BEGIN|END) CERTIFICATE-----", "", value or "")
    return re.sub(r"\s+", "", body)


@transaction.atomic
def saml_connection_save(*, organisation: Organisation, actor: Any, data: dict[str, Any]) -> SamlConnection:
    """Create or update the organisation's connection from ``data`` (keys of ``CONNECTION_FIELDS``).

    Metadata XML (or, when no certificate is given, a metadata URL, fetched
    once here) fills in the entity id, SSO URL and certificate. An enabled
    connection must be complete.
    """
    connection = SamlConnection.objects.select_for_update().filter(organisation=organisation).first()
    created = connection is None
    if connection is None:
        connection = SamlConnection(
            organisation=organisation, slug=_unique_slug(organisation.slug or organisation.name)
        )
    before = {name: getattr(connection, name) for name in CONNECTION_FIELDS}
    for name in CONNECTION_FIELDS:
        if name in data:
            value = data[name]
            setattr(connection, name, value.strip() if isinstance(value, str) else value)
    errors: dict[str, list[str]] = {}
    if connection.default_role not in Role.values or connection.default_role == Role.OWNER:
        errors["default_role"] = [_("Members created by SSO cannot be owners.")]
    if connection.idp_metadata_xml:
        try:
            parsed = saml.parse_idp_metadata(connection.idp_metadata_xml, connection.idp_entity_id or None)
        except saml.MetadataError as exc:
            errors["idp_metadata_xml"] = [_("This metadata could not be read: %(error)s") % {"error": exc}]
        else:
            connection.idp_entity_id = parsed["entity_id"]
            connection.idp_sso_url = parsed["sso_url"]
            connection.idp_x509_cert = parsed["x509_cert"]
    elif (
        connection.idp_metadata_url
        and "idp_metadata_url" in data
        and data["idp_metadata_url"] != before.get("idp_metadata_url")
    ):
        try:
            parsed = saml.fetch_idp_metadata(connection.idp_metadata_url, connection.idp_entity_id or None)
        except saml.MetadataError as exc:
            errors["idp_metadata_url"] = [_("The metadata could not be fetched: %(error)s") % {"error": exc}]
        else:
            connection.idp_entity_id = parsed["entity_id"]
            connection.idp_sso_url = parsed["sso_url"]
            connection.idp_x509_cert = parsed["x509_cert"]
    connection.idp_x509_cert = _clean_cert(connection.idp_x509_cert)
    if connection.enabled and not connection.is_configured:
        errors.setdefault("enabled", []).append(
            _("Enter the IdP metadata, or its entity id, SSO URL and certificate, before enabling SSO.")
        )
    if not connection.attr_email.strip():
        errors["attr_email"] = [_("Name the attribute that carries the email address.")]
    if connection.sso_required and not connection.enabled:
        errors["sso_required"] = [_("SSO can only be required once it is enabled.")]
    if errors:
        raise ValidationFailed(_("The SSO settings are not valid."), fields=errors)
    connection.full_clean(exclude=["organisation", "idp_metadata_xml"])
    connection.save()
    changes = model_changes(connection, [f for f in CONNECTION_FIELDS if f != "idp_metadata_xml"], before)
    _audit(
        actor=actor,
        action="sso.connection.create" if created else "sso.connection.update",
        connection=connection,
        changes=changes,
    )
    return connection


def _unique_slug(base: str) -> str:
    root = slugify(base)[:50] or "org"
    slug, n = root, 1
    while SamlConnection.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{root}-{n}"
    return slug


def _actor_verified_domains(actor: Any) -> set[str]:
    from allauth.account.models import EmailAddress

    if actor is None or not getattr(actor, "pk", None):
        return set()
    return {
        email_domain(e) for e in EmailAddress.objects.filter(user=actor, verified=True).values_list("email", flat=True)
    }


@transaction.atomic
def saml_domain_add(*, connection: SamlConnection, domain: str, actor: Any) -> SamlDomain:
    """Route ``domain`` to the connection. Unique across organisations.

    Verified at once when it is the domain of one of the actor's verified
    email addresses (and not a public mail provider); otherwise it waits for
    staff to verify it, and is not used meanwhile.
    """
    domain = (domain or "").strip().lower().rstrip(".").removeprefix("@")
    if not _DOMAIN_RE.match(domain):
        raise ValidationFailed(_("Enter a domain name such as example.com."), fields={"domain": [_("Invalid domain.")]})
    if domain in PUBLIC_EMAIL_DOMAINS:
        raise ValidationFailed(
            _("Public email providers cannot be routed to an organisation's SSO."),
            fields={"domain": [_("Public email domain.")]},
        )
    auto_verify = getattr(actor, "is_staff", False) or domain in _actor_verified_domains(actor)
    try:
        with transaction.atomic():
            row = SamlDomain.objects.create(
                connection=connection, domain=domain, verified_at=timezone.now() if auto_verify else None
            )
    except IntegrityError as exc:
        raise Conflict(
            _("The domain %(domain)s is not available.") % {"domain": domain},
            code="domain_taken",
            fields={"domain": [_("Already used for SSO.")]},
        ) from exc
    _audit(
        actor=actor,
        action="sso.domain.add",
        connection=connection,
        target=row,
        changes={"domain": domain, "verified": auto_verify},
    )
    return row


@transaction.atomic
def saml_domain_verify(*, domain: SamlDomain, actor: Any) -> SamlDomain:
    """Staff confirm the organisation controls the domain (e.g. after a DNS TXT check)."""
    row = SamlDomain.objects.select_for_update().select_related("connection").get(pk=domain.pk)
    if row.verified_at is None:
        row.verified_at = timezone.now()
        row.save(update_fields=["verified_at"])
        _audit(
            actor=actor,
            action="sso.domain.verify",
            connection=row.connection,
            target=row,
            changes={"domain": row.domain},
        )
    return row


@transaction.atomic
def saml_domain_remove(*, domain: SamlDomain, actor: Any) -> None:
    connection = domain.connection
    _audit(
        actor=actor, action="sso.domain.remove", connection=connection, target=domain, changes={"domain": domain.domain}
    )
    domain.delete()


def saml_assertion_consume(*, connection: SamlConnection, assertion_id: str, expires_at: dt.datetime | None) -> None:
    """Remember a consumed assertion id; a second use raises ``Conflict`` (replay)."""
    if not assertion_id:
        raise ValidationFailed(_("The SAML assertion has no id."), code="saml_assertion_invalid")
    try:
        with transaction.atomic():
            SamlAssertionUse.objects.create(
                connection=connection,
                assertion_id=assertion_id[:255],
                expires_at=expires_at or timezone.now() + ASSERTION_MEMORY,
            )
    except IntegrityError as exc:
        raise Conflict(_("This SAML assertion was already used."), code="saml_assertion_replayed") from exc


def saml_assertions_purge(*, now: dt.datetime | None = None) -> int:
    """Forget assertion ids past their expiry (their signatures are no longer accepted anyway)."""
    deleted, _details = SamlAssertionUse.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


@transaction.atomic
def saml_login_record(*, connection: SamlConnection, user: User) -> Membership | None:
    """After an SSO login: create the membership just in time (default role) and audit the login.

    Returns the membership when one was created.
    """
    created = None
    if not Membership.objects.filter(organisation_id=connection.organisation_id, user=user).exists():
        # actor None: the system provisions on the IdP's word (teams allows it).
        try:
            created = membership_create(
                organisation=connection.organisation, user=user, role=connection.default_role, actor=None
            )
        except Conflict:  # a simultaneous first login won the race
            created = None
    audit_record(
        actor=user,
        action="sso.login",
        target=connection,
        organisation_id=connection.organisation_id,
        changes={"connection": connection.slug, "member_created": created is not None},
    )
    return created
