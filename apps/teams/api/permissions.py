"""The one DRF permission class: HTTP verbs map to ``Permission`` s (Sentry's ``scope_map``).

A view declares::

    permission_classes = [ScopedPermission]
    scope_map = {"GET": Permission.MEMBERS_READ, "POST": Permission.MEMBERS_MANAGE}

When the URL carries ``org_id`` (or the view's ``organisation_kwarg``), the
organisation is resolved for the actor with the method's permission and set on
``view.organisation``: not visible → 404, visible without the permission →
403, suspended → 403 ``organisation_suspended``. Views whose objects are not
under an organisation path load them with ``access.object_get_for_actor``.

Whatever the view, a read-only token gets 403 ``token_read_only`` on any
unsafe method and a token of a suspended organisation gets 403
``organisation_suspended``.
Docs: https://www.django-rest-framework.org/api-guide/permissions/#custom-permissions
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from apps.core.errors import PermissionDenied
from apps.teams.access import bound_token, organisation_get_for_actor, raise_suspended
from apps.teams.choices import Permission, TokenScope


def check_token_limits(request: Request) -> None:
    token = bound_token(request.user)
    if token is None:
        return
    if token.organisation.is_suspended:
        raise_suspended(token.organisation)
    if request.method not in SAFE_METHODS and token.scope == TokenScope.READ_ONLY:
        raise PermissionDenied(_("This token is read-only."), code="token_read_only")


class ScopedPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers 401 with the authenticator's challenge
        check_token_limits(request)
        required: Permission | None = getattr(view, "scope_map", {}).get(request.method or "GET")
        kwarg = getattr(view, "organisation_kwarg", "org_id")
        if kwarg in getattr(view, "kwargs", {}):
            view.organisation = organisation_get_for_actor(
                actor=request.user, org_slug_or_id=view.kwargs[kwarg], permission=required or Permission.ORG_READ
            )
        return True
