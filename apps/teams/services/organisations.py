"""Organisations: creation (with the owner and a default project), the personal one, settings, suspension.

``organisation_update`` changes settings (``org.update``) and billing details
(``billing.manage``); staff suspend and unsuspend. ``_unique_slug`` (shared with
projects) picks a free slug, never a word of the fixed portal routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.accounts.selectors import user_has_second_factor
from apps.core.choices import ActorKind
from apps.core.errors import ValidationFailed
from apps.core.services import audit_record, model_changes
from apps.teams.access import actor_has_permission, require_permission
from apps.teams.choices import ISO_COUNTRY_CODES, Permission, Role
from apps.teams.models import Membership, Organisation, Project

if TYPE_CHECKING:
    from apps.accounts.models import User

# Organisation slugs share the /org/<slug>/ space with fixed portal routes
# (/org/sso/, /org/new/, ...): never hand out one of those words.
RESERVED_ORGANISATION_SLUGS = frozenset(
    {"sso", "new", "switch", "leave", "transfer", "settings", "members", "projects", "invitations", "api", "admin"}
)


def _unique_slug(base: str, taken: Any, *, max_length: int = 60) -> str:
    root = (slugify(base) or "org")[: max_length - 6].strip("-") or "org"
    slug, n = root, 1
    while taken(slug):
        n += 1
        slug = f"{root}-{n}"
    return slug


_BILLING_FIELDS = ("legal_name", "country", "vat_id", "billing_email")
_SETTINGS_FIELDS = ("name", "require_mfa")


def _validate_org_fields(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = dict(data)
    if "name" in clean:
        clean["name"] = str(clean["name"]).strip()
        if not clean["name"] or len(clean["name"]) > 100:
            errors["name"] = [_("Enter a name of 1 to 100 characters.")]
    if "country" in clean:
        clean["country"] = str(clean["country"] or "").strip().upper()
        if clean["country"] and clean["country"] not in ISO_COUNTRY_CODES:
            errors["country"] = [_("Enter an ISO 3166 two-letter country code, such as FR or DE.")]
    if clean.get("billing_email"):
        try:
            validate_email(clean["billing_email"])
        except DjangoValidationError:
            errors["billing_email"] = [_("Enter a valid email address.")]
    if "vat_id" in clean:
        clean["vat_id"] = str(clean["vat_id"] or "").replace(" ", "").upper()
        if len(clean["vat_id"]) > 32:
            errors["vat_id"] = [_("At most 32 characters.")]
    if "legal_name" in clean and len(str(clean["legal_name"] or "")) > 200:
        errors["legal_name"] = [_("At most 200 characters.")]
    if errors:
        raise ValidationFailed(_("Invalid input."), fields=errors)
    return clean


@transaction.atomic
def organisation_create(
    *,
    name: str,
    owner: User,
    is_personal: bool = False,
    actor: User | None,
    legal_name: str = "",
    country: str = "",
    vat_id: str = "",
    billing_email: str = "",
) -> Organisation:
    """Create an organisation with ``owner`` as its owner and a default project."""
    data = _validate_org_fields(
        {"name": name, "legal_name": legal_name, "country": country, "vat_id": vat_id, "billing_email": billing_email}
    )
    organisation = Organisation.objects.create(
        slug=_unique_slug(
            data["name"],
            lambda s: s in RESERVED_ORGANISATION_SLUGS or Organisation.objects.filter(slug=s).exists(),
        ),
        is_personal=is_personal,
        **data,
    )
    Membership.objects.create(organisation=organisation, user=owner, role=Role.OWNER)
    project = Project.objects.create(
        organisation=organisation, name=str(_("Default project")), slug="default", is_default=True
    )
    audit_record(
        actor=actor,
        action="organisation.create",
        organisation_id=organisation.pk,
        target=organisation,
        changes={"name": organisation.name, "owner": owner.email, "is_personal": is_personal},
    )
    audit_record(
        actor=actor,
        action="project.create",
        organisation_id=organisation.pk,
        target=project,
        changes={"name": project.name},
    )
    return organisation


def personal_organisation_ensure(*, user: User) -> Organisation:
    """The user's personal organisation, created with a default project on first call (idempotent).

    Sign-up calls it; concurrent calls for one user create one organisation
    (the user row is locked while checking).
    """
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        existing = (
            Organisation.objects.filter(is_personal=True, memberships__user=user, memberships__role=Role.OWNER)
            .order_by("id")
            .first()
        )
        if existing is not None:
            return existing
        name = _("%(name)s's organisation") % {"name": user.get_short_name()}
        return organisation_create(name=name[:100], owner=user, is_personal=True, actor=user)


@transaction.atomic
def organisation_update(*, organisation: Organisation, actor: User, data: dict[str, Any]) -> Organisation:
    """Change settings (org.update) and billing details (billing.manage)."""
    unknown = set(data) - set(_BILLING_FIELDS) - set(_SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown fields."), fields={f: [_("Not a setting.")] for f in sorted(unknown)})
    if not (
        actor_has_permission(actor, organisation, Permission.ORG_UPDATE)
        or actor_has_permission(actor, organisation, Permission.BILLING_MANAGE)
    ):
        require_permission(actor, organisation, Permission.ORG_UPDATE)
    if any(f in data for f in _SETTINGS_FIELDS):
        require_permission(actor, organisation, Permission.ORG_UPDATE)
    if any(f in data for f in _BILLING_FIELDS):
        require_permission(actor, organisation, Permission.BILLING_MANAGE)
    clean = _validate_org_fields(data)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if clean.get("require_mfa") and not organisation.require_mfa and not user_has_second_factor(user=actor):
        # Requiring MFA blocks every member and token without it, the actor's
        # own included: only someone with a second factor may switch it on (as
        # GitHub does; apps/docs/content/sign-in-and-mfa.md).
        message = _("Set up two-factor authentication on your own account before requiring it for the organisation.")
        raise ValidationFailed(message, fields={"require_mfa": [message]}, code="mfa_not_enrolled")
    before = {f: getattr(organisation, f) for f in clean}
    for field, value in clean.items():
        setattr(organisation, field, value)
    changes = model_changes(organisation, list(clean), before)
    if changes:
        organisation.save(update_fields=[*clean, "updated_at"])
        audit_record(
            actor=actor,
            action="organisation.update",
            organisation_id=organisation.pk,
            target=organisation,
            changes=changes,
        )
    return organisation


@transaction.atomic
def organisation_suspend(*, organisation: Organisation, reason: str, actor: User | None) -> Organisation:
    """Staff: block portal and API access to the organisation, showing ``reason`` to its members."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Give a reason."), fields={"reason": [_("This field is required.")]})
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    organisation.suspended_at = timezone.now()
    organisation.suspension_reason = reason[:500]
    organisation.save(update_fields=["suspended_at", "suspension_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="organisation.suspend",
        organisation_id=organisation.pk,
        target=organisation,
        changes={"reason": organisation.suspension_reason},
        actor_kind=ActorKind.STAFF if actor is not None else None,
    )
    return organisation


@transaction.atomic
def organisation_unsuspend(*, organisation: Organisation, actor: User | None) -> Organisation:
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    previous = organisation.suspension_reason
    organisation.suspended_at = None
    organisation.suspension_reason = ""
    organisation.save(update_fields=["suspended_at", "suspension_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="organisation.unsuspend",
        organisation_id=organisation.pk,
        target=organisation,
        changes={"previous_reason": previous},
        actor_kind=ActorKind.STAFF if actor is not None else None,
    )
    return organisation
