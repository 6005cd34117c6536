"""Receivers of accounts' signals that need organisations (connected in ``SsoConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.teams.choices import Role
from apps.teams.models import Organisation


def block_or_prepare_user_deletion(sender: Any, user: Any, actor: Actor, **kwargs: Any) -> list[str]:
    """Refuse deletion while the user is the last owner of an organisation that has other members.

    Those members would be left with nobody able to manage billing or
    ownership: the user must first transfer ownership (or appoint another
    owner) or remove the members. Organisations the user is alone in are kept
    without members (their invoices are business records); staff remove them.
    """
    # Annotate before filtering: the counts then use their own join, not the
    # one restricted to this user's membership.
    blocking = (
        Organisation.objects.annotate(
            owner_count=Count("memberships", filter=Q(memberships__role=Role.OWNER), distinct=True),
            member_count=Count("memberships", distinct=True),
        )
        .filter(memberships__user=user, memberships__role=Role.OWNER, owner_count=1, member_count__gt=1)
        .order_by("name")
    )
    names = [org.name for org in blocking]
    if not names:
        return []
    return [
        _(
            "You are the only owner of %(orgs)s, which has other members: transfer ownership or appoint another "
            "owner first."
        )
        % {"orgs": ", ".join(f"“{name}”" for name in names)}
    ]
