"""The allauth account adapter for what accounts alone knows: lockout and suspension.

apps.sso subclasses it (``PortalAccountAdapter``, the one ``ACCOUNT_ADAPTER``
names) to add what needs organisations: the personal organisation at sign-up
and "SSO required" domains. Hooks used are documented at
https://docs.allauth.org/en/latest/account/advanced.html#custom-redirects and
in ``allauth.account.adapter.DefaultAccountAdapter``.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.services import lockout
from apps.core.middleware import client_ip


class AccountAdapter(DefaultAccountAdapter):
    """Atomic login counters (apps.accounts.services.lockout) instead of allauth's, and suspended users kept out."""

    _lockout_slot: lockout.Slot | None = None

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's own per-address limits (signup, password reset, login) see
        # the same client as ours: the peer, or the address our trusted proxy
        # reports (apps.core.middleware.client_ip), never REMOTE_ADDR alone.
        ip = client_ip(request)
        return ip if ip else super().get_client_ip(request)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # Replaces allauth's cache-list rate limit (not atomic) with one INCR per
        # counter; see apps/accounts/services/lockout.py for why and for the counters.
        login = str(credentials.get("email") or credentials.get("username") or "")
        slot = lockout.attempt_reserve(lockout.login_limits(email=login, ip=client_ip(request)))
        self._lockout_slot = slot
        if not slot.allowed:
            raise self.validation_error("too_many_login_attempts")

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        if user is not None and self._lockout_slot is not None:
            lockout.attempt_release(self._lockout_slot)
            login = str(credentials.get("email") or credentials.get("username") or "")
            lockout.login_pair_remember(email=login, ip=client_ip(request))
        self._lockout_slot = None
        return user

    def _delete_login_attempts_cached_email(self, request: HttpRequest, **credentials: Any) -> None:
        # allauth calls this after a successful password reset: the reset proved
        # control of the mailbox, so the account-wide lockout is lifted.
        login = str(credentials.get("email") or "")
        if login:
            lockout.login_attempts_clear(email=login, ip=client_ip(request))

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse | None:
        if getattr(user, "suspended_at", None) is not None:
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return self.respond_user_suspended(request, user)
        return super().pre_login(request, user, **kwargs)

    def respond_user_suspended(self, request: HttpRequest, user: AbstractBaseUser) -> HttpResponse:
        return render(
            request,
            "account/account_suspended.html",
            {"suspension_reason": getattr(user, "suspension_reason", "")},
            status=403,
        )
