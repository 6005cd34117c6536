"""Small SQL expressions several apps need, written once.

Used by billing metering and ``apps.instances.selectors.server_extras``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Func
from django.db.models.functions import Cast


def as_text(expression: Any) -> Cast:
    """A column as text."""
    return Cast(expression, output_field=CharField())


class address_text(Func):
    """An IP address column as text: PostgreSQL's ``inet`` casts to "a.b.c.d/32", ``host()`` does not.

    https://www.postgresql.org/docs/15/functions-net.html
    """

    function = "HOST"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite (``make run``) stores the address as text already.
        return Cast(self.source_expressions[0], output_field=CharField()).as_sql(compiler, connection, **extra)
