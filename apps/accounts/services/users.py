"""Account writes about users: suspension and deletion. Each one is audited in its transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.signals import user_deletion_requested
from apps.core.actors import Actor, actor_is_back_office_staff
from apps.core.choices import ActorKind
from apps.core.errors import Conflict, ValidationFailed
from apps.core.services import audit_record


def user_suspend(*, user: User, reason: str, actor: Actor) -> User:
    """Suspend a user: no login (portal, SSO, API session) until unsuspended; the reason is shown to them."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason for the suspension."), fields={"reason": [_("Required.")]})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.suspended_at = timezone.now()
        locked.suspension_reason = reason[:500]
        locked.save(update_fields=["suspended_at", "suspension_reason"])
        audit_record(
            actor=actor,
            actor_kind=ActorKind.STAFF if actor_is_back_office_staff(actor) else None,
            action="accounts.user.suspend",
            target=locked,
            changes={"suspension_reason": reason[:500]},
        )
    user.suspended_at, user.suspension_reason = locked.suspended_at, locked.suspension_reason
    return locked


def user_unsuspend(*, user: User, actor: Actor) -> User:
    """Lift a suspension."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.suspended_at is None:
            return locked
        previous = locked.suspension_reason
        locked.suspended_at = None
        locked.suspension_reason = ""
        locked.save(update_fields=["suspended_at", "suspension_reason"])
        audit_record(
            actor=actor,
            actor_kind=ActorKind.STAFF if actor_is_back_office_staff(actor) else None,
            action="accounts.user.unsuspend",
            target=locked,
            changes={"suspension_reason": [previous, ""]},
        )
    user.suspended_at, user.suspension_reason = None, ""
    return locked


def user_delete(*, user: User, actor: Actor) -> None:
    """Delete a user's account for good.

    Organisations are owned by apps.teams, above accounts: the
    ``user_deletion_requested`` receivers decide whether the user's
    organisations allow it (the last owner of an organisation that has other
    members must transfer ownership first) and delete the organisations the
    user is alone in. Any blocking reason raises ``Conflict`` and nothing
    changes. The audit trail keeps the email as a label (AuditEvent has no
    database constraint on its user column).
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        reasons: list[str] = []
        for _receiver, result in user_deletion_requested.send(sender=User, user=locked, actor=actor):
            reasons.extend(result or [])
        if reasons:
            raise Conflict(" ".join(reasons), code="account_deletion_blocked")
        audit_record(
            actor=actor,
            actor_kind=ActorKind.STAFF if actor_is_back_office_staff(actor) else None,
            action="accounts.user.delete",
            target=locked,
            changes={"email": locked.email},
        )
        locked.delete()
