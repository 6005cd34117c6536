"""What the apps around a server add to it in the API: its volumes, private networks, firewalls, floating IPs.

Instances sits below those apps and never imports them. Each registers, in its
``AppConfig.ready()`` (``server_extra_register``), a queryset of its rows for
a page of servers (by primary key: no join), annotated ``extra_server`` (the
server's primary key), ``extra_a`` and ``extra_b`` (text), and how one row
becomes a value. The
registry sends all of them as ONE ``UNION ALL`` query, so listing servers costs
one query more whatever the page's length and however many apps register
(``benchmarks/instance_list_bench.py``). The fields are declared once, with
their schema, by ``apps.instances.api.serializers.InstanceOutputSerializer``;
a field whose app is not installed is an empty list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, QuerySet, Value

SERVER_EXTRA_FIELDS = ("volumes", "private_networks", "firewalls", "floating_ips")


@dataclass(frozen=True)
class _Extra:
    rows: Callable[[Sequence[int]], QuerySet[Any]]
    shape: Callable[[str, str], Any]


_EXTRAS: dict[str, _Extra] = {}


def server_extra_register(
    *, field: str, rows: Callable[[Sequence[int]], QuerySet[Any]], shape: Callable[[str, str], Any]
) -> None:
    """Let an app answer ``field`` (one of ``SERVER_EXTRA_FIELDS``) of every server.

    ``rows(server_pks)`` is a queryset annotated ``extra_server`` (the pk), ``extra_a``, ``extra_b``
    (build them with ``apps.core.sql.as_text``/``address_text``); ``shape(a, b)`` turns one row into the value.
    """
    if field not in SERVER_EXTRA_FIELDS:
        raise ValueError(f"unknown server field {field!r}: declare it in SERVER_EXTRA_FIELDS and the serializer")
    _EXTRAS[field] = _Extra(rows=rows, shape=shape)


def _uuid_text(value: str) -> str:
    # PostgreSQL casts a uuid with dashes, SQLite stores 32 hex digits: one spelling for both.
    return str(uuid.UUID(value))


def server_extras(server_pks: Iterable[int]) -> dict[str, dict[int, list[Any]]]:
    """Each registered field's values for these servers: {field: {pk: [values]}}, in one query."""
    pks = list(server_pks)
    found: dict[str, dict[int, list[Any]]] = {field: {} for field in SERVER_EXTRA_FIELDS}
    if not pks or not _EXTRAS:
        return found
    parts = [
        extra.rows(pks)
        .order_by()
        .annotate(extra_field=Value(field, output_field=CharField()))
        .values_list("extra_field", "extra_server", "extra_a", "extra_b")
        for field, extra in _EXTRAS.items()
    ]
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    for field, server, a, b in sorted(query, key=lambda row: (row[0], row[1], row[2] or "", row[3] or "")):
        found[field].setdefault(server, []).append(_EXTRAS[field].shape(a or "", b or ""))
    return found


def server_extras_add(items: list[dict[str, Any]], *, pks: Sequence[int]) -> list[dict[str, Any]]:
    """Add the extra fields to API representations of servers (``pks`` in the same order), in place."""
    extras = server_extras(pks)
    for item, pk in zip(items, pks, strict=True):
        for field in SERVER_EXTRA_FIELDS:
            item[field] = list(extras[field].get(pk, []))
    return items


def uuid_value(a: str, b: str) -> str:
    """``shape`` of a field that is a list of ids."""
    return _uuid_text(a)
