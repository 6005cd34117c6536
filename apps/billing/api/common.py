"""What the billing API views share: which organisation a request is about."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.core.actors import actor_user
from apps.core.errors import ValidationFailed
from apps.teams.access import Actor, bound_token, organisation_get_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Membership, Organisation


def organisation_for_request(*, actor: Actor, value: Any, permission: Permission) -> Organisation:
    """The organisation named by ``value`` (id or slug), or the only one it can be; 404/403 through teams."""
    if value in (None, ""):
        token = bound_token(actor)
        if token is not None:
            value = token.organisation_id
        else:
            user = actor_user(actor)
            memberships = Membership.objects.filter(user=user)  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
            ids = list(memberships.values_list("organisation_id", flat=True)[:2])
            if len(ids) != 1:
                message = _("Say which organisation (its id or slug).")
                raise ValidationFailed(message, fields={"organisation": [message]})
            value = ids[0]
    return organisation_get_for_actor(actor=actor, org_slug_or_id=str(value), permission=permission)
