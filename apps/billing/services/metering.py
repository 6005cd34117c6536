"""The hourly metering run: closed UTC hours of usage written into the ledger (``UsageRecord``) in set-based SQL.

One hour is metered in ONE transaction by one ``INSERT INTO billing_usagerecord
… SELECT … ON CONFLICT (resource_type, resource_id, hour) DO NOTHING`` statement per kind
(servers, snapshots, managed services, volumes, floating IPs) and a ``MeteringRun``
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
* a block storage volume: its GB every hour from creation to deletion,
  attached or not, at its tier's per-GB price (its hourly price, the
  monthly one / 730), capped at its monthly price per calendar month;
* a floating IP: one unit per hour from its reservation to its release,
  assigned or not, at the price frozen when it was reserved, capped monthly;
* a managed service (web hosting, PaaS, load balancer, CDN): billed like a
  server, per *started* hour of its price periods
  (``managed.ServicePricePeriod``: opened at delivery, closed and reopened at
  the new price by a tier change, closed when it is cancelled or terminated),
  one unit at the tier's frozen price and cap; a tier change inside an hour
  bills that hour once, at the new tier's price.

What is billable during an hour is said by the apps that own it:
``apps.instances.selectors.price_periods_billable`` and ``snapshots_billable``,
``apps.managed.selectors.services_billable``,
``apps.volumes.selectors.volumes_billable``,
``apps.floating_ips.selectors.floating_ips_billable``. Each statement's ``SELECT`` is
compiled from those querysets (``.values()`` of ``F``/``Value``/``Concat``
expressions, then ``query.sql_with_params()``), so billing never spells
another app's tables and the dependency is an import ``lint-imports`` sees;
billing only wraps it in ``INSERT INTO billing_usagerecord (…)`` and
``ON CONFLICT … DO NOTHING``.

The SQL runs on PostgreSQL (production, tests) and on SQLite (``make run``):
``ON CONFLICT DO NOTHING`` exists on SQLite >= 3.24, and the "later period
wins" rule is a ``NOT EXISTS`` rather than PostgreSQL's ``DISTINCT ON``. Two
beat runs never race: each hour's transaction first takes a PostgreSQL
advisory lock (``pg_try_advisory_xact_lock``) and skips if busy.
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
from django.db.models import CharField, DateTimeField, DecimalField, ExpressionWrapper, F, Max, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone

from apps.billing.choices import ResourceType
from apps.billing.models import MeteringRun, UsageRecord
from apps.catalogue.models import Offer
from apps.core.money import RATE_MAX_DIGITS, RATE_PLACES
from apps.core.sql import address_text
from apps.floating_ips import selectors as floating_ips_selectors
from apps.instances import selectors as instances_selectors
from apps.managed import selectors as managed_selectors
from apps.volumes import selectors as volumes_selectors

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
# The first catch-up (empty ledger) never looks further back than this.
FIRST_RUN_MAX_DAYS = 31
# Key of the advisory lock that serialises metering transactions (any constant bigint; "METER" in ASCII).
ADVISORY_LOCK_KEY = 0x4D45544552

# The ledger's columns, in the order every statement's SELECT produces them.
COLUMNS = (
    "organisation_id",
    "project_id",
    "resource_type",
    "resource_id",
    "resource_name",
    "description",
    "hour",
    "quantity",
    "unit_price",
    "amount",
    "monthly_cap",
    "created_at",
)


def _rate(value: Any) -> Any:
    """An expression typed as a rate, so both backends compute and store it as a decimal."""
    return ExpressionWrapper(value, output_field=DecimalField(max_digits=RATE_MAX_DIGITS, decimal_places=RATE_PLACES))


def _rows(qs: QuerySet[Any], **columns: Any) -> QuerySet[Any]:
    """``qs`` as the ledger's rows: one expression per column of ``COLUMNS``, in that order, unordered.

    The aliases are prefixed so they never collide with the source model's own field names.
    """
    aliases = {f"ledger_{name}": columns[name] for name in COLUMNS}
    return qs.order_by().annotate(**aliases).values(*aliases)


def _insert(rows: QuerySet[Any]) -> int:
    """Run ``INSERT INTO billing_usagerecord (…) SELECT … ON CONFLICT DO NOTHING``; returns the rows inserted."""
    select_sql, params = rows.query.sql_with_params()
    table = UsageRecord._meta.db_table
    # Our table and columns; every value is a parameter of the compiled SELECT.
    sql = (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) {select_sql} "
        "ON CONFLICT (resource_type, resource_id, hour) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def instance_rows(*, hour: datetime, now: datetime) -> QuerySet[Any]:
    """Servers: one row per server at the price period it is billed at for the hour (the later one wins)."""
    return _rows(
        instances_selectors.price_periods_billable(start=hour, end=hour + HOUR),
        organisation_id=F("instance__organisation"),
        project_id=F("instance__project"),
        resource_type=Value(ResourceType.INSTANCE.value),
        resource_id=F("instance__public_id"),
        resource_name=F("instance__name"),
        description=F("offer__code"),
        hour=Value(hour, output_field=DateTimeField()),
        quantity=Value(1),
        unit_price=F("price_hourly"),
        amount=F("price_hourly"),
        monthly_cap=F("price_monthly"),
        created_at=Value(now, output_field=DateTimeField()),
    )


def snapshot_rows(*, hour: datetime, now: datetime, price: Decimal, description: str) -> QuerySet[Any]:
    """Snapshot storage: every GB of every snapshot existing during the hour, at ``price`` per GB-hour, no cap."""
    rate = Value(price, output_field=DecimalField(max_digits=RATE_MAX_DIGITS, decimal_places=RATE_PLACES))
    return _rows(
        instances_selectors.snapshots_billable(start=hour, end=hour + HOUR),
        organisation_id=F("instance__organisation"),
        project_id=F("instance__project"),
        resource_type=Value(ResourceType.SNAPSHOT.value),
        resource_id=F("public_id"),
        resource_name=Concat(F("instance__name"), Value(" / "), F("name")),
        description=Value(description),
        hour=Value(hour, output_field=DateTimeField()),
        quantity=F("size_gb"),
        unit_price=rate,
        amount=_rate(F("size_gb") * rate),
        monthly_cap=Value(None, output_field=DecimalField(max_digits=10, decimal_places=2)),
        created_at=Value(now, output_field=DateTimeField()),
    )


def service_rows(*, hour: datetime, now: datetime) -> QuerySet[Any]:
    """Managed services: one unit an hour at the price period billed for the hour (the later one wins)."""
    return _rows(
        managed_selectors.services_billable(start=hour, end=hour + HOUR),
        organisation_id=F("service__organisation"),
        project_id=F("service__project"),
        resource_type=Value(ResourceType.SERVICE.value),
        resource_id=F("service__public_id"),
        resource_name=F("service__name"),
        description=F("offer__code"),
        hour=Value(hour, output_field=DateTimeField()),
        quantity=Value(1),
        unit_price=F("price_hourly"),
        amount=F("price_hourly"),
        monthly_cap=F("price_monthly"),
        created_at=Value(now, output_field=DateTimeField()),
    )


def volume_rows(*, hour: datetime, now: datetime) -> QuerySet[Any]:
    """Volumes: their GB for the hour at the per-GB hourly price of their tier, capped at their monthly price.

    The amount is the volume's own hourly price (the tier's per-GB monthly price × size / 730, frozen on the
    volume and changed by a grow); the unit price shown is that amount per GB.
    """
    return _rows(
        volumes_selectors.volumes_billable(start=hour, end=hour + HOUR),
        organisation_id=F("organisation"),
        project_id=F("project"),
        resource_type=Value(ResourceType.VOLUME.value),
        resource_id=F("public_id"),
        resource_name=F("name"),
        description=F("tier__code"),
        hour=Value(hour, output_field=DateTimeField()),
        quantity=F("size_gb"),
        unit_price=_rate(F("price_hourly") / F("size_gb")),
        amount=F("price_hourly"),
        monthly_cap=F("price_monthly"),
        created_at=Value(now, output_field=DateTimeField()),
    )


def floating_ip_rows(*, hour: datetime, now: datetime) -> QuerySet[Any]:
    """Floating IPs: one unit an hour from reservation to release, assigned or not, at their frozen price and cap."""
    return _rows(
        floating_ips_selectors.floating_ips_billable(start=hour, end=hour + HOUR),
        organisation_id=F("organisation"),
        project_id=F("project"),
        resource_type=Value(ResourceType.FLOATING_IP.value),
        resource_id=F("public_id"),
        resource_name=Concat(F("name"), Value(" ("), address_text("address"), Value(")"), output_field=CharField()),
        description=F("offer__code"),
        hour=Value(hour, output_field=DateTimeField()),
        quantity=Value(1),
        unit_price=F("price_hourly"),
        amount=F("price_hourly"),
        monthly_cap=F("price_monthly"),
        created_at=Value(now, output_field=DateTimeField()),
    )


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
    created = 0
    with transaction.atomic():
        if not _try_lock():
            return HourResult(hour=hour, records_created=0, duration_ms=0, skipped=True)
        created += _insert(instance_rows(hour=hour, now=now))
        if snapshot_price is not None:
            created += _insert(
                snapshot_rows(
                    hour=hour, now=now, price=snapshot_price, description=settings.BILLING_SNAPSHOT_OFFER_CODE
                )
            )
        created += _insert(service_rows(hour=hour, now=now))
        created += _insert(volume_rows(hour=hour, now=now))
        created += _insert(floating_ip_rows(hour=hour, now=now))
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
        instances_selectors.billable_since(floor=floor),
        managed_selectors.services_billable_since(floor=floor),
        volumes_selectors.volumes_billable_since(floor=floor),
        floating_ips_selectors.floating_ips_billable_since(floor=floor),
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
