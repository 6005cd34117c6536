"""SSO data: one SAML IdP per organisation, its email domains, and consumed assertion ids."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
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
        help_text=_("Turns off password and passkey login for addresses in the verified domains."),
    )
    allow_idp_initiated = models.BooleanField(
        _("allow IdP-initiated login"),
        default=False,
        help_text=_("Off: only logins started on VMCloud are accepted (recommended)."),
    )
    idp_entity_id = models.CharField(_("IdP entity id"), max_length=500, blank=True)
    idp_sso_url = models.URLField(_("IdP SSO URL"), max_length=500, blank=True)
    idp_x509_cert = models.TextField(_("IdP signing certificate"), blank=True, help_text=_("PEM or base64."))
    idp_metadata_url = models.URLField(_("IdP metadata URL"), max_length=500, blank=True)
    idp_metadata_xml = models.TextField(_("IdP metadata XML"), blank=True)
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
        return bool(self.idp_entity_id and ((self.idp_sso_url and self.idp_x509_cert) or self.idp_metadata_url))


class SamlDomain(models.Model):
    """An email domain whose users sign in through one connection. Unique across organisations.

    A domain is only used (SSO discovery, "SSO required", linking existing
    accounts) once ``verified_at`` is set: automatically when an admin adds the
    domain of their own verified email address, otherwise by staff.
    """

    connection = models.ForeignKey(
        SamlConnection, verbose_name=_("connection"), on_delete=models.CASCADE, related_name="domains"
    )
    domain = models.CharField(_("domain"), max_length=253, unique=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SSO domain")
        verbose_name_plural = _("SSO domains")
        ordering = ["domain"]
        constraints = [
            models.CheckConstraint(condition=Q(domain=Lower("domain")), name="sso_domain_lowercase"),
        ]

    def __str__(self) -> str:
        return self.domain


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
