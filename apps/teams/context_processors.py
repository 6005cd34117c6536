"""Template context: the signed-in user's organisations and the current one (for the org switcher)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from apps.teams.portal import current_organisation, switchable_organisations


def organisations(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_organisations": SimpleLazyObject(lambda: switchable_organisations(request)),
        "current_organisation": SimpleLazyObject(lambda: current_organisation(request)),
    }
