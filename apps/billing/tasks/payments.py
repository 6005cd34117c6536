"""Billing tasks: payments (Stripe pushes and refunds, webhook events, dunning). Thin: load ids, call services."""

from __future__ import annotations

from celery import shared_task

from apps.billing import selectors, services, task_names
from apps.billing.models import CreditNote, Invoice


@shared_task(
    name=task_names.INVOICE_PUSH, ignore_result=True, autoretry_for=(Exception,), max_retries=5, retry_backoff=60
)
def invoice_push(invoice_id: int) -> None:
    """Push an issued invoice to Stripe (enqueued by ``services.invoice_issue`` when payments are on)."""
    if not selectors.payments_enabled():
        return
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is not None:
        services.invoice_push(invoice=invoice)


@shared_task(
    name=task_names.CREDIT_NOTE_REFUND, ignore_result=True, autoretry_for=(Exception,), max_retries=5, retry_backoff=60
)
def credit_note_refund(credit_note_id: int) -> None:
    """Refund a REFUND credit note through Stripe."""
    if not selectors.payments_enabled():
        return
    credit_note = CreditNote.objects.filter(pk=credit_note_id).first()
    if credit_note is not None:
        services.credit_note_refund(credit_note=credit_note)


@shared_task(name=task_names.STRIPE_EVENT_PROCESS, ignore_result=True, acks_late=True)
def stripe_event_process(event_row_id: int) -> str:
    """Claim and apply one stored Stripe event (``services.event_process``)."""
    return services.event_process(event_row_id=event_row_id)


@shared_task(name=task_names.STRIPE_EVENTS_SWEEP, ignore_result=True)
def stripe_events_sweep() -> int:
    """Beat, every 5 minutes: re-enqueue events stuck pending/processing, retry failed ones."""
    return services.events_sweep()


@shared_task(name=task_names.DUNNING, ignore_result=True, time_limit=1800, soft_time_limit=1700)
def dunning_run() -> dict[str, int]:
    """Beat, every 6 hours: reminders, suspensions and terminations (``services.dunning_run``)."""
    return services.dunning_run()
