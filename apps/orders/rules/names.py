"""An order's name: a server's is one hostname label, a managed service's a hostname of at most 63 characters.

The hostname rule is the servers' own (``apps.instances.rules.hostname_problems``,
RFC 1123), so an order and the server it becomes are checked alike.
"""

from __future__ import annotations

from apps.instances.rules import hostname_problems
from apps.orders.rules.errors import Errors

SERVICE_NAME_MAX = 63  # ManagedService.name


def check_hostname(name: str, *, single_label: bool = False) -> Errors:
    """The name is a hostname (``apps.instances.rules.hostname_problems``: one rule for orders and servers)."""
    problems = hostname_problems(name, single_label=single_label)
    return {"name": problems} if problems else {}
