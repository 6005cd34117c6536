"""Billing tasks: metering and invoicing (thin: they call ``apps.billing.services``)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.utils import timezone

from apps.billing import services, task_names
from apps.billing.services.invoicing import InvoiceEmailTransientError, previous_month

logger = logging.getLogger(__name__)


@shared_task(name=task_names.METER, ignore_result=True, acks_late=True, time_limit=3600, soft_time_limit=3500)
def meter() -> int:
    """Hourly: meter every closed hour not metered yet (normally just the last one). Returns the hours metered."""
    results = services.meter_catch_up(now=timezone.now())
    for result in results:
        logger.info(
            "billing.meter %s: %s records in %s ms", result.hour.isoformat(), result.records_created, result.duration_ms
        )
    return len(results)


@shared_task(name=task_names.INVOICES_ISSUE, ignore_result=True, acks_late=True, time_limit=3600)
def invoices_issue() -> int:
    """Daily: issue last month's invoice of every organisation with usage (idempotent). Returns how many."""
    now = timezone.now()
    # Meter the last hours of the month first, so the invoice is complete.
    services.meter_catch_up(now=now)
    issued = services.invoices_issue_for_month(month=previous_month(now.date()))
    return len(issued)


# An outage of the mail server is retried for about a day: 1, 2, 4 … minutes, capped at 2 hours, with jitter.
INVOICE_EMAIL_MAX_RETRIES = 15


@shared_task(
    bind=True,
    name=task_names.INVOICE_EMAIL,
    ignore_result=True,
    acks_late=True,
    autoretry_for=(InvoiceEmailTransientError,),
    retry_backoff=60,
    retry_backoff_max=7200,
    retry_jitter=True,
    max_retries=INVOICE_EMAIL_MAX_RETRIES,
)
def invoice_email(self: Any, invoice_id: int) -> bool:
    """E-mail an issued invoice's PDF to the organisation, once (enqueued by ``services.invoice_issue``).

    Retried only on transient SMTP errors; the service claims the send, so a retried or
    redelivered task never e-mails the invoice twice.
    """
    if not self.request.is_eager:
        # On a worker, a transient error propagates and ``autoretry_for`` schedules the retry with backoff.
        return services.invoice_email_send(invoice_id=invoice_id)
    # An eager run (tests, the embedded dev run) has no broker to schedule a retry: retry at once, as
    # often as a worker would, then give up quietly like the worker's last attempt (the invoice stays
    # issued and downloadable; staff see ``emailed_at`` empty).
    for _attempt in range(self.max_retries + 1):
        try:
            return services.invoice_email_send(invoice_id=invoice_id)
        except InvoiceEmailTransientError as exc:
            logger.warning("billing.invoice_email %s: %s", invoice_id, exc)
    return False
