"""An organisation's SAML connection and its IdP metadata: save the settings, refresh the metadata.

Metadata (XML, or fetched from its URL through ``apps.sso.saml``) fills in the
IdP's entity id, endpoints and certificates; certificate changes are audited as
their SHA-256 fingerprints.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.core.actors import Actor, actor_is_back_office_staff
from apps.core.choices import ActorKind
from apps.core.errors import ApplicationError, ValidationFailed
from apps.core.services import audit_record, model_changes
from apps.sso import saml
from apps.sso.models import SamlConnection
from apps.teams.choices import Role
from apps.teams.models import Organisation

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
# Fields filled in from the IdP metadata, audited with the others.
METADATA_FIELDS = [
    "idp_entity_id",
    "idp_sso_url",
    "idp_slo_url",
    "idp_x509_cert",
    "idp_x509_cert_next",
    "idp_x509_cert_previous",
    "idp_x509_cert_previous_until",
]
AUDITED_FIELDS = list(dict.fromkeys([*CONNECTION_FIELDS, *METADATA_FIELDS]))


def _clean_cert(value: str) -> str:
    body = re.sub(r"-----(BEGIN|END) CERTIFICATE-----", "", value or "")
    return re.sub(r"\s+", "", body)


def _fingerprints(value: Any) -> Any:
    """Certificates as their SHA-256 fingerprints: what an admin compares with the IdP's console."""
    if not isinstance(value, str) or not value:
        return value
    prints = []
    for cert in value.split():
        try:
            der = base64.b64decode(cert)
        except ValueError:
            prints.append("?")
            continue
        prints.append(hashlib.sha256(der).hexdigest())
    return " ".join(prints)


def _readable_cert_changes(changes: dict[str, Any]) -> dict[str, Any]:
    cert_fields = {"idp_x509_cert", "idp_x509_cert_next", "idp_x509_cert_previous"}
    return {
        name: [_fingerprints(v) for v in values] if name in cert_fields else values for name, values in changes.items()
    }


def _apply_metadata(connection: SamlConnection, parsed: saml.IdpMetadata) -> None:
    """Copy parsed IdP metadata onto the connection, keeping the replaced certificate for a while.

    A rollover (apps/docs/content/single-sign-on.md, "Certificate rollover"):
    the IdP first lists the new certificate next to the current one, then signs
    with it, then drops the old one. Every certificate the metadata lists is
    accepted; a certificate the metadata no longer lists is still accepted for
    ``SSO_IDP_CERT_GRACE`` seconds, so responses signed just before the switch
    still verify.
    """
    old = [c for c in [_clean_cert(connection.idp_x509_cert), *connection.idp_x509_cert_next.split()] if c]
    certs = [_clean_cert(c) for c in parsed["certs"]]
    connection.idp_entity_id = parsed["entity_id"]
    connection.idp_sso_url = parsed["sso_url"]
    connection.idp_slo_url = parsed["slo_url"]
    connection.idp_x509_cert = certs[0]
    connection.idp_x509_cert_next = "\n".join(certs[1:])
    dropped = [c for c in old if c not in certs]
    if dropped:
        connection.idp_x509_cert_previous = dropped[0]
        connection.idp_x509_cert_previous_until = timezone.now() + dt.timedelta(seconds=settings.SSO_IDP_CERT_GRACE)


@transaction.atomic
def saml_connection_save(*, organisation: Organisation, actor: Actor, data: dict[str, Any]) -> SamlConnection:
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
    before = {name: getattr(connection, name) for name in AUDITED_FIELDS}
    for name in CONNECTION_FIELDS:
        if name in data:
            value = data[name]
            setattr(connection, name, value.strip() if isinstance(value, str) else value)
    errors: dict[str, list[str]] = {}
    if connection.default_role not in Role.values or connection.default_role == Role.OWNER:
        errors["default_role"] = [_("Members created by SSO cannot be owners.")]
    if connection.idp_metadata_xml and ("idp_metadata_xml" in data or created):
        try:
            parsed = saml.parse_idp_metadata(connection.idp_metadata_xml, connection.idp_entity_id or None)
        except saml.MetadataError as exc:
            errors["idp_metadata_xml"] = [_("This metadata could not be read: %(error)s") % {"error": exc}]
        else:
            _apply_metadata(connection, parsed)
    elif connection.idp_metadata_url and (
        data.get("idp_metadata_url", before.get("idp_metadata_url")) != before.get("idp_metadata_url")
        or not connection.idp_x509_cert
    ):
        try:
            parsed = saml.fetch_idp_metadata(connection.idp_metadata_url, connection.idp_entity_id or None)
        except saml.MetadataError as exc:
            errors["idp_metadata_url"] = [_("The metadata could not be fetched: %(error)s") % {"error": exc}]
        else:
            _apply_metadata(connection, parsed)
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
    changes = _readable_cert_changes(
        model_changes(connection, [f for f in AUDITED_FIELDS if f != "idp_metadata_xml"], before)
    )
    audit_record(
        actor=actor,
        actor_kind=ActorKind.STAFF if actor_is_back_office_staff(actor) else None,
        action="sso.connection.create" if created else "sso.connection.update",
        target=connection,
        organisation_id=connection.organisation_id,
        changes=changes,
    )
    return connection


def saml_connection_refresh_metadata(*, connection: SamlConnection, actor: Actor) -> SamlConnection:
    """Re-read the IdP metadata (its URL, else the stored XML) and apply it: new certificates, endpoints.

    For certificate rollovers (apps/docs/content/single-sign-on.md,
    "Certificate rollover"): an admin's "Refresh metadata" button, the staff
    action, and the daily ``sso.refresh_metadata`` task call it. The fetch
    happens outside the transaction; a change is audited as
    ``sso.connection.metadata``. A failure is kept in ``metadata_refresh_error``
    and raised as ``ValidationFailed`` (nothing else changes).
    """
    if not (connection.idp_metadata_url or connection.idp_metadata_xml):
        raise ValidationFailed(
            _("This connection has no IdP metadata URL or XML to refresh from."), code="sso_no_metadata"
        )
    error = ""
    parsed: saml.IdpMetadata | None = None
    try:
        if connection.idp_metadata_url:
            parsed = saml.fetch_idp_metadata(connection.idp_metadata_url, connection.idp_entity_id or None)
        else:
            parsed = saml.parse_idp_metadata(connection.idp_metadata_xml, connection.idp_entity_id or None)
    except saml.MetadataError as exc:
        error = str(exc)[:500]
    with transaction.atomic():
        row = SamlConnection.objects.select_for_update().get(pk=connection.pk)
        row.metadata_refresh_error = error
        if parsed is None:
            row.save(update_fields=["metadata_refresh_error", "updated_at"])
        else:
            before = {name: getattr(row, name) for name in METADATA_FIELDS}
            _apply_metadata(row, parsed)
            row.metadata_refreshed_at = timezone.now()
            row.save(update_fields=[*METADATA_FIELDS, "metadata_refreshed_at", "metadata_refresh_error", "updated_at"])
            changes = _readable_cert_changes(model_changes(row, METADATA_FIELDS, before))
            if changes:
                audit_record(
                    actor=actor,
                    actor_kind=ActorKind.STAFF if actor_is_back_office_staff(actor) else None,
                    action="sso.connection.metadata",
                    target=row,
                    organisation_id=row.organisation_id,
                    changes=changes,
                )
    if parsed is None:
        raise ValidationFailed(
            _("The IdP metadata could not be refreshed: %(error)s") % {"error": error}, code="sso_metadata_invalid"
        )
    return row


def saml_connections_refresh_metadata() -> dict[str, int]:
    """The daily refresh: every enabled connection described by a metadata URL."""
    counts = {"refreshed": 0, "failed": 0}
    for connection in SamlConnection.objects.filter(enabled=True).exclude(idp_metadata_url=""):
        try:
            saml_connection_refresh_metadata(connection=connection, actor=None)
        except ApplicationError:
            counts["failed"] += 1
        else:
            counts["refreshed"] += 1
    return counts


def _unique_slug(base: str) -> str:
    root = slugify(base)[:50] or "org"
    slug, n = root, 1
    while SamlConnection.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{root}-{n}"
    return slug
