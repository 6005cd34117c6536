"""The hourly metering run: closed UTC hours of usage written into the ledger (``UsageRecord``) in set-based SQL.

One hour is metered in ONE transaction by three ``INSERT INTO billing_usagerecord
… SELECT … ON CONFLICT (resource_type, resource_id, hour) DO NOTHING``
statements (servers, snapshot storage, managed services) and a ``MeteringRun``
row: no Python loop over resources, and running an hour again inserts nothing.
``meter_catch_up`` meters every closed hour after the last run, each hour in its
own transaction, so a missed hour (beat down, worker restarted) is caught up.

The rules (customer text in ``apps/docs/content/billing.md``):

* a server is billed per *started* hour from the moment it first runs until it
  is deleted, stopped or not (``instances.InstancePricePeriod``); when a resize
  inside an hour leaves two price periods overlapping it, the hour is billed
  once, at the later period's price;
* snapshot storage: every GB of a snapshot that exists during the hour, at the
  hourly per-GB price of the catalogue offer ``BILLING_SNAPSHOT_OFFER_CODE``,
  with no monthly cap;
* a managed service: one unit per hour from delivery (``fulfilled_at``) until
  its end (``service_ended_at``), at the order's frozen price and cap. Block
  storage orders have no size in the order model: they are one unit at the
  order's frozen price (which is the price of the size ordered).

The SQL is written to run on PostgreSQL (production, tests) and on SQLite
(``make run``): ``ON CONFLICT DO NOTHING`` exists on SQLite >= 3.24, and the
"later period wins" rule is a ``NOT EXISTS`` rather than PostgreSQL's
``DISTINCT ON``. Two beat runs never race: each hour's transaction first takes
a PostgreSQL advisory lock (``pg_try_advisory_xact_lock``) and skips if busy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from apps.billing.choices import ResourceType
from apps.billing.models import MeteringRun
from apps.catalogue.models import Offer
from apps.instances.models import InstancePricePeriod, Snapshot
from apps.orders.models import Order

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
# The first catch-up (empty ledger) never looks further back than this.
FIRST_RUN_MAX_DAYS = 31
# Key of the advisory lock that serialises metering transactions (any constant bigint; "METER" in ASCII).
ADVISORY_LOCK_KEY = 0x4D45544552

# Servers: every price period overlapping [hour, hour + 1h); when two overlap (a resize inside the
# hour), the later one (greatest started_at, then id) wins, so the hour is billed once.
INSTANCES_SQL = """
INSERT INTO billing_usagerecord (
    organisation_id, project_id, resource_type, resource_id, resource_name, description, hour,
    quantity, unit_price, amount, monthly_cap, created_at
)
SELECT i.organisation_id, i.project_id, %(kind)s, i.public_id, i.name, o.code, %(hour)s,
       1, p.price_hourly, p.price_hourly, p.price_monthly, %(now)s
FROM instances_instancepriceperiod p
JOIN instances_instance i ON i.id = p.instance_id
JOIN catalogue_offer o ON o.id = p.offer_id
WHERE p.started_at < %(hour_end)s
  AND (p.ended_at IS NULL OR p.ended_at > %(hour)s)
  AND (p.ended_at IS NULL OR p.ended_at > p.started_at)
  AND NOT EXISTS (
      SELECT 1 FROM instances_instancepriceperiod later
      WHERE later.instance_id = p.instance_id
        AND later.started_at < %(hour_end)s
        AND (later.ended_at IS NULL OR later.ended_at > %(hour)s)
        AND (later.ended_at IS NULL OR later.ended_at > later.started_at)
        AND (later.started_at > p.started_at OR (later.started_at = p.started_at AND later.id > p.id))
  )
ON CONFLICT (resource_type, resource_id, hour) DO NOTHING
"""

# Snapshot storage: GB of every snapshot existing during the hour. A snapshot marked deleted
# without a deletion time (deleted before that time was recorded) is never billed.
SNAPSHOTS_SQL = """
INSERT INTO billing_usagerecord (
    organisation_id, project_id, resource_type, resource_id, resource_name, description, hour,
    quantity, unit_price, amount, monthly_cap, created_at
)
SELECT i.organisation_id, i.project_id, %(kind)s, s.public_id, i.name || ' / ' || s.name, %(description)s,
       %(hour)s, s.size_gb, %(price)s, s.size_gb * %(price)s, NULL, %(now)s
FROM instances_snapshot s
JOIN instances_instance i ON i.id = s.instance_id
WHERE s.status <> 'error'
  AND s.size_gb > 0
  AND s.created_at < %(hour_end)s
  AND (s.deleted_at IS NULL OR s.deleted_at > %(hour)s)
  AND (s.status <> 'deleted' OR s.deleted_at IS NOT NULL)
ON CONFLICT (resource_type, resource_id, hour) DO NOTHING
"""

# Managed services: one unit an hour from delivery to the end of the service, at the order's price.
SERVICES_SQL = """
INSERT INTO billing_usagerecord (
    organisation_id, project_id, resource_type, resource_id, resource_name, description, hour,
    quantity, unit_price, amount, monthly_cap, created_at
)
SELECT r.organisation_id, r.project_id, %(kind)s, r.public_id, r.name, o.code, %(hour)s,
       1, r.price_hourly, r.price_hourly, r.price_monthly, %(now)s
FROM orders_order r
JOIN catalogue_offer o ON o.id = r.offer_id
WHERE r.fulfilled_at IS NOT NULL
  AND r.fulfilled_at < %(hour_end)s
  AND (r.service_ended_at IS NULL OR r.service_ended_at > %(hour)s)
ON CONFLICT (resource_type, resource_id, hour) DO NOTHING
"""


@dataclass(frozen=True)
class HourResult:
    """What one metered hour wrote (``skipped``: another run held the lock)."""

    hour: datetime
    records_created: int
    duration_ms: int
    skipped: bool = False


def hour_floor(moment: datetime) -> datetime:
    """The start of the UTC hour containing ``moment``."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _db_time(value: datetime) -> Any:
    # PostgreSQL takes aware datetimes; SQLite stores naive UTC text, which Django's adapter produces.
    return connection.ops.adapt_datetimefield_value(value)


def _try_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # the embedded dev run has one beat and one worker
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        row = cursor.fetchone()
    return bool(row and row[0])


def _snapshot_price() -> Decimal | None:
    code = settings.BILLING_SNAPSHOT_OFFER_CODE
    price = Offer.objects.filter(code=code).values_list("price_hourly", flat=True).first()
    if price is None:
        logger.warning("billing: snapshot offer %s is missing from the catalogue; snapshots are not metered", code)
    return price


def meter_hour(*, hour: datetime) -> HourResult:
    """Meter the closed UTC hour [hour, hour + 1h) in one transaction. Idempotent."""
    if timezone.is_naive(hour):
        raise ValueError("meter_hour needs an aware datetime")
    hour = hour.astimezone(UTC)
    if hour != hour_floor(hour):
        raise ValueError("meter_hour needs the start of an hour")
    started = time.perf_counter()
    snapshot_price = _snapshot_price()
    now = timezone.now()
    params: dict[str, Any] = {"hour": _db_time(hour), "hour_end": _db_time(hour + HOUR), "now": _db_time(now)}
    created = 0
    with transaction.atomic():
        if not _try_lock():
            return HourResult(hour=hour, records_created=0, duration_ms=0, skipped=True)
        with connection.cursor() as cursor:
            cursor.execute(INSTANCES_SQL, {**params, "kind": ResourceType.INSTANCE.value})
            created += max(cursor.rowcount, 0)
            if snapshot_price is not None:
                cursor.execute(
                    SNAPSHOTS_SQL,
                    {
                        **params,
                        "kind": ResourceType.SNAPSHOT.value,
                        "price": snapshot_price,
                        "description": settings.BILLING_SNAPSHOT_OFFER_CODE,
                    },
                )
                created += max(cursor.rowcount, 0)
            cursor.execute(SERVICES_SQL, {**params, "kind": ResourceType.SERVICE.value})
            created += max(cursor.rowcount, 0)
        duration_ms = int((time.perf_counter() - started) * 1000)
        run, was_created = MeteringRun.objects.get_or_create(
            hour=hour, defaults={"records_created": created, "duration_ms": duration_ms}
        )
        if not was_created and created:
            # Rows that appeared late (a price period written after the first run): count them too.
            MeteringRun.objects.filter(pk=run.pk).update(records_created=run.records_created + created)
    return HourResult(hour=hour, records_created=created, duration_ms=duration_ms)


def _first_hour(*, last_closed: datetime) -> datetime:
    """Where an empty ledger starts: the earliest start of anything still billable, at most 31 days back."""
    floor = last_closed - timedelta(days=FIRST_RUN_MAX_DAYS) + HOUR
    starts = [
        InstancePricePeriod.objects.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=floor)).aggregate(
            m=Min("started_at")
        )["m"],
        Snapshot.objects.filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=floor))
        .exclude(status="error")
        .aggregate(m=Min("created_at"))["m"],
        Order.objects.filter(fulfilled_at__isnull=False)
        .filter(Q(service_ended_at__isnull=True) | Q(service_ended_at__gt=floor))
        .aggregate(m=Min("fulfilled_at"))["m"],
    ]
    known = [hour_floor(s) for s in starts if s is not None]
    if not known:
        return last_closed
    return min(max(min(known), floor), last_closed)


def meter_catch_up(*, now: datetime | None = None) -> list[HourResult]:
    """Meter every closed hour after the last ``MeteringRun`` up to the hour before ``now``.

    Each hour is its own transaction; if another run holds the lock, stop (it is doing the work).
    """
    now = now or timezone.now()
    last_closed = hour_floor(now) - HOUR
    last_run = MeteringRun.objects.aggregate(m=Max("hour"))["m"]
    hour = last_run + HOUR if last_run is not None else _first_hour(last_closed=last_closed)
    results: list[HourResult] = []
    while hour <= last_closed:
        result = meter_hour(hour=hour)
        if result.skipped:
            break
        results.append(result)
        hour += HOUR
    return results
