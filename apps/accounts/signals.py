"""Signals accounts sends so that higher apps can react without accounts importing them.

``user_deletion_requested`` is sent by ``services.user_delete`` inside its
transaction, before the row is deleted. Receivers (apps.sso connects the one
that knows about organisations) return a list of human-readable reasons that
block the deletion, and may clean up what they own; an empty list lets the
deletion go ahead.
"""

from django.dispatch import Signal

# kwargs: user, actor. Receivers return list[str] of blocking reasons.
user_deletion_requested = Signal()
