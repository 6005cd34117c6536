"""How the checks of an order report problems: field → messages, so the API answers one 400 listing them all."""

from __future__ import annotations

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)
