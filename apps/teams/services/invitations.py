"""Invitations to an organisation or to one project: create (the e-mail goes after commit), accept, decline, revoke.

``project_grant_offer`` gives an address access to one project: at once when the
caller can already see the person, otherwise through a project invitation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.core.services import audit_record
from apps.teams import selectors
from apps.teams.access import role_in
from apps.teams.choices import InvitationStatus, ProjectAccess, Role
from apps.teams.models import Invitation, Membership, Organisation, Project
from apps.teams.rules import tokens
from apps.teams.services.memberships import _clean_role, _require_owner_for
from apps.teams.services.projects import _grant, project_grant_set

if TYPE_CHECKING:
    from apps.accounts.models import User

INVITATION_TTL = dt.timedelta(days=7)


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
