"""CSV export of an audit trail, streamed row by row (shared by the API and the portal).

Cells that start with ``=``, ``+``, ``-`` or ``@`` are prefixed with a quote so
a spreadsheet never evaluates them (OWASP "CSV Injection").
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from apps.core.models import AuditEvent

CSV_COLUMNS = [
    "time",
    "actor_kind",
    "actor",
    "token",
    "action",
    "object_type",
    "object_id",
    "object",
    "changes",
    "ip",
    "user_agent",
    "request_id",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv_rows(events: QuerySet[AuditEvent] | Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    iterable = events.iterator(chunk_size=500) if isinstance(events, QuerySet) else events
    for e in iterable:
        ct = e.target_type
        target_type = f"{ct.app_label}.{ct.model}" if ct is not None else ""
        yield writer.writerow(
            [
                _safe(e.created_at.isoformat()),
                _safe(e.actor_kind),
                _safe(e.actor_label),
                _safe(e.actor_token),
                _safe(e.action),
                _safe(target_type),
                _safe(e.target_id),
                _safe(e.target_repr),
                _safe(json.dumps(e.changes, ensure_ascii=False, sort_keys=True)),
                _safe(e.ip),
                _safe(e.user_agent),
                _safe(e.request_id),
            ]
        )
