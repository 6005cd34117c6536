"""Template tags of the payments area: ``{% payment_banner organisation %}`` (past-due/suspended banner)."""

from __future__ import annotations

from typing import Any

from django import template

from apps.billing.selectors import billing_state
from apps.teams.models import Organisation

register = template.Library()


@register.inclusion_tag("billing/_payment_banner.html")
def payment_banner(organisation: Organisation | None) -> dict[str, Any]:
    """The organisation's payment standing, shown only when something is overdue."""
    if organisation is None:
        return {"state": None}
    return {"state": billing_state(organisation=organisation)}
