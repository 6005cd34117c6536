"""Account writes, one module per topic, the public services re-exported here (docs/dev/style.md#app-shape):

* ``users``: suspending, unsuspending and deleting users, each audited in its transaction;
* ``lockout``: brute-force protection for password and MFA logins (atomic attempt counters in the cache).

Callers write ``from apps.accounts import services`` then ``services.user_suspend(...)``, or
``from apps.accounts.services import lockout`` for the counters.
"""

from apps.accounts.services.lockout import (
    Slot,
    attempt_release,
    attempt_reserve,
    attempts_clear,
    login_attempts_clear,
    login_limits,
    login_pair_known,
    login_pair_remember,
    mfa_limits,
    window_seconds,
)
from apps.accounts.services.users import user_delete, user_suspend, user_unsuspend

__all__ = [
    "Slot",
    "attempt_release",
    "attempt_reserve",
    "attempts_clear",
    "login_attempts_clear",
    "login_limits",
    "login_pair_known",
    "login_pair_remember",
    "mfa_limits",
    "user_delete",
    "user_suspend",
    "user_unsuspend",
    "window_seconds",
]
