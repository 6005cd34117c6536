"""Suspended users lose their sessions: portal pages and API calls made with a session cookie.

The login itself is refused in ``AccountAdapter.pre_login``; this middleware
ends sessions that were open when staff suspended the user. It runs after
``AuthenticationMiddleware``. API tokens are authenticated later, by DRF:
apps.teams' token authentication refuses suspended holders itself.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.core import context


class SuspendedUserMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "suspended_at", None) is not None:
            reason = user.suspension_reason
            logout(request)
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "error": {
                            "code": "account_suspended",
                            "message": _("This account is suspended: %(reason)s") % {"reason": reason},
                            "fields": {},
                            "request_id": context.current().request_id,
                        }
                    },
                    status=403,
                )
            return render(request, "account/account_suspended.html", {"suspension_reason": reason}, status=403)
        return self.get_response(request)
