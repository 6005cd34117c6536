"""Floating IP rules: pure functions, no database (``docs/dev/style.md#app-shape``).

* ``guest``: what to run in a guest to use a floating IP (the snippets the portal and the docs show).
"""

from apps.floating_ips.rules.guest import INTERFACE, GuestSnippet, guest_snippets

__all__ = ["INTERFACE", "GuestSnippet", "guest_snippets"]
