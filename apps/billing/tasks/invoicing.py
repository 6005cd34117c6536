"""Billing tasks: metering and invoicing (thin: they call ``apps.billing.metering`` and ``apps.billing.invoicing``)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from apps.billing import invoicing, metering

logger = logging.getLogger(__name__)


@shared_task(name="billing.meter", ignore_result=True, acks_late=True, time_limit=3600, soft_time_limit=3500)
def meter() -> int:
    """Hourly: meter every closed hour not metered yet (normally just the last one). Returns the hours metered."""
    results = metering.meter_catch_up(now=timezone.now())
    for result in results:
        logger.info(
            "billing.meter %s: %s records in %s ms", result.hour.isoformat(), result.records_created, result.duration_ms
        )
    return len(results)


@shared_task(name="billing.invoices_issue", ignore_result=True, acks_late=True, time_limit=3600)
def invoices_issue() -> int:
    """Daily: issue last month's invoice of every organisation with usage (idempotent). Returns how many."""
    now = timezone.now()
    # Meter the last hours of the month first, so the invoice is complete.
    metering.meter_catch_up(now=now)
    issued = invoicing.invoices_issue_for_month(month=invoicing.previous_month(now.date()))
    return len(issued)


@shared_task(name="billing.invoice_email", ignore_result=True, acks_late=True)
def invoice_email(invoice_id: int) -> bool:
    """Send (again) an issued invoice's PDF to the organisation."""
    return invoicing.invoice_email_send(invoice_id=invoice_id)
