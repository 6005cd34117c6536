"""Teams data: organisations (the customer account), projects, memberships, invitations, API tokens.

Invariants live here as database constraints (one membership per user and
organisation, one default project per organisation, unique slugs, one pending
invitation per address); workflows live in ``services/``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
from apps.teams.choices import ISO_COUNTRY_CODES, InvitationStatus, Role, TokenScope


def validate_country(value: str) -> None:
    if value and value not in ISO_COUNTRY_CODES:
        raise ValidationError(_("Enter an ISO 3166 two-letter country code, such as FR or DE."), code="invalid")


class Organisation(TimeStampedModel):
    """The customer account and billing entity; it holds projects, which hold resources.

    Personal organisations are created at sign-up (``is_personal``); companies
    create further ones. ``suspended_at`` set by staff blocks the portal and the
    API for the organisation and shows ``suspension_reason`` to its members.
    """

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, validators=[validate_country], help_text=_("ISO 3166 alpha-2 code.")
    )
    vat_id = models.CharField(_("VAT id"), max_length=32, blank=True)
    billing_email = models.EmailField(_("billing email"), blank=True)
    is_personal = models.BooleanField(_("personal"), default=False)
    require_mfa = models.BooleanField(
        _("require MFA"), default=False, help_text=_("Members must enrol a second factor to access it.")
    )
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspension_reason = models.CharField(_("suspension reason"), max_length=500, blank=True)

    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organisations", blank=True
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def email(self) -> str:
        """Where invoices and billing notices go: the billing e-mail, else the first owner's address.

        Also the attribute dj-stripe requires of its subscriber model (DJSTRIPE_SUBSCRIBER_MODEL).
        """
        if self.billing_email:
            return self.billing_email
        owner = self.memberships.filter(role=Role.OWNER).select_related("user").order_by("created_at").first()
        return owner.user.email if owner is not None else ""


class ProjectManager(models.Manager["Project"]):
    """Projects still in use: a deleted project that resources of the past still name is archived, not shown."""

    def get_queryset(self) -> models.QuerySet[Project]:
        return super().get_queryset().filter(archived_at__isnull=True)


class Project(TimeStampedModel):
    """A folder of resources inside an organisation; grants to outsiders attach here.

    Deleting a project whose servers, orders or invoiced hours are history (a
    deleted server still names its project in the ledger) archives it:
    ``objects`` hides it, ``all_objects`` and foreign keys still reach it.
    """

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=60)
    description = models.CharField(_("description"), max_length=500, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    # Kubernetes-style labels, selected with ``label_selector`` (apps/docs/content/api-overview.md).
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)

    objects = ProjectManager()
    all_objects = models.Manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        base_manager_name = "all_objects"
        ordering = ["-is_default", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="teams_project_unique_slug_per_org"),
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(is_default=True), name="teams_project_one_default_per_org"
            ),
        ]
        # django-guardian object permissions for grants on one project
        # (ProjectAccess in choices.py). Resource models of other apps declare
        # the same codenames to be grantable one by one.
        permissions = [
            ("read_resources", _("Read resources in this project")),
            ("write_resources", _("Operate resources in this project")),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    """One user's role in one organisation."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organisation_id", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="teams_membership_unique_user_per_org"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="teams_membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) @ {self.organisation}"


class Invitation(TimeStampedModel):
    """An e-mailed invitation to join an organisation with a role, or one project only.

    Only the SHA-256 of the invitation token is stored; the link in the e-mail
    carries the token. With ``project`` set, acceptance grants access to that
    project (a guardian object permission) instead of a membership.
    """

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="invitations"
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
        help_text=_("Set for access to this project only."),
    )
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email"],
                condition=Q(status=InvitationStatus.PENDING),
                name="teams_invitation_one_pending_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def effective_status(self) -> str:
        """The stored status, except that a pending invitation past its expiry reads as expired."""
        if self.status == InvitationStatus.PENDING and self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return self.status


class ApiToken(models.Model):
    """A personal access token of one user in one organisation.

    The token reads ``vmc_pat_<id>_<secret><checksum>``; ``prefix`` (``vmc_pat_<id>``)
    is stored in clear to find the row and to show in lists and audit events,
    the secret only as a SHA-256 hash (see ``apps.teams.rules.tokens`` for why a fast
    hash is right for random secrets). Effective rights are the holder's role
    ∩ ``scope`` ∩ ``projects`` (when limited).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=32, unique=True, editable=False)
    secret_hash = models.CharField(_("secret hash"), max_length=64, editable=False)
    scope = models.CharField(_("scope"), max_length=16, choices=TokenScope.choices, default=TokenScope.READ_ONLY)
    projects = models.ManyToManyField(
        Project,
        verbose_name=_("projects"),
        blank=True,
        related_name="+",
        help_text=_("Empty: every project of the organisation."),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "organisation"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired
