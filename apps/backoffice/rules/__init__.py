"""Back-office rules: pure data and functions, no database (docs/dev/style.md#app-shape).

* ``roles``: the staff roles (Django groups) and the default permissions each one holds.

Callers write ``from apps.backoffice.rules import roles`` then ``roles.ROLE_RULES``.
"""

from apps.backoffice.rules.roles import (
    FINANCE,
    OPERATIONS,
    PAYMENTS_ROLES,
    ROLE_LABELS,
    ROLE_RULES,
    SUPERUSER,
    SUPPORT,
    Rule,
    rule_matches,
)

__all__ = [
    "FINANCE",
    "OPERATIONS",
    "PAYMENTS_ROLES",
    "ROLE_LABELS",
    "ROLE_RULES",
    "SUPERUSER",
    "SUPPORT",
    "Rule",
    "rule_matches",
]
