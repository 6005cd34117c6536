"""``{% org_switcher %}``: the organisation switcher for the console sidebar."""

from __future__ import annotations

from typing import Any

from django import template

from apps.teams.portal import current_organisation, switchable_organisations

register = template.Library()


@register.inclusion_tag("teams/_org_switcher.html", takes_context=True)
def org_switcher(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {"organisations": [], "current": None}
    return {
        "organisations": switchable_organisations(request),
        "current": current_organisation(request),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
