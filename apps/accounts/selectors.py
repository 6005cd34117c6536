"""Accounts reads that other apps need about a user."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator

# A second factor is TOTP or a passkey; recovery codes are a fallback, not a
# factor (apps/docs/content/sign-in-and-mfa.md).
SECOND_FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def user_has_second_factor(*, user: Any) -> bool:
    """The user has enrolled TOTP or a passkey."""
    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTOR_TYPES).exists()
