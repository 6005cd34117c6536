"""Brute-force protection for password and MFA logins: atomic attempt counters.

Why not allauth's ``ACCOUNT_RATE_LIMITS["login_failed"]``: allauth keeps a list
of timestamps per key and rewrites it with ``cache.set`` (read, modify,
write). Older releases let simultaneous requests all pass; 65.21 guards the
rewrite with a spin lock (``cache.add``) and answers 429 to whoever cannot
take the lock in time, so under a burst the outcome depends on timing, and
legitimate concurrent requests are refused too. Here every attempt first
*reserves* a slot with one atomic ``INCR`` (django-redis ``cache.incr`` on
Redis; ``LocMemCache.incr`` holds a lock in-process) and only the attempts
whose reserved number is within the limit get to check the password or code:
no lock, no waiting. Twenty simultaneous wrong passwords against a limit of
five therefore evaluate exactly five passwords
(tests/accounts/test_lockout.py).

A successful attempt gives its slot back (``attempt_release``) instead of
wiping the counter, so an attacker who also knows a valid account cannot
reset the counter between guesses (the same reasoning as allauth's
``_rollback_login_failed_rl_usage``). The window is fixed: it starts at the
first attempt and the key expires with it. Settings:
``LOGIN_ATTEMPTS_LIMIT`` (per email), ``LOGIN_ATTEMPTS_IP_LIMIT`` (per client
IP), ``MFA_ATTEMPTS_LIMIT`` (per user) and ``LOGIN_ATTEMPTS_WINDOW`` seconds.
OWASP ASVS 2.2.1 (anti-automation; soft lockout).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Slot:
    """A reserved attempt: the counter keys it incremented, to give back on success."""

    keys: tuple[str, ...]
    allowed: bool


def _key(scope: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"lockout:{scope}:{digest}"


def _incr(key: str, window: int) -> int:
    # add() is SET NX EX on Redis: exactly one caller creates the key with its
    # expiry; incr() is INCR, atomic, and keeps that expiry.
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr: start a new window
        cache.add(key, 1, timeout=window)
        return 1


def window_seconds() -> int:
    return int(getattr(settings, "LOGIN_ATTEMPTS_WINDOW", 15 * 60))


def attempt_reserve(limits: dict[str, tuple[str, int]]) -> Slot:
    """Reserve one attempt under every ``{scope: (value, limit)}``; allowed only if all are within limit."""
    window = window_seconds()
    keys: list[str] = []
    allowed = True
    for scope, (value, limit) in limits.items():
        if not value:
            continue
        key = _key(scope, value)
        keys.append(key)
        if _incr(key, window) > limit:
            allowed = False
    return Slot(keys=tuple(keys), allowed=allowed)


def attempt_release(slot: Slot) -> None:
    """Give the slot back after a successful attempt."""
    for key in slot.keys:
        try:
            if int(cache.decr(key)) < 0:
                cache.set(key, 0, timeout=window_seconds())
        except ValueError:  # the window already ended
            pass


def attempts_clear(scope: str, value: str) -> None:
    """Forget the counter of one scope (after a successful password reset, or by staff)."""
    cache.delete(_key(scope, value))


def login_limits(*, email: str, ip: str | None) -> dict[str, tuple[str, int]]:
    return {
        "login-email": (email, int(getattr(settings, "LOGIN_ATTEMPTS_LIMIT", 5))),
        "login-ip": (ip or "", int(getattr(settings, "LOGIN_ATTEMPTS_IP_LIMIT", 50))),
    }


def mfa_limits(*, user_id: int) -> dict[str, tuple[str, int]]:
    return {"mfa-user": (str(user_id), int(getattr(settings, "MFA_ATTEMPTS_LIMIT", 5)))}
