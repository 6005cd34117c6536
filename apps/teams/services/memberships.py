"""Memberships and ownership: adding a member, changing a role, removing a member or leaving, transferring ownership.

The invariants live here: the last owner stays, and only owners appoint,
demote or remove owners (``_require_owner_for``, also checked by invitations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.services import audit_record
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission, Role
from apps.teams.models import ApiToken, Membership, Organisation

if TYPE_CHECKING:
    from apps.accounts.models import User


def _clean_role(role: str) -> Role:
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), fields={"role": [_("Choose a valid role.")]})
    return Role(role)


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
