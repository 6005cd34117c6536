"""What the apps around a server add to it in the API: its volumes, private networks, firewalls, floating IPs.

Instances sits below those apps and never imports them. Each registers, in its
``AppConfig.ready()`` (``server_extra_register``), a queryset of its live rows
annotated ``extra_server`` (the server's primary key), ``extra_a`` and
``extra_b`` (text), and how one row becomes a value. The registry sends all of
them as ONE ``UNION ALL`` query for a whole page of servers, so listing servers
costs one query more whatever the page's length and however many apps register
(``benchmarks/instance_list_bench.py``). The fields are declared once, with
their schema, by ``apps.instances.api.serializers.InstanceOutputSerializer``;
a field whose app is not installed is an empty list.

The query's text is the same for every page: the page's server keys are one
array parameter (``= ANY(%s)`` on PostgreSQL, ``json_each`` on SQLite) instead
of an ``IN`` list as long as the page. So the registry builds and compiles the
querysets once per process and then only executes that text: building and
compiling four querysets on each request cost more than the rest of the extra
query (the instance list fell from 1/4.4 to 1/6.5 of the bare view with it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, CharField, Expression, F, QuerySet, Value

SERVER_EXTRA_FIELDS = ("volumes", "private_networks", "firewalls", "floating_ips")


@dataclass(frozen=True)
class _Extra:
    rows: Callable[[], QuerySet[Any]]
    shape: Callable[[str, str], Any]


_EXTRAS: dict[str, _Extra] = {}
# The compiled UNION ALL per database vendor: (sql, params), ``_PAGE`` standing for the page's keys in params.
_COMPILED: dict[str, tuple[str, tuple[Any, ...]]] = {}


class _Page:
    """Stands for the page's server keys in the compiled parameters until a call supplies them."""

    def __repr__(self) -> str:  # pragma: no cover - shows in debugging only
        return "<server_extras page>"


_PAGE = _Page()


class _OnPage(Expression):
    """``column`` is one of the page's server keys, with the keys as ONE parameter (the SQL text never varies).

    PostgreSQL: ``column = ANY(%s::bigint[])`` with the array's text, ``{1,2,3}``
    (https://www.postgresql.org/docs/15/functions-comparisons.html#id-1.5.8.30.16,
    https://www.postgresql.org/docs/15/arrays.html#ARRAYS-INPUT);
    SQLite (``make run``): ``column IN (SELECT value FROM json_each(%s))`` with a JSON array, ``[1,2,3]``
    (https://www.sqlite.org/json1.html#jeach). Text either way: the driver passes one string as it is
    (the page appears once per app in the query), where it would walk a Python list for each.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: Any) -> None:
        super().__init__()
        self.column = column

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.column)
        return f"{sql} = ANY(%s::bigint[])", (*params, _PAGE)

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.column)
        return f"{sql} IN (SELECT value FROM json_each(%s))", (*params, _PAGE)  # noqa: S608 - a compiled column


def server_extra_register(*, field: str, rows: Callable[[], QuerySet[Any]], shape: Callable[[str, str], Any]) -> None:
    """Let an app answer ``field`` (one of ``SERVER_EXTRA_FIELDS``) of every server.

    ``rows()`` is a queryset of the app's live rows for all servers (the registry narrows it to a
    page), annotated ``extra_server`` (the server's pk), ``extra_a``, ``extra_b``, both text (build
    them with ``apps.core.sql.as_text``/``address_text``: the rows are read without the ORM's
    converters); ``shape(a, b)`` turns one row into the value.
    """
    if field not in SERVER_EXTRA_FIELDS:
        raise ValueError(f"unknown server field {field!r}: declare it in SERVER_EXTRA_FIELDS and the serializer")
    _EXTRAS[field] = _Extra(rows=rows, shape=shape)
    _COMPILED.clear()


def _compiled(vendor: str) -> tuple[str, tuple[Any, ...]]:
    if vendor not in _COMPILED:
        parts = [
            extra.rows()
            .order_by()
            .filter(_OnPage(F("extra_server")))
            .annotate(extra_field=Value(field, output_field=CharField()))
            .values_list("extra_field", "extra_server", "extra_a", "extra_b")
            for field, extra in _EXTRAS.items()
        ]
        query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        sql, params = query.query.sql_with_params()
        _COMPILED[vendor] = (sql, tuple(params))
    return _COMPILED[vendor]


def _uuid_text(value: str) -> str:
    # PostgreSQL casts a uuid to its canonical text (lowercase, with dashes), SQLite stores 32 hex digits:
    # one spelling for both, without parsing PostgreSQL's (a few hundred values a page).
    return value if len(value) == 36 else str(uuid.UUID(value))


def server_extras(server_pks: Iterable[int]) -> dict[str, dict[int, list[Any]]]:
    """Each registered field's values for these servers: {field: {pk: [values]}}, in one query."""
    pks = list(server_pks)
    found: dict[str, dict[int, list[Any]]] = {field: {} for field in SERVER_EXTRA_FIELDS}
    if not pks or not _EXTRAS:
        return found
    connection = connections[DEFAULT_DB_ALIAS]
    sql, params = _compiled(connection.vendor)
    keys = ",".join(str(int(pk)) for pk in pks)
    page = f"[{keys}]" if connection.vendor == "sqlite" else f"{{{keys}}}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [page if param is _PAGE else param for param in params])
        rows = cursor.fetchall()
    if not rows:
        return found
    rows.sort(key=lambda row: (row[0], row[1], row[2] or "", row[3] or ""))
    for field, server, a, b in rows:
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
