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
first attempt and the key expires with it.

Which counters, and why none of them can lock correct logins globally
(apps/docs/content/sign-in-and-mfa.md, "Too many failed attempts"):

1. ``login-pair`` (account and client address, ``LOGIN_ATTEMPTS_LIMIT``):
   guessing one account from one address. The owner of the account, at any
   other address, still logs in.
2. ``login-ip`` (client address, ``LOGIN_ATTEMPTS_IP_LIMIT``): one address
   trying many accounts (password spraying).
3. ``login-account`` (account, all addresses, ``LOGIN_ATTEMPTS_ACCOUNT_LIMIT``):
   one account guessed from many addresses.

Counters are reserved in that order and a refusal stops there, giving back
the slots already taken: a refused attempt checks no password and counts
nowhere else, so one address hammering a locked pair never fills the
account-wide counter. An account and address that logged in successfully
within ``LOGIN_KNOWN_ADDRESS_DAYS`` is a *known pair*: it is held only to its
own counter (1), so neither spraying from a shared address (an office NAT, a
misconfigured proxy) nor a distributed attack on the account locks its owner
out where they usually log in. The client address comes from
``apps.core.middleware.client_ip`` (trusted proxies only). Settings also
include ``MFA_ATTEMPTS_LIMIT`` (per user) and ``LOGIN_ATTEMPTS_WINDOW``
seconds. Every refusal counts in ``vmcloud_login_lockouts_total{scope}`` (apps.core.metrics; wrong
passwords in ``vmcloud_login_failures_total``). OWASP ASVS 2.2.1 (anti-automation; soft lockout) and OWASP's
"Slow Down Online Guessing Attacks with Device Cookies" (known clients).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from apps.core import metrics


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
    return int(settings.LOGIN_ATTEMPTS_WINDOW)


def attempt_reserve(limits: dict[str, tuple[str, int]]) -> Slot:
    """Reserve one attempt under each ``{scope: (value, limit)}`` in order; allowed only if all are within limit.

    The first scope over its limit refuses the attempt: a refused attempt
    checks nothing, so it counts nowhere (its slots are given back at once and
    later scopes are not counted).
    """
    window = window_seconds()
    keys: list[str] = []
    for scope, (value, limit) in limits.items():
        if not value:
            continue
        key = _key(scope, value)
        if _incr(key, window) > limit:
            attempt_release(Slot(keys=(*keys, key), allowed=False))
            metrics.observe_lockout(scope)
            return Slot(keys=(), allowed=False)
        keys.append(key)
    return Slot(keys=tuple(keys), allowed=True)


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


def _pair(email: str, ip: str | None) -> str:
    return f"{email.strip().lower()}|{ip or 'unknown'}"


def login_limits(*, email: str, ip: str | None) -> dict[str, tuple[str, int]]:
    """The counters of a password attempt, tightest first (see the module docstring)."""
    pair_limit = int(settings.LOGIN_ATTEMPTS_LIMIT)
    limits = {"login-pair": (_pair(email, ip), pair_limit)}
    if login_pair_known(email=email, ip=ip):
        return limits
    limits["login-ip"] = (ip or "", int(settings.LOGIN_ATTEMPTS_IP_LIMIT))
    limits["login-account"] = (email, int(settings.LOGIN_ATTEMPTS_ACCOUNT_LIMIT))
    return limits


def login_pair_known(*, email: str, ip: str | None) -> bool:
    """This account logged in successfully from this address recently."""
    return bool(ip) and cache.get(_key("login-known", _pair(email, ip))) is not None


def login_pair_remember(*, email: str, ip: str | None) -> None:
    """Remember a successful login of this account from this address."""
    if ip:
        days = int(settings.LOGIN_KNOWN_ADDRESS_DAYS)
        cache.set(_key("login-known", _pair(email, ip)), 1, timeout=days * 24 * 3600)


def login_attempts_clear(*, email: str, ip: str | None) -> None:
    """Lift the account's counters at this address and account-wide (a password reset proved the mailbox)."""
    attempts_clear("login-account", email)
    attempts_clear("login-pair", _pair(email, ip))


def mfa_limits(*, user_id: int) -> dict[str, tuple[str, int]]:
    return {"mfa-user": (str(user_id), int(settings.MFA_ATTEMPTS_LIMIT))}
