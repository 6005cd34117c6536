"""Portal access helpers: the current organisation (kept in the session) and the
``org_view`` decorator every teams page uses, built on ``apps.teams.access``.

Higher apps' portal views use them too::

    @org_view(Permission.RESOURCES_READ)
    def server_list(request, organisation): ...

Outcomes: organisation not visible → 404; suspended → a 403 page with the
reason (code ``organisation_suspended``); visible without the permission → 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.errors import NotFound, PermissionDenied
from apps.teams.access import OrganisationSuspended, organisation_get_for_actor, organisation_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Membership, Organisation

SESSION_KEY = "current_organisation_id"


def switchable_organisations(request: HttpRequest) -> list[Organisation]:
    return list(organisation_list_for_actor(actor=request.user).order_by("-is_personal", "name"))


def current_organisation(request: HttpRequest) -> Organisation | None:
    """The organisation chosen in the switcher, else the user's first (personal first)."""
    cached = getattr(request, "_current_organisation", None)
    if cached is not None:
        return cached if isinstance(cached, Organisation) else None
    visible = organisation_list_for_actor(actor=request.user)
    org_id = request.session.get(SESSION_KEY)
    org = visible.filter(pk=org_id).first() if org_id else None
    if org is None:
        first = (
            Membership.objects.filter(user_id=cast(int, request.user.pk), organisation__in=visible)
            .order_by("-organisation__is_personal", "organisation__name")
            .select_related("organisation")
            .first()
        )
        org = first.organisation if first else visible.order_by("name").first()
    request._current_organisation = org or False  # type: ignore[attr-defined]
    return org


def set_current_organisation(request: HttpRequest, organisation: Organisation) -> None:
    request.session[SESSION_KEY] = organisation.pk
    request._current_organisation = organisation  # type: ignore[attr-defined]


def org_view(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., HttpResponse]]:
    """Login required; resolves the current organisation for ``permission`` and passes it on."""

    def decorator(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            org = current_organisation(request)
            if org is None:
                return render(request, "teams/no_organisation.html", status=404)
            try:
                organisation = organisation_get_for_actor(
                    actor=request.user, org_slug_or_id=org.pk, permission=permission
                )
                return view(request, organisation, *args, **kwargs)
            except OrganisationSuspended as exc:
                return render(
                    request,
                    "teams/suspended.html",
                    {"organisation": org, "message": exc.message, "code": exc.code},
                    status=403,
                )
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except PermissionDenied as exc:
                return render(request, "teams/forbidden.html", {"message": exc.message}, status=403)

        return wrapper

    return decorator
