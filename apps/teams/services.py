"""Teams writes: organisations, memberships, invitations, projects, grants and API tokens.

Every function is keyword-only, runs in one ``transaction.atomic`` block and
records an audit event (with the organisation id) in that same transaction.
``actor`` is the acting user (maybe through an API token bound by the API
authentication, see ``access.bind_token``) or None for the system.
Services enforce the invariants (the last owner stays, only owners appoint
owners, a token never exceeds its holder); interfaces check the coarse
permission first through ``apps.teams.access``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from apps.accounts.selectors import user_has_second_factor
from apps.core.choices import ActorKind
from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.core.labels import labels_validate
from apps.core.services import audit_record, model_changes
from apps.teams import selectors, tokens
from apps.teams.access import actor_has_permission, bound_token, require_permission, role_in
from apps.teams.choices import (
    GRANT_CODENAMES,
    ISO_COUNTRY_CODES,
    READ_PERMISSIONS,
    ROLE_PERMISSIONS,
    TOKEN_EXCLUDED_PERMISSIONS,
    InvitationStatus,
    Permission,
    ProjectAccess,
    Role,
    TokenScope,
)
from apps.teams.models import ApiToken, Invitation, Membership, Organisation, Project

if TYPE_CHECKING:
    from apps.accounts.models import User

INVITATION_TTL = dt.timedelta(days=7)
TOKEN_MAX_LIFETIME = dt.timedelta(days=366)
# Last-used bookkeeping is written at most once a minute per token, so a busy
# token costs no write per request.
TOKEN_TOUCH_INTERVAL = dt.timedelta(seconds=60)


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


def _clean_role(role: str) -> Role:
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), fields={"role": [_("Choose a valid role.")]})
    return Role(role)


# ---------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Memberships and ownership
# ---------------------------------------------------------------------------
def _require_owner_for(actor: User | None, organisation: Organisation, *roles: str) -> None:
    """Only owners appoint, demote or remove owners (system actors may, e.g. SSO defaults)."""
    if actor is None or Role.OWNER not in roles:
        return
    if not actor_has_permission(actor, organisation, Permission.ORG_TRANSFER):
        raise PermissionDenied(_("Only an owner can appoint or remove owners."), code="owner_required")


def _owner_count(organisation: Organisation) -> int:
    return Membership.objects.filter(organisation=organisation, role=Role.OWNER).count()


@transaction.atomic
def membership_create(*, organisation: Organisation, user: User, role: str, actor: User | None) -> Membership:
    """Add ``user`` to ``organisation`` with ``role`` (invitation acceptance, SSO just-in-time creation)."""
    role = _clean_role(role)
    _require_owner_for(actor, organisation, role)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(organisation=organisation, user=user, role=role)
    except IntegrityError as exc:
        raise Conflict(_("%(email)s is already a member.") % {"email": user.email}, code="already_member") from exc
    audit_record(
        actor=actor,
        action="membership.create",
        organisation_id=organisation.pk,
        target=membership,
        changes={"user": user.email, "role": role},
    )
    return membership


@transaction.atomic
def membership_update_role(*, membership: Membership, role: str, actor: User | None) -> Membership:
    """Change a member's role. The last owner cannot be demoted."""
    role = _clean_role(role)
    membership = Membership.objects.select_for_update().select_related("organisation", "user").get(pk=membership.pk)
    organisation = membership.organisation
    if membership.role == role:
        return membership
    _require_owner_for(actor, organisation, role, membership.role)
    # Lock the organisation's owner rows so two concurrent demotions cannot
    # both see "another owner remains".
    list(Membership.objects.select_for_update().filter(organisation=organisation, role=Role.OWNER))
    if membership.role == Role.OWNER and _owner_count(organisation) <= 1:
        raise Conflict(_("An organisation needs at least one owner: appoint another owner first."), code="last_owner")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(
        actor=actor,
        action="membership.update",
        organisation_id=organisation.pk,
        target=membership,
        changes={"user": membership.user.email, "role": [before, role]},
    )
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership, actor: User | None) -> None:
    """Remove a member, or leave when the actor is the member. The last owner cannot leave."""
    membership = Membership.objects.select_for_update().select_related("organisation", "user").get(pk=membership.pk)
    organisation = membership.organisation
    leaving = actor is not None and actor.pk == membership.user_id
    if not leaving:
        _require_owner_for(actor, organisation, membership.role)
    list(Membership.objects.select_for_update().filter(organisation=organisation, role=Role.OWNER))
    if membership.role == Role.OWNER and _owner_count(organisation) <= 1:
        raise Conflict(
            _("The last owner cannot leave: transfer ownership or appoint another owner first."), code="last_owner"
        )
    user = membership.user
    # Their tokens for this organisation die with the membership.
    ApiToken.objects.filter(user=user, organisation=organisation, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="membership.leave" if leaving else "membership.delete",
        organisation_id=organisation.pk,
        target=membership,
        changes={"user": user.email, "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def ownership_transfer(*, organisation: Organisation, new_owner: User, actor: User) -> Membership:
    """Make ``new_owner`` (a member) an owner and the acting owner an admin."""
    if not actor_has_permission(actor, organisation, Permission.ORG_TRANSFER):
        raise PermissionDenied(_("Only an owner can transfer ownership."), code="owner_required")
    if new_owner.pk == actor.pk:
        raise ValidationFailed(_("Choose another member."), fields={"user": [_("You are already an owner.")]})
    try:
        target = Membership.objects.select_for_update().get(organisation=organisation, user=new_owner)
    except Membership.DoesNotExist as exc:
        raise ValidationFailed(
            _("Only a member can become owner."), fields={"user": [_("Not a member of this organisation.")]}
        ) from exc
    mine = Membership.objects.select_for_update().get(organisation=organisation, user=actor)
    target_before = target.role
    target.role = Role.OWNER
    target.save(update_fields=["role", "updated_at"])
    mine.role = Role.ADMIN
    mine.save(update_fields=["role", "updated_at"])
    audit_record(
        actor=actor,
        action="organisation.transfer_ownership",
        organisation_id=organisation.pk,
        target=organisation,
        changes={"from": actor.email, "to": new_owner.email, "previous_role": target_before},
    )
    return target


# ---------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------
def _send_invitation_email(invitation_id: int, token: str) -> None:
    invitation = Invitation.objects.select_related("organisation", "invited_by", "project").get(pk=invitation_id)
    url = settings.SITE_URL.rstrip("/") + reverse("teams:invitation_respond", args=[token])
    context = {"invitation": invitation, "url": url, "site_name": settings.SITE_NAME}
    send_mail(
        subject=_("You are invited to join %(org)s on %(site)s")
        % {"org": invitation.organisation.name, "site": settings.SITE_NAME},
        message=render_to_string("teams/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_create(
    *,
    organisation: Organisation,
    email: str,
    role: str,
    actor: User,
    project: Project | None = None,
    ttl: dt.timedelta = INVITATION_TTL,
) -> tuple[Invitation, str]:
    """Invite ``email`` with ``role`` (or to ``project`` only); returns the invitation and the link token.

    The e-mail goes out after commit. With a project, the role is the access
    level: member → operate, viewer → read.
    """
    email = email.strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("Invalid input."), fields={"email": [_("Enter a valid email address.")]}) from exc
    role = _clean_role(role)
    if project is not None:
        if project.organisation_id != organisation.pk:
            raise NotFound(_("Project not found."))
        if role not in (Role.MEMBER, Role.VIEWER):
            raise ValidationFailed(
                _("Invalid input."), fields={"role": [_("Project invitations are for members or viewers.")]}
            )
    _require_owner_for(actor, organisation, role)
    if project is None and Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise Conflict(_("%(email)s is already a member.") % {"email": email}, code="already_member")
    # An expired pending invitation for the same address gives way to the new one.
    Invitation.objects.filter(
        organisation=organisation, email=email, status=InvitationStatus.PENDING, expires_at__lte=timezone.now()
    ).update(status=InvitationStatus.EXPIRED)
    token, token_hash = tokens.generate_invitation_token()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                organisation=organisation,
                project=project,
                email=email,
                role=role,
                token_hash=token_hash,
                invited_by=actor,
                expires_at=timezone.now() + ttl,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("%(email)s already has a pending invitation.") % {"email": email}, code="invitation_pending"
        ) from exc
    audit_record(
        actor=actor,
        action="invitation.create",
        organisation_id=organisation.pk,
        target=invitation,
        changes={"email": email, "role": role, "project": project.slug if project else None},
    )
    transaction.on_commit(lambda: _send_invitation_email(invitation.pk, token))
    return invitation, token


def _invitation_for_token(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organisation", "project")
        .filter(token_hash=tokens.hash_token(token))
        .first()
    )
    if invitation is None:
        raise NotFound(_("This invitation does not exist."), code="invitation_not_found")
    status = invitation.effective_status
    if status != InvitationStatus.PENDING:
        messages = {
            InvitationStatus.ACCEPTED: _("This invitation was already accepted."),
            InvitationStatus.DECLINED: _("This invitation was declined."),
            InvitationStatus.REVOKED: _("This invitation was revoked."),
            InvitationStatus.EXPIRED: _("This invitation has expired: ask for a new one."),
        }
        raise Conflict(messages[InvitationStatus(status)], code=f"invitation_{status}")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Invitation:
    """The signed-in invitee accepts: a membership (or a project grant) is created.

    The invitee must be signed in with the invited address, so a forwarded
    link cannot be used by someone else.
    """
    invitation = _invitation_for_token(token)
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied(
            _("This invitation is for %(email)s: sign in with that address.") % {"email": invitation.email},
            code="invitation_email_mismatch",
        )
    organisation = invitation.organisation
    if invitation.project is not None:
        access = ProjectAccess.WRITE if invitation.role == Role.MEMBER else ProjectAccess.READ
        _grant(project=invitation.project, user=user, access=access)
    elif role_in(user, organisation) is None:
        Membership.objects.create(organisation=organisation, user=user, role=invitation.role)
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["status", "accepted_at", "accepted_by", "updated_at"])
    audit_record(
        actor=user,
        action="invitation.accept",
        organisation_id=organisation.pk,
        target=invitation,
        changes={"email": invitation.email, "role": invitation.role},
    )
    return invitation


@transaction.atomic
def invitation_decline(*, token: str, actor: User | None) -> Invitation:
    """The invitee declines (the e-mailed link is enough; no login needed)."""
    invitation = _invitation_for_token(token)
    invitation.status = InvitationStatus.DECLINED
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["status", "declined_at", "updated_at"])
    audit_record(
        actor=actor,
        action="invitation.decline",
        organisation_id=invitation.organisation.pk,
        target=invitation,
        changes={"email": invitation.email},
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    invitation = Invitation.objects.select_for_update().select_related("organisation").get(pk=invitation.pk)
    if invitation.effective_status != InvitationStatus.PENDING:
        raise Conflict(_("Only a pending invitation can be revoked."), code="invitation_not_pending")
    invitation.status = InvitationStatus.REVOKED
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["status", "revoked_at", "updated_at"])
    audit_record(
        actor=actor,
        action="invitation.revoke",
        organisation_id=invitation.organisation.pk,
        target=invitation,
        changes={"email": invitation.email},
    )
    return invitation


# ---------------------------------------------------------------------------
# Projects and project grants
# ---------------------------------------------------------------------------
def _validate_project(name: str, description: str) -> tuple[str, str]:
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 100:
        errors["name"] = [_("Enter a name of 1 to 100 characters.")]
    if len(description) > 500:
        errors["description"] = [_("At most 500 characters.")]
    if errors:
        raise ValidationFailed(_("Invalid input."), fields=errors)
    return name, description.strip()


@transaction.atomic
def project_create(
    *,
    organisation: Organisation,
    name: str,
    description: str = "",
    actor: User | None,
    labels: Mapping[str, str] | None = None,
) -> Project:
    name, description = _validate_project(name, description)
    clean_labels = labels_validate(labels)
    slug = _unique_slug(name, lambda s: Project.all_objects.filter(organisation=organisation, slug=s).exists())
    project = Project.objects.create(
        organisation=organisation, name=name, slug=slug, description=description, labels=clean_labels
    )
    audit_record(
        actor=actor, action="project.create", organisation_id=organisation.pk, target=project, changes={"name": name}
    )
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor: User,
    name: str | None = None,
    description: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    new_name, new_description = _validate_project(
        project.name if name is None else name, project.description if description is None else description
    )
    before = {"name": project.name, "description": project.description, "labels": project.labels}
    project.name, project.description = new_name, new_description
    if labels is not None:
        project.labels = labels_validate(labels)
    changes = model_changes(project, ["name", "description", "labels"], before)
    if changes:
        project.save(update_fields=["name", "description", "labels", "updated_at"])
        audit_record(
            actor=actor,
            action="project.update",
            organisation_id=project.organisation.pk,
            target=project,
            changes=changes,
        )
    return project


@transaction.atomic
def project_delete(*, project: Project, actor: User) -> None:
    """Delete a non-default project with no live resources (resources of higher apps protect their project).

    Rows of the past also point at a project: a deleted server, a completed
    order, invoiced hours in the ledger. They must keep it (invoices name it),
    so a project that only they hold is archived instead: hidden everywhere,
    its slug freed. A protecting model says whether a row still holds its
    project with a ``holds_project`` property; a model without one always does.
    """
    project = Project.objects.select_for_update().select_related("organisation").get(pk=project.pk)
    if project.is_default:
        raise Conflict(_("The default project cannot be deleted."), code="project_is_default")
    audit_record(actor=actor, action="project.delete", organisation_id=project.organisation.pk, target=project)
    try:
        with transaction.atomic():
            project.delete()
    except ProtectedError as exc:
        live = [row for row in exc.protected_objects if getattr(row, "holds_project", True)]
        if live:
            names = [f"{row} ({row._meta.verbose_name})" for row in live[:5]]
            if len(live) > 5:
                names.append(_("and %(count)s more") % {"count": len(live) - 5})
            raise Conflict(
                _("Delete or move the project's resources first: %(resources)s.") % {"resources": ", ".join(names)},
                code="project_not_empty",
            ) from exc
        project.archived_at = timezone.now()
        project.slug = f"{project.slug[:40]}-deleted-{project.pk}"
        project.save(update_fields=["archived_at", "slug", "updated_at"])
        # Grants on an archived project give access to nothing; they go with it.
        for user in get_users_with_perms(project, with_group_users=False):
            for codename in GRANT_CODENAMES.values():
                remove_perm(f"teams.{codename}", user, project)


def _grant(*, project: Project, user: User, access: str) -> None:
    for codename in GRANT_CODENAMES.values():
        remove_perm(f"teams.{codename}", user, project)
    assign_perm(f"teams.{GRANT_CODENAMES[access]}", user, project)


@transaction.atomic
def project_grant_set(*, project: Project, user: User, access: str, actor: User) -> None:
    """Give ``user`` (member or not) read or write access to this project only."""
    if access not in ProjectAccess.values:
        raise ValidationFailed(_("Invalid input."), fields={"access": [_("Choose read or write.")]})
    _grant(project=project, user=user, access=access)
    audit_record(
        actor=actor,
        action="project.grant",
        organisation_id=project.organisation.pk,
        target=project,
        changes={"user": user.email, "access": access},
    )


@dataclass(frozen=True)
class GrantOffer:
    """What ``project_grant_offer`` did: granted at once (``user``) or sent an invitation (``invitation``)."""

    access: str
    user: User | None = None
    invitation: Invitation | None = None


# A project invitation carries a role; acceptance turns it into this access (``invitation_accept``).
_ACCESS_ROLE = {ProjectAccess.READ: Role.VIEWER, ProjectAccess.WRITE: Role.MEMBER}


@transaction.atomic
def project_grant_offer(*, project: Project, email: str, access: str, actor: User) -> GrantOffer:
    """Give ``email`` access to this project only, without revealing whether an account exists.

    A member of the organisation, or someone who already holds access to this
    project, is granted at once (the caller can see them already). Anyone else,
    with or without an account (staff included), gets a project invitation
    they accept or decline: nobody is attached to a project without consent,
    and the answer is the same whether or not the address has an account
    (apps/docs/content/roles-and-permissions.md, "Access to one project only").
    """
    if access not in ProjectAccess.values:
        raise ValidationFailed(_("Invalid input."), fields={"access": [_("Choose read or write.")]})
    email = email.strip().lower()
    organisation = project.organisation
    grantee_ids = [g.user_id for g in selectors.project_grant_list(project=project)]
    inside = (
        get_user_model()
        .objects.filter(email__iexact=email)
        .filter(Q(memberships__organisation=organisation) | Q(pk__in=grantee_ids))
        .first()
    )
    if inside is not None:
        project_grant_set(project=project, user=inside, access=access, actor=actor)
        return GrantOffer(access=access, user=inside)
    invitation, _token = invitation_create(
        organisation=organisation, email=email, role=_ACCESS_ROLE[ProjectAccess(access)], actor=actor, project=project
    )
    return GrantOffer(access=access, invitation=invitation)


@transaction.atomic
def project_grant_delete(*, project: Project, user: User, actor: User) -> None:
    for codename in GRANT_CODENAMES.values():
        remove_perm(f"teams.{codename}", user, project)
    ApiToken.objects.filter(user=user, organisation=project.organisation, revoked_at__isnull=True).exclude(
        user__memberships__organisation=project.organisation
    ).update(revoked_at=timezone.now())
    audit_record(
        actor=actor,
        action="project.grant_delete",
        organisation_id=project.organisation.pk,
        target=project,
        changes={"user": user.email},
    )


# ---------------------------------------------------------------------------
# API tokens
# ---------------------------------------------------------------------------
@transaction.atomic
def api_token_create(
    *,
    user: User,
    organisation: Organisation,
    name: str,
    scope: str,
    expires_at: dt.datetime | None,
    projects: Iterable[Project] = (),
) -> tuple[ApiToken, str]:
    """Create a personal access token; returns the row and the secret, which is never shown again.

    Only a member holding ``tokens.manage_own`` may create one, from a session
    (a token cannot mint tokens). Its rights stay bounded by the role at each request.
    """
    if bound_token(user) is not None or not actor_has_permission(user, organisation, Permission.TOKENS_MANAGE_OWN):
        raise PermissionDenied(_("You cannot create tokens for this organisation."))
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 100:
        errors["name"] = [_("Enter a name of 1 to 100 characters.")]
    if scope not in TokenScope.values:
        errors["scope"] = [_("Choose read_only or read_write.")]
    role = role_in(user, organisation)
    if (
        scope == TokenScope.READ_WRITE
        and role
        and ROLE_PERMISSIONS[role] <= READ_PERMISSIONS | TOKEN_EXCLUDED_PERMISSIONS
    ):
        errors["scope"] = [_("Your role is read-only: create a read-only token.")]
    now = timezone.now()
    if expires_at is not None and (expires_at <= now or expires_at > now + TOKEN_MAX_LIFETIME):
        errors["expires_at"] = [_("Choose a time in the future, at most one year away.")]
    project_list = list(projects)
    if any(p.organisation_id != organisation.pk for p in project_list):
        errors["projects"] = [_("Choose projects of this organisation.")]
    if errors:
        raise ValidationFailed(_("Invalid input."), fields=errors)
    new = tokens.generate_api_token()
    token = ApiToken.objects.create(
        user=user,
        organisation=organisation,
        name=name,
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        scope=scope,
        expires_at=expires_at,
    )
    if project_list:
        token.projects.set(project_list)
    audit_record(
        actor=user,
        action="api_token.create",
        organisation_id=organisation.pk,
        target=token,
        changes={
            "name": name,
            "prefix": new.prefix,
            "scope": scope,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "projects": [p.slug for p in project_list],
        },
    )
    return token, new.token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None, actor_kind: ActorKind | None = None) -> ApiToken:
    token = ApiToken.objects.select_for_update().select_related("organisation").get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoke",
            organisation_id=token.organisation.pk,
            target=token,
            changes={"prefix": token.prefix, "name": token.name},
            actor_kind=actor_kind,
        )
    return token


def api_token_touch(*, token: ApiToken, ip: str | None) -> None:
    """Record last use, at most once per ``TOKEN_TOUCH_INTERVAL`` (a conditional UPDATE, no read).

    Not audited: usage is not a change to the account, and one event per
    request would drown the trail (the request log has the detail).
    """
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_TOUCH_INTERVAL:
        return
    ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - TOKEN_TOUCH_INTERVAL).update(
        last_used_at=now, last_used_ip=ip
    )
