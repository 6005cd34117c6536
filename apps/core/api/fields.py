"""Serializer fields shared by every API: bounded integers and labels.

Every integer the API reads (query parameter, body, path) has bounds, so no
number reaches the database outside its column's range (an unbounded
``IntegerField`` let ``?organisation=99999999999999999999`` overflow SQLite
into a 500). Labels are validated like Kubernetes and Hetzner labels
(``apps.core.labels``).
Docs: apps/docs/content/api-overview.md ("Labels and label selectors").
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.core.errors import ValidationFailed
from apps.core.labels import MAX_LABELS, labels_validate

# A signed 64-bit integer: PostgreSQL ``bigint`` and SQLite's INTEGER, the widest column we have.
INT64_MAX = 2**63 - 1
# ``BigAutoField`` primary keys.
ID_MAX = INT64_MAX
# A 32-bit ``integer`` column.
INT32_MAX = 2**31 - 1


class BoundedIntegerField(serializers.IntegerField):
    """An integer that always has bounds (default: a signed 64-bit value), so it fits any column."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -INT64_MAX - 1)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)


class IdField(BoundedIntegerField):
    """The numeric id of an object (organisation, project, member …): 1 to 2⁶³−1."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


def id_or_none(value: Any) -> int | None:
    """``value`` as an id if it is one (digits, within ``ID_MAX``), else None: for ids read by hand."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    else:
        return None
    return number if 1 <= number <= ID_MAX else None


class LabelsField(serializers.DictField):
    """A labels object (``{"env": "prod"}``), validated with ``apps.core.labels.labels_validate``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.CharField(max_length=63, allow_blank=True))
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                "Key/value labels, replaced whole. Keys: an optional DNS prefix and `/`, then 1 to 63 letters, "
                "digits, `-`, `_` or `.`, starting and ending with a letter or digit; values: empty or the same "
                "form. At most 64 labels."
            ),
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, dict) and len(data) > MAX_LABELS:
            raise ValidationError(gettext_lazy("At most 64 labels."))
        value = super().to_internal_value(data)
        try:
            return labels_validate(value)
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from exc
