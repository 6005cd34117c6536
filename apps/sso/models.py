"""SSO data: one SAML IdP per organisation, its email domains, and consumed assertion ids."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
from apps.sso import choices
from apps.teams.choices import Role
from apps.teams.models import Organisation


class SamlConnection(TimeStampedModel):
    """An organisation's SAML identity provider, as allauth's SAML provider needs it.

    ``slug`` names the connection in the SP URLs the IdP admin enters
    (``/accounts/saml/<slug>/acs/``...), so it never changes after creation,
    even if the organisation is renamed. The IdP is described either by its
    metadata (URL or XML; the service parses it into the ``idp_*`` fields) or
    by the ``idp_*`` fields typed in. ``default_role`` is the role of members
    created just in time; owners are never created that way.
    """

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="saml_connection"
    )
    slug = models.SlugField(_("slug"), max_length=60, unique=True, help_text=_("Part of the SP URLs; fixed."))
    enabled = models.BooleanField(_("enabled"), default=False)
    sso_required = models.BooleanField(
        _("SSO required"),
        default=False,
        help_text=_(
            "Members whose address is in the verified domains must log in through SSO (no password, passkey or "
            "email code); new addresses there can only come through SSO. Other accounts are not affected."
        ),
    )
    allow_idp_initiated = models.BooleanField(
        _("allow IdP-initiated login"),
        default=False,
        help_text=_("Off: only logins started on VMCloud are accepted (recommended)."),
    )
    idp_entity_id = models.CharField(_("IdP entity id"), max_length=500, blank=True)
    idp_sso_url = models.URLField(_("IdP SSO URL"), max_length=500, blank=True)
    idp_x509_cert = models.TextField(_("IdP signing certificate"), blank=True, help_text=_("PEM or base64."))
    idp_x509_cert_next = models.TextField(
        _("other IdP signing certificates"),
        blank=True,
        help_text=_("Further signing certificates listed in the metadata (a rollover announced ahead), base64."),
    )
    idp_x509_cert_previous = models.TextField(
        _("previous IdP signing certificate"),
        blank=True,
        help_text=_("Still accepted until the date below, so a rollover does not break logins in flight."),
    )
    idp_x509_cert_previous_until = models.DateTimeField(_("previous certificate accepted until"), null=True, blank=True)
    idp_slo_url = models.URLField(
        _("IdP single logout URL"),
        max_length=500,
        blank=True,
        help_text=_("HTTP-Redirect binding; empty: logging out of VMCloud does not log out of the IdP."),
    )
    idp_metadata_url = models.URLField(_("IdP metadata URL"), max_length=500, blank=True)
    idp_metadata_xml = models.TextField(_("IdP metadata XML"), blank=True)
    metadata_refreshed_at = models.DateTimeField(_("metadata refreshed at"), null=True, blank=True)
    metadata_refresh_error = models.CharField(_("last metadata refresh error"), max_length=500, blank=True)
    attr_email = models.CharField(
        _("email attribute"), max_length=500, default=choices.DEFAULT_EMAIL_ATTRIBUTES, blank=True
    )
    attr_first_name = models.CharField(
        _("first name attribute"), max_length=500, default=choices.DEFAULT_FIRST_NAME_ATTRIBUTES, blank=True
    )
    attr_last_name = models.CharField(
        _("last name attribute"), max_length=500, default=choices.DEFAULT_LAST_NAME_ATTRIBUTES, blank=True
    )
    attr_uid = models.CharField(
        _("user id attribute"),
        max_length=500,
        default=choices.DEFAULT_UID_ATTRIBUTES,
        blank=True,
        help_text=_("Empty: the NameID identifies the user."),
    )
    default_role = models.CharField(_("default role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("SAML connection")
        verbose_name_plural = _("SAML connections")
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_role__in=[r for r in Role.values if r != Role.OWNER]),
                name="sso_connection_default_role_not_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.slug})"

    @property
    def is_configured(self) -> bool:
        return bool(self.idp_entity_id and self.idp_sso_url and self.idp_x509_cert)

    def signing_certificates(self, now: Any = None) -> list[str]:
        """Every IdP certificate a signature may come from: current, announced, and previous during its grace."""
        certs = [self.idp_x509_cert, *self.idp_x509_cert_next.split()]
        until = self.idp_x509_cert_previous_until
        if self.idp_x509_cert_previous and until and until > (now or timezone.now()):
            certs.append(self.idp_x509_cert_previous)
        return list(dict.fromkeys(c for c in certs if c))


def new_verification_token() -> str:
    return secrets.token_urlsafe(24)


class SamlDomain(models.Model):
    """An email domain an organisation claims for its connection. Verified for at most one organisation.

    A domain is only used (SSO discovery, "SSO required", the email check of
    SSO logins) once ``verified_at`` is set, by one of two proofs of control
    (apps/docs/content/single-sign-on.md, "Email domains"): the DNS TXT record
    ``_vmcloud-sso.<domain>`` carrying ``vmcloud-sso-verification=<token>``,
    checked by the platform, or staff in the back office. Owning an address in
    the domain proves nothing. A domain another organisation had already
    claimed when it was added is ``staff_review``: only staff can verify it.
    """

    connection = models.ForeignKey(
        SamlConnection, verbose_name=_("connection"), on_delete=models.CASCADE, related_name="domains"
    )
    domain = models.CharField(_("domain"), max_length=253)
    verification_token = models.CharField(
        _("verification token"), max_length=64, default=new_verification_token, editable=False
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verification_method = models.CharField(
        _("verified by"), max_length=8, choices=choices.DomainVerification.choices, blank=True
    )
    staff_review = models.BooleanField(
        _("staff review"),
        default=False,
        help_text=_("Another organisation had claimed this domain: only staff can verify it."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SSO domain")
        verbose_name_plural = _("SSO domains")
        ordering = ["domain"]
        constraints = [
            models.CheckConstraint(condition=Q(domain=Lower("domain")), name="sso_domain_lowercase"),
            models.UniqueConstraint(fields=["connection", "domain"], name="sso_domain_once_per_connection"),
            # Claims may compete; only one organisation ever holds the verified domain.
            models.UniqueConstraint(
                fields=["domain"], condition=Q(verified_at__isnull=False), name="sso_domain_verified_once"
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def txt_name(self) -> str:
        return f"{choices.DNS_TXT_PREFIX}.{self.domain}"

    @property
    def txt_value(self) -> str:
        return f"{choices.DNS_TXT_VALUE_PREFIX}{self.verification_token}"


class SamlAssertionUse(models.Model):
    """An assertion id already consumed: a second response carrying it is a replay.

    Kept until the assertion's own expiry (``NotOnOrAfter``), after which the
    IdP's signature no longer makes it acceptable anyway; a periodic task
    purges expired rows. The unique constraint makes two simultaneous uses
    impossible: one INSERT wins, the other fails.
    """

    assertion_id = models.CharField(_("assertion id"), max_length=255)
    connection = models.ForeignKey(
        SamlConnection, verbose_name=_("connection"), on_delete=models.CASCADE, related_name="+"
    )
    used_at = models.DateTimeField(_("used at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("consumed SAML assertion")
        verbose_name_plural = _("consumed SAML assertions")
        ordering = ["-used_at"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "assertion_id"], name="sso_assertion_used_once"),
        ]

    def __str__(self) -> str:
        return self.assertion_id
