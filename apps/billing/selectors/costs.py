"""Costs of an organisation (reads only): month-to-date, the forecast to month end, spend per day.

The rules (customer-facing text in ``apps/docs/content/costs-and-budgets.md``):

* **month-to-date** is the usage ledger of the calendar month (UTC) rated by
  ``apps.billing.selectors.usage.rate_month``: exactly what the invoice will charge so
  far, monthly caps applied;
* the **forecast** adds, for each resource still billable now (an open
  instance price period, a snapshot not deleted, a managed service's open
  price period), its hourly price × the hours left in the month that are not yet in
  the ledger; each resource is capped at its monthly cap (the highest it had
  this month), like the invoice does. Resources created later are unknown, so
  the forecast assumes nothing new is ordered;
* totals are given excluding VAT and with the VAT that applies to the
  organisation today (``apps.billing.selectors.vat.vat_decision_for``).

Every read is a handful of grouped queries, whatever the number of hours.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Max, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from apps.billing.choices import ResourceType
from apps.billing.models import UsageRecord
from apps.billing.rules import rating
from apps.billing.rules.rating import HOUR
from apps.billing.rules.vat import VatDecision, vat_amount
from apps.billing.selectors.usage import rate_month
from apps.billing.selectors.vat import vat_decision_for
from apps.catalogue.models import Offer
from apps.core.money import ZERO, to_cents
from apps.floating_ips import selectors as floating_ips_selectors
from apps.instances.choices import InstanceStatus
from apps.instances.models import InstancePricePeriod, Snapshot
from apps.managed import selectors as managed_selectors
from apps.teams.models import Organisation, Project
from apps.volumes import selectors as volumes_selectors

ResourceKey = tuple[str, uuid.UUID]


@dataclass
class ResourceCost:
    """One resource's cost this month."""

    resource_type: str
    resource_id: uuid.UUID
    name: str
    project_id: int
    project_name: str = ""
    month_to_date: Decimal = ZERO
    forecast: Decimal = ZERO
    billable_now: bool = False
    price_hourly: Decimal | None = None  # the price it is billed at now (per hour)
    monthly_cap: Decimal | None = None  # the highest cap it had this month
    remaining_hours: int = 0
    last_billed_hour: datetime | None = None  # the start of the last hour the ledger billed it this month

    @property
    def kind(self) -> str:
        """What it is, for people: "Server", "Block storage volume", "Floating IP"..."""
        return str(ResourceType(self.resource_type).label)


@dataclass
class ProjectCost:
    project_id: int
    name: str
    month_to_date: Decimal = ZERO
    forecast: Decimal = ZERO


@dataclass(frozen=True)
class DaySpend:
    day: date
    amount: Decimal


@dataclass
class CostSummary:
    """The costs of one organisation (or one of its projects) for one calendar month."""

    organisation: Organisation
    project: Project | None
    month: date  # first day of the month
    as_of: datetime
    is_current: bool
    month_to_date: Decimal
    forecast: Decimal
    vat: VatDecision
    month_to_date_vat: Decimal
    forecast_vat: Decimal
    projects: list[ProjectCost] = field(default_factory=list)
    resources: list[ResourceCost] = field(default_factory=list)
    days: list[DaySpend] = field(default_factory=list)
    currency: str = "EUR"

    @property
    def month_to_date_incl_vat(self) -> Decimal:
        return self.month_to_date + self.month_to_date_vat

    @property
    def forecast_incl_vat(self) -> Decimal:
        return self.forecast + self.forecast_vat


def month_start(at: datetime | date) -> date:
    """The first day of the calendar month (UTC) containing ``at``."""
    if isinstance(at, datetime):
        at = at.astimezone(UTC).date()
    return at.replace(day=1)


def hour_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class _Billable:
    """A resource billable now: what it costs per hour and at most per month."""

    key: ResourceKey
    name: str
    project_id: int
    price_hourly: Decimal
    monthly_cap: Decimal | None


def _snapshot_offer() -> Offer | None:
    return Offer.objects.filter(code=settings.BILLING_SNAPSHOT_OFFER_CODE).first()


def billable_now(
    *, organisation_id: int, project_id: int | None = None, now: datetime | None = None
) -> list[_Billable]:
    """Resources of the organisation that keep billing now (five queries): servers, snapshots, managed
    services, volumes and floating IPs, at the price each is billed at (as metering bills them)."""
    periods = InstancePricePeriod.objects.filter(
        instance__organisation_id=organisation_id, ended_at__isnull=True
    ).exclude(instance__status=InstanceStatus.DELETED)
    snapshots = Snapshot.objects.filter(
        instance__organisation_id=organisation_id, deleted_at__isnull=True, size_gb__gt=0
    ).exclude(instance__status=InstanceStatus.DELETED)
    services = managed_selectors.services_live_billed(organisation_id=organisation_id, project_id=project_id)
    if project_id is not None:
        periods = periods.filter(instance__project_id=project_id)
        snapshots = snapshots.filter(instance__project_id=project_id)
    out: list[_Billable] = []
    for public_id, name, proj, hourly, monthly in periods.values_list(
        "instance__public_id", "instance__name", "instance__project_id", "price_hourly", "price_monthly"
    ):
        out.append(_Billable((ResourceType.INSTANCE, public_id), name, proj, hourly, monthly))
    snapshot_rows = list(
        snapshots.values_list("public_id", "name", "instance__name", "instance__project_id", "size_gb")
    )
    storage = _snapshot_offer() if snapshot_rows else None
    if storage is not None:
        for public_id, name, instance_name, proj, size_gb in snapshot_rows:
            size = Decimal(size_gb)
            out.append(
                _Billable(
                    (ResourceType.SNAPSHOT, public_id),
                    f"{instance_name}/{name}",
                    proj,
                    storage.price_hourly * size,
                    storage.price_monthly * size,
                )
            )
    for public_id, name, proj, hourly, monthly in services.values_list(
        "service__public_id", "service__name", "service__project_id", "price_hourly", "price_monthly"
    ):
        out.append(_Billable((ResourceType.SERVICE, public_id), name, proj, hourly, monthly))
    now = now or timezone.now()
    volumes = volumes_selectors.volumes_billable(start=now, end=now + HOUR).filter(organisation_id=organisation_id)
    floating_ips = floating_ips_selectors.floating_ips_billable(start=now, end=now + HOUR).filter(
        organisation_id=organisation_id
    )
    if project_id is not None:
        volumes = volumes.filter(project_id=project_id)
        floating_ips = floating_ips.filter(project_id=project_id)
    for public_id, name, proj, hourly, monthly in volumes.values_list(
        "public_id", "name", "project_id", "price_hourly", "price_monthly"
    ):
        out.append(_Billable((ResourceType.VOLUME, public_id), name, proj, hourly, monthly))
    for public_id, name, address, proj, hourly, monthly in floating_ips.values_list(
        "public_id", "name", "address", "project_id", "price_hourly", "price_monthly"
    ):
        label = f"{name} ({address})" if name else str(address)
        out.append(_Billable((ResourceType.FLOATING_IP, public_id), label, proj, hourly, monthly))
    return out


def _ledger_facts(
    *, organisation_id: int, start: datetime, end: datetime, project_id: int | None
) -> dict[ResourceKey, tuple[datetime, Decimal | None]]:
    """Per resource this month: its last metered hour and its highest cap (one grouped query)."""
    records = UsageRecord.objects.filter(organisation_id=organisation_id, hour__gte=start, hour__lt=end)
    if project_id is not None:
        records = records.filter(project_id=project_id)
    rows = records.values("resource_type", "resource_id").annotate(last=Max("hour"), cap=Max("monthly_cap"))
    return {(r["resource_type"], r["resource_id"]): (r["last"], r["cap"]) for r in rows}


def _daily(
    *, organisation_id: int, start: datetime, end: datetime, project_id: int | None, caps: dict[ResourceKey, Decimal]
) -> list[DaySpend]:
    """Spend per day of the month, each resource's days counted until it reaches its monthly cap."""
    records = UsageRecord.objects.filter(organisation_id=organisation_id, hour__gte=start, hour__lt=end)
    if project_id is not None:
        records = records.filter(project_id=project_id)
    rows = (
        records.annotate(day=TruncDay("hour", tzinfo=UTC))
        .values("resource_type", "resource_id", "day")
        .annotate(amount=Sum("amount"))
        .order_by("resource_type", "resource_id", "day")
    )
    per_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    running: dict[ResourceKey, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        key = (row["resource_type"], row["resource_id"])
        amount = row["amount"]
        cap = caps.get(key)
        if cap is not None:
            amount = max(ZERO, min(amount, cap - running[key]))
        running[key] += amount
        per_day[row["day"].date()] += amount
    days: list[DaySpend] = []
    current = start.date()
    while current < end.date():
        days.append(DaySpend(current, to_cents(per_day.get(current, ZERO))))
        current += timedelta(days=1)
    return days


def cost_summary(
    *,
    organisation: Organisation,
    project: Project | None = None,
    month: date | None = None,
    now: datetime | None = None,
) -> CostSummary:
    """Month-to-date and forecast of ``organisation`` (or one project) for ``month`` (default: this month).

    A past month has no forecast (it equals the month's charges); a future month is empty.
    """
    now = now or timezone.now()
    this_month = month_start(now)
    month = month_start(month) if month is not None else this_month
    is_current = month == this_month
    start, end = rating.month_bounds(month)
    project_id = project.pk if project is not None else None

    lines = rate_month(organisation_id=organisation.pk, month=month, project_id=project_id)
    by_resource = rating.totals_by_resource(lines)
    facts = _ledger_facts(organisation_id=organisation.pk, start=start, end=end, project_id=project_id)

    resources: dict[ResourceKey, ResourceCost] = {}
    for line in lines:
        key = (line.resource_type, line.resource_id)
        if key not in resources:
            resources[key] = ResourceCost(
                resource_type=line.resource_type,
                resource_id=line.resource_id,
                name=line.resource_name,
                project_id=line.project_id,
                monthly_cap=facts.get(key, (None, None))[1],
                last_billed_hour=facts.get(key, (None, None))[0],
            )
    for key, cost in resources.items():
        cost.month_to_date = by_resource.get(key, ZERO)
        cost.forecast = cost.month_to_date

    if is_current:
        first_open_hour = hour_floor(now)
        for billable in billable_now(organisation_id=organisation.pk, project_id=project_id, now=now):
            last_metered, ledger_cap = facts.get(billable.key, (None, None))
            found = resources.get(billable.key)
            if found is None:
                found = resources[billable.key] = ResourceCost(
                    resource_type=billable.key[0],
                    resource_id=billable.key[1],
                    name=billable.name,
                    project_id=billable.project_id,
                )
            cost = found
            from_hour = first_open_hour if last_metered is None else max(first_open_hour, last_metered + HOUR)
            remaining = max(0, int((end - from_hour) / HOUR))
            caps = [c for c in (ledger_cap, billable.monthly_cap) if c is not None]
            cap = max(caps) if caps else None
            projected = cost.month_to_date + billable.price_hourly * remaining
            if cap is not None:
                projected = min(projected, cap)
            cost.forecast = max(cost.month_to_date, to_cents(projected))
            cost.billable_now = True
            cost.price_hourly = billable.price_hourly
            cost.monthly_cap = cap
            cost.remaining_hours = remaining

    project_names = dict(Project.all_objects.filter(organisation=organisation).values_list("pk", "name"))
    projects: dict[int, ProjectCost] = {}
    for cost in resources.values():
        cost.project_name = project_names.get(cost.project_id, "")
        proj = projects.setdefault(cost.project_id, ProjectCost(cost.project_id, cost.project_name))
        proj.month_to_date += cost.month_to_date
        proj.forecast += cost.forecast

    month_to_date = rating.lines_total(lines)
    forecast = sum((c.forecast for c in resources.values()), ZERO)
    decision = vat_decision_for(organisation=organisation)
    caps_for_days = {k: c for k, (_last, c) in facts.items() if c is not None}
    return CostSummary(
        organisation=organisation,
        project=project,
        month=month,
        as_of=now,
        is_current=is_current,
        month_to_date=month_to_date,
        forecast=forecast,
        vat=decision,
        month_to_date_vat=vat_amount(month_to_date, decision.rate),
        forecast_vat=vat_amount(forecast, decision.rate),
        projects=sorted(projects.values(), key=lambda p: (-p.forecast, p.name)),
        resources=sorted(resources.values(), key=lambda r: (-r.forecast, r.name)),
        days=_daily(organisation_id=organisation.pk, start=start, end=end, project_id=project_id, caps=caps_for_days),
    )


def spend_for_budget(
    *, organisation: Organisation, project: Project | None, basis: str, now: datetime | None = None
) -> Decimal:
    """What a budget compares with its amount this month: month-to-date (``actual``) or the forecast."""
    summary = cost_summary(organisation=organisation, project=project, now=now)
    return summary.forecast if basis == "forecast" else summary.month_to_date


def parse_month(value: str) -> date | None:
    """``YYYY-MM`` → the first day of that month, or None when malformed."""
    try:
        parsed = datetime.strptime(value.strip(), "%Y-%m")
    except (ValueError, AttributeError):
        return None
    return parsed.date().replace(day=1)
