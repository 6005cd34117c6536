"""Rating: turn one calendar month of usage records into charged lines, applying the monthly cap.

The rules (customer-facing text in ``apps/docs/content/billing.md``):

* every started hour of a resource is one usage record at the hourly price
  frozen for it (``UsageRecord.unit_price``);
* the hours of one resource at one price make one line: hours × price,
  rounded to the cent (half up) once per line;
* a resource never costs more in a calendar month (UTC) than its monthly cap;
  when it changed plan during the month, the highest cap it had that month
  applies. Above the cap, a negative "monthly cap" line brings the resource's
  total down to exactly the cap.

The aggregation is one grouped query (``apps.billing.selectors.usage``); the
rules here only walk its groups (a few per resource), never the hourly rows,
and touch no database.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from apps.billing.choices import ResourceType
from apps.core.money import ZERO, to_cents

HOUR = timedelta(hours=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first hour of ``month`` and of the next month, in UTC."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass(frozen=True)
class ChargeLine:
    """One line of charges: a resource at one price over part of a month, or its cap adjustment."""

    resource_type: str
    resource_id: uuid.UUID
    resource_name: str
    project_id: int
    description: str
    period_start: datetime
    period_end: datetime  # exclusive: the end of the last hour
    quantity: Decimal  # hours, or GB-hours for storage
    unit: str
    unit_price: Decimal
    amount: Decimal  # EUR, excl. VAT, to the cent
    is_cap_adjustment: bool = False


def _unit(resource_type: str) -> str:
    return "GB·h" if resource_type == ResourceType.SNAPSHOT else "h"


def charge_lines(groups: Iterable[Mapping[str, Any]]) -> list[ChargeLine]:
    """Charged lines from the ledger's groups of one calendar month (the cap is monthly).

    Each group is one resource at one price (``selectors.usage.usage_groups``): its
    ``resource_type``, ``resource_id``, ``project_id``, ``description``, ``unit_price``,
    ``hours``, ``quantity``, ``amount``, ``first_hour``, ``last_hour``, ``cap`` and ``name``,
    ordered by resource then first hour.
    """
    lines: list[ChargeLine] = []
    per_resource: dict[tuple[str, uuid.UUID], list[ChargeLine]] = defaultdict(list)
    caps: dict[tuple[str, uuid.UUID], Decimal] = {}
    for group in groups:
        key = (group["resource_type"], group["resource_id"])
        quantity = group["hours"] if group["resource_type"] != ResourceType.SNAPSHOT else group["quantity"]
        line = ChargeLine(
            resource_type=group["resource_type"],
            resource_id=group["resource_id"],
            resource_name=group["name"],
            project_id=group["project_id"],
            description=group["description"],
            period_start=group["first_hour"],
            period_end=group["last_hour"] + HOUR,
            quantity=Decimal(quantity),
            unit=_unit(group["resource_type"]),
            unit_price=group["unit_price"],
            amount=to_cents(group["amount"]),
        )
        lines.append(line)
        per_resource[key].append(line)
        if group["cap"] is not None:
            caps[key] = max(caps.get(key, ZERO), to_cents(group["cap"]))
    for key, cap in caps.items():
        resource_lines = per_resource[key]
        total = sum((line.amount for line in resource_lines), ZERO)
        if total > cap:
            first = resource_lines[0]
            lines.append(
                ChargeLine(
                    resource_type=first.resource_type,
                    resource_id=first.resource_id,
                    resource_name=first.resource_name,
                    project_id=first.project_id,
                    description=_("Monthly cap: %(name)s never costs more than %(cap)s € a month")
                    % {"name": first.resource_name, "cap": cap},
                    period_start=min(line.period_start for line in resource_lines),
                    period_end=max(line.period_end for line in resource_lines),
                    quantity=Decimal(1),
                    unit="",
                    unit_price=cap - total,
                    amount=cap - total,
                    is_cap_adjustment=True,
                )
            )
    lines.sort(key=lambda line: (line.resource_type, str(line.resource_id), line.is_cap_adjustment, line.period_start))
    return lines


def lines_total(lines: Iterable[ChargeLine]) -> Decimal:
    """The sum of charged lines (EUR, excl. VAT)."""
    return sum((line.amount for line in lines), ZERO)


def totals_by_resource(lines: Iterable[ChargeLine]) -> dict[tuple[str, uuid.UUID], Decimal]:
    """Each resource's charge for the month, cap included."""
    totals: dict[tuple[str, uuid.UUID], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        totals[(line.resource_type, line.resource_id)] += line.amount
    return dict(totals)


def totals_by_project(lines: Iterable[ChargeLine]) -> dict[int, Decimal]:
    """Each project's charge for the month, caps included."""
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        totals[line.project_id] += line.amount
    return dict(totals)
