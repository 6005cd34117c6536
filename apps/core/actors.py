"""Who is acting: one typed ``Actor`` and the two questions every service asks of it.

A service is called by a signed-in user (portal), by a user acting through an API
token (the API binds the token to the user), by staff in the back office, or by
the platform itself (Celery tasks, beat, ``None``). Every app uses these helpers
rather than its own, so "who did this" has one answer everywhere, in permissions
and in the audit log (``apps.core.services.audit_record``).
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

# A user (possibly carrying the API token it authenticated with), an anonymous visitor, or the system.
Actor: TypeAlias = AbstractBaseUser | AnonymousUser | None

# The attribute the API's token authentication sets on the user it authenticates
# (``apps.teams.access.bind_token``): the user then acts within that token's limits.
BOUND_TOKEN_ATTRIBUTE = "_vmc_api_token"


def actor_user(actor: Actor) -> AbstractBaseUser | None:
    """The signed-in user behind ``actor``, or ``None`` for the system and anonymous visitors."""
    if isinstance(actor, AbstractBaseUser) and actor.is_authenticated and actor.pk is not None:
        return actor
    return None


def actor_token_prefix(actor: Actor) -> str:
    """The public prefix of the API token ``actor`` acts through, or "" (portal, back office, system)."""
    token = getattr(actor, BOUND_TOKEN_ATTRIBUTE, None)
    prefix = getattr(token, "prefix", "")
    return prefix if isinstance(prefix, str) else ""


def actor_is_back_office_staff(actor: Actor) -> bool:
    """Staff acting in the back office (a staff user not acting through an API token)."""
    user = actor_user(actor)
    return user is not None and bool(getattr(user, "is_staff", False)) and not actor_token_prefix(actor)
