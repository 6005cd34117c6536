"""The rated ledger: one calendar month of usage records grouped in one query, then rated.

The grouping is here (it reads ``UsageRecord``); what a group costs, the cap
included, is the pure rule ``apps.billing.rules.rating.charge_lines``. Callers
check permissions (``selectors.invoices.usage_month`` does for the API).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Max, Min, QuerySet, Sum

from apps.billing.models import UsageRecord
from apps.billing.rules.rating import ChargeLine, charge_lines, month_bounds


def usage_groups(records: QuerySet[UsageRecord]) -> QuerySet[Any]:
    """``records`` grouped by resource and price: hours, quantity, amount, first and last hour, cap, name."""
    return (
        records.values("resource_type", "resource_id", "project_id", "description", "unit_price")
        .annotate(
            hours=Count("id"),
            quantity=Sum("quantity"),
            amount=Sum("amount"),
            first_hour=Min("hour"),
            last_hour=Max("hour"),
            cap=Max("monthly_cap"),
            name=Max("resource_name"),
        )
        .order_by("resource_type", "resource_id", "first_hour", "unit_price")
    )


def rate_records(records: QuerySet[UsageRecord]) -> list[ChargeLine]:
    """Charged lines for ``records``, which must all fall in one calendar month (the cap is monthly)."""
    return charge_lines(usage_groups(records))


def rate_month(*, organisation_id: int, month: date, project_id: int | None = None) -> list[ChargeLine]:
    """Charged lines of one organisation (optionally one project) for the calendar month containing ``month``."""
    start, end = month_bounds(month)
    records = UsageRecord.objects.filter(organisation_id=organisation_id, hour__gte=start, hour__lt=end)
    if project_id is not None:
        records = records.filter(project_id=project_id)
    return rate_records(records)
