"""DRF authentication for personal access tokens: ``Authorization: Bearer vmc_pat_…``.

Docs: https://www.django-rest-framework.org/api-guide/authentication/#custom-authentication
Expired, revoked or unknown tokens answer 401 with the one error body and a
``WWW-Authenticate: Bearer`` challenge (RFC 6750 §3).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from apps.accounts.selectors import user_has_second_factor
from apps.core.errors import PermissionDenied
from apps.core.middleware import client_ip
from apps.teams.access import bind_token, token_auth_queryset
from apps.teams.models import ApiToken
from apps.teams.rules.tokens import parse_api_token, token_matches
from apps.teams.services import api_token_touch


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header: use “Bearer <token>”."))
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from exc
        prefix = parse_api_token(raw)
        if prefix is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        # One query: the token, its user and organisation, the holder's role and the token's project limit.
        # ``prefix`` is unique: no ORDER BY (``first()`` would sort by the model's ordering).
        token = next(iter(token_auth_queryset().filter(prefix=prefix).order_by()[:1]), None)
        if token is None or not token_matches(raw, token.secret_hash):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."))
        if token.is_expired:
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is disabled."))
        if getattr(token.user, "suspended_at", None) is not None:
            # User suspension (apps.accounts.services.user_suspend) blocks tokens
            # too; the session middleware only sees cookie-authenticated calls.
            # Same code as apps.accounts.middleware gives session callers.
            raise PermissionDenied(
                _("This account is suspended: %(reason)s")
                % {"reason": getattr(token.user, "suspension_reason", "") or _("contact support.")},
                code="account_suspended",
            )
        if token.organisation.require_mfa and not user_has_second_factor(user=token.user):
            # The organisation turned MFA on after this token was made: the portal sends its holder to
            # MFA setup (apps.sso.middleware), and the token waits until they have enrolled.
            raise PermissionDenied(
                str(_("Your organisation requires two-factor authentication: set it up to use this token.")),
                code="mfa_required",
            )
        bind_token(token.user, token)
        api_token_touch(token=token, ip=client_ip(request._request))
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
