"""The service object's fields as the family checks read them, and the problems they collect.

``_Errors`` gathers every problem under ``service.<path>`` so that one
``ValidationFailed`` lists them all; ``_int``, ``_str`` and ``_list`` read a
field leniently (a form sends text, the API sends JSON). Shared by every
family's module of ``apps.managed.rules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

# The rules read the fields of catalogue.Offer (a tier); it is typed loosely so that they import no model
# (rules touch no database: docs/dev/style.md#app-shape).
Offer = Any

PREFIX = "service"


@dataclass
class _Errors:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        self.fields.setdefault(f"{PREFIX}.{path}" if path else PREFIX, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)


def _int(value: Any, *, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _str(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return None


def _list(data: Mapping[str, Any], key: str, errors: _Errors) -> list[Any]:
    value = data.get(key)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        errors.add(key, _("Send a list."))
        return []
    return value
