"""Billing tasks: payments (Stripe pushes and refunds, webhook events, dunning). Thin: load ids, call services."""

from __future__ import annotations

from celery import shared_task

from apps.billing import dunning, payments, webhooks
from apps.billing.models import CreditNote, Invoice


@shared_task(
    name="billing.invoice_push", ignore_result=True, autoretry_for=(Exception,), max_retries=5, retry_backoff=60
)
def invoice_push(invoice_id: int) -> None:
    """Push an issued invoice to Stripe (enqueued by ``invoicing.invoice_issue`` when payments are on)."""
    if not payments.payments_enabled():
        return
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is not None:
        payments.invoice_push(invoice=invoice)


@shared_task(
    name="billing.credit_note_refund", ignore_result=True, autoretry_for=(Exception,), max_retries=5, retry_backoff=60
)
def credit_note_refund(credit_note_id: int) -> None:
    """Refund a REFUND credit note through Stripe."""
    if not payments.payments_enabled():
        return
    credit_note = CreditNote.objects.filter(pk=credit_note_id).first()
    if credit_note is not None:
        payments.credit_note_refund(credit_note=credit_note)


@shared_task(name="billing.stripe_event_process", ignore_result=True, acks_late=True)
def stripe_event_process(event_row_id: int) -> str:
    """Claim and apply one stored Stripe event (``webhooks.event_process``)."""
    return webhooks.event_process(event_row_id=event_row_id)


@shared_task(name="billing.stripe_events_sweep", ignore_result=True)
def stripe_events_sweep() -> int:
    """Beat, every 5 minutes: re-enqueue events stuck pending/processing, retry failed ones."""
    return webhooks.events_sweep()


@shared_task(name="billing.dunning", ignore_result=True, time_limit=1800, soft_time_limit=1700)
def dunning_run() -> dict[str, int]:
    """Beat, every 6 hours: reminders, suspensions and terminations (``dunning.dunning_run``)."""
    return dunning.dunning_run()
