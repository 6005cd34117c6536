"""Organisations that require MFA: their members are sent to the MFA setup page until they enrol.

Runs after ``AuthenticationMiddleware`` (and accounts' suspension middleware).
Only TOTP and passkeys (WebAuthn) count: recovery codes are a fallback, not a
factor. Allowed while not enrolled: the MFA pages themselves, logout,
reauthentication, static files, docs and the language switch. The API answers
403 with code ``mfa_required`` (session callers; apps.teams' token
authentication applies the same rule to tokens).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.core import context
from apps.teams.models import Membership


def user_must_enrol_mfa(user: Any) -> bool:
    """The user belongs to an organisation requiring MFA and has no TOTP or passkey."""
    requiring = Membership.objects.filter(user=user, organisation__require_mfa=True)
    if not requiring.exists():
        return False
    return not Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def _allowed(self, path: str) -> bool:
        prefixes = [
            reverse("mfa_index"),
            reverse("account_logout"),
            reverse("account_reauthenticate"),
            settings.STATIC_URL or "/static/",
            "/docs/",
            "/i18n/",
        ]
        return any(path.startswith(p) for p in prefixes)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not self._allowed(request.path_info)
            and user_must_enrol_mfa(user)
        ):
            message = _("An organisation you belong to requires two-factor authentication: set it up to continue.")
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {
                        "error": {
                            "code": "mfa_required",
                            "message": message,
                            "fields": {},
                            "request_id": context.current().request_id,
                        }
                    },
                    status=403,
                )
            messages.warning(request, message)
            return redirect("mfa_index")
        return self.get_response(request)
