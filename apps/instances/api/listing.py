"""The instance list's JSON, built straight from column tuples: the fast path of ``GET /api/v1/instances/``.

``InstanceOutputSerializer`` stays the contract (the OpenAPI schema of the
list and the detail, and the reference ``tests/instances/test_api_listing.py``
compares every field against). Walking 50 model instances, each with its
offer, datacentre and image, through DRF's field machinery cost more than the
rest of the request together (``benchmarks/instance_list_bench.py``), so the
list reads ``selectors.API_LIST_COLUMNS`` with ``values_list`` and formats
each value the way the serializer's field would:

* UUIDs as hyphenated strings, choices as their stored value;
* decimals with ``{:f}``: PostgreSQL returns ``numeric(m, d)`` columns with
  exactly ``d`` decimals, which is what DRF's ``DecimalField`` quantizes to;
* datetimes in the current time zone as ISO 8601, ``+00:00`` written ``Z``
  (DRF ``DateTimeField`` with the default ``ISO_8601`` format).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.instances.selectors import API_LIST_COLUMNS
from apps.instances.selectors.server_extras import server_extras_add

# Output field -> column of API_LIST_COLUMNS; the serializer's Meta.fields order.
FIELD_COLUMNS: dict[str, str] = {
    "id": "public_id",
    "name": "name",
    "organisation_id": "organisation_id",
    "project_id": "project_id",
    "status": "status",
    "power_state": "power_state",
    "offer": "offer__code",
    "datacentre": "datacentre__code",
    "image": "image__slug",
    "ipv4": "ipv4",
    "ipv6": "ipv6",
    "gpus": "gpu_mappings",
    "labels": "labels",
    "delete_protection": "delete_protection",
    "price_hourly": "price_hourly",
    "price_monthly": "price_monthly",
    "error_message": "error_message",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
if (*FIELD_COLUMNS.values(), "pk") != API_LIST_COLUMNS:  # the unpacking below relies on this order
    raise RuntimeError("apps.instances.api.listing.FIELD_COLUMNS must follow selectors.API_LIST_COLUMNS")


def _decimal(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _is_utc(tz: Any) -> bool:
    return tz is UTC or getattr(tz, "key", None) in ("UTC", "Etc/UTC")


def _datetime(value: datetime | None, tz: Any, tz_is_utc: bool = False) -> str | None:
    if not value:
        return None
    if tz_is_utc and value.tzinfo is UTC:
        # PostgreSQL's datetimes come in UTC (Django's connection time zone), so when the current time
        # zone is UTC too ``astimezone`` would change nothing and ``isoformat`` ends with ``+00:00``:
        # the same text as the general path below, in about 60% of its time, for two datetimes a row.
        return value.isoformat()[:-6] + "Z"
    text = value.astimezone(tz).isoformat() if timezone.is_aware(value) else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def instance_rows_representation(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """``InstanceOutputSerializer(many=True).data`` for rows of ``selectors.instance_list_rows``, with the
    fields the apps around a server add (``server_extras``: one query per field for the whole page)."""
    tz = timezone.get_current_timezone()
    rows = list(rows)
    return server_extras_add(_rows_representation(rows, tz=tz, utc=_is_utc(tz)), pks=[row[-1] for row in rows])


def _rows_representation(rows: Iterable[Sequence[Any]], *, tz: Any, utc: bool) -> list[dict[str, Any]]:
    return [
        {
            "id": str(public_id),
            "name": name,
            "organisation_id": organisation_id,
            "project_id": project_id,
            "status": status,
            "power_state": power_state,
            "offer": offer,
            "datacentre": datacentre,
            "image": image,
            "ipv4": None if ipv4 is None else str(ipv4),
            "ipv6": None if ipv6 is None else str(ipv6),
            "gpus": len(gpu_mappings or []),
            "labels": labels,
            "delete_protection": bool(delete_protection),
            "price_hourly": _decimal(price_hourly),
            "price_monthly": _decimal(price_monthly),
            "error_message": error_message,
            "created_at": _datetime(created_at, tz, utc),
            "updated_at": _datetime(updated_at, tz, utc),
        }
        for (
            public_id,
            name,
            organisation_id,
            project_id,
            status,
            power_state,
            offer,
            datacentre,
            image,
            ipv4,
            ipv6,
            gpu_mappings,
            labels,
            delete_protection,
            price_hourly,
            price_monthly,
            error_message,
            created_at,
            updated_at,
            _pk,
        ) in rows
    ]
