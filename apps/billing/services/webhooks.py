"""Stripe webhooks: verify, store once, process in Celery, correct in any order.

1. ``event_receive`` (the endpoint): Stripe's signature and timestamp
   tolerance are verified (``stripe.Webhook.construct_event``), the event is
   stored with ``INSERT … ON CONFLICT (event_id) DO NOTHING`` — a duplicate
   delivery stores nothing — and task ``billing.stripe_event_process`` is
   enqueued once the row is committed.
2. ``event_process`` (the task) claims the row with a conditional UPDATE
   (pending -> processing), so two workers never process one event, then
   applies it and marks it done (or ignored, or failed with the error).
   ``claimed_at`` is when the last attempt started, ``processed_at`` when it ended.
3. ``events_sweep`` (beat, every 5 minutes) re-enqueues rows left pending or
   processing for more than 5 minutes, and failed rows up to ``MAX_ATTEMPTS``.

Order independence: an invoice event never carries the state we apply; the
handler re-fetches the invoice from Stripe and applies its *current* status
(paid -> ``invoice_mark_paid``; open after a failed attempt ->
``invoice_payment_failed``). A paid invoice is never regressed, and an event
older than the last one applied (``Invoice.stripe_status_at``) is ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.billing import task_names
from apps.billing.choices import InvoiceStatus
from apps.billing.choices import WebhookEventStatus as S
from apps.billing.models import BillingAccount, Invoice, StripeWebhookEvent
from apps.billing.services import payments
from apps.billing.stripe import gateway as stripe_gateway
from apps.core.actors import Actor
from apps.core.money import CENT
from apps.core.services import audit_record, task_enqueue
from apps.teams.models import Organisation

logger = logging.getLogger(__name__)

PROCESS_TASK = task_names.STRIPE_EVENT_PROCESS
STUCK_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5


class InvalidEvent(Exception):
    """The payload is not a signed, fresh Stripe event (the endpoint answers 400)."""


def _ts(epoch: Any) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=UTC)


# --- 1. receiving -----------------------------------------------------------------------------------------


def event_receive(*, payload: bytes, sig_header: str) -> tuple[int | None, bool]:
    """Verify and store one delivery; returns (row id, created). A duplicate returns (None, False)."""
    try:
        event = stripe_gateway.webhook_event_construct(payload=payload, sig_header=sig_header)
    except (stripe_gateway.SignatureVerificationError, ValueError) as exc:
        raise InvalidEvent(str(exc)) from exc
    data = json.loads(payload)
    event_id = str(event["id"])
    if not event_id:
        raise InvalidEvent("no event id")
    table = StripeWebhookEvent._meta.db_table
    payload_value = StripeWebhookEvent._meta.get_field("payload").get_db_prep_save(data, connection)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table}
                    (event_id, type, created, livemode, payload, status, attempts, received_at, processed_at, error)
                    VALUES (%s, %s, %s, %s, %s, %s, 0, %s, NULL, '')
                    ON CONFLICT (event_id) DO NOTHING
                    RETURNING id""",  # noqa: S608  # the table name is ours, values are parameters
                [
                    event_id,
                    str(event.get("type", ""))[:100],
                    _ts(event.get("created") or 0),
                    bool(event.get("livemode", False)),
                    payload_value,
                    S.PENDING,
                    timezone.now(),
                ],
            )
            row = cursor.fetchone()
        if row is None:
            return None, False
        task_enqueue(PROCESS_TASK, int(row[0]))
    return int(row[0]), True


# --- 2. processing ----------------------------------------------------------------------------------------


def event_claim(*, event_row_id: int) -> bool:
    """pending -> processing, atomically; False if someone else has it (or it is done)."""
    return bool(
        StripeWebhookEvent.objects.filter(pk=event_row_id, status=S.PENDING).update(
            status=S.PROCESSING, attempts=F("attempts") + 1, claimed_at=timezone.now(), error=""
        )
    )


def event_process(*, event_row_id: int) -> str:
    """Claim, apply and close one stored event. Returns its final status (or "" if not claimed)."""
    if not event_claim(event_row_id=event_row_id):
        return ""
    row = StripeWebhookEvent.objects.get(pk=event_row_id)
    handler = HANDLERS.get(row.type)
    try:
        applied = handler(row.payload) if handler is not None else False
    except Exception as exc:
        logger.exception("Stripe event %s (%s) failed", row.event_id, row.type)
        StripeWebhookEvent.objects.filter(pk=row.pk, status=S.PROCESSING).update(
            status=S.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], processed_at=timezone.now()
        )
        return S.FAILED
    final = S.DONE if applied else S.IGNORED
    StripeWebhookEvent.objects.filter(pk=row.pk, status=S.PROCESSING).update(status=final, processed_at=timezone.now())
    return final


def event_reprocess(*, event: StripeWebhookEvent, actor: Actor) -> None:
    """Staff: run an event again (handlers are idempotent)."""
    with transaction.atomic():
        StripeWebhookEvent.objects.filter(pk=event.pk).update(status=S.PENDING, error="")
        audit_record(actor=actor, action="billing.stripe_event.reprocess", target=event, changes={"type": event.type})
        task_enqueue(PROCESS_TASK, event.pk)


def events_sweep(*, now: datetime | None = None) -> int:
    """Re-enqueue events stuck pending/processing for more than 5 minutes, and failed ones with attempts left."""
    now = now or timezone.now()
    cutoff = now - STUCK_AFTER
    StripeWebhookEvent.objects.filter(
        Q(status=S.PROCESSING, claimed_at__lt=cutoff)
        | Q(status=S.FAILED, attempts__lt=MAX_ATTEMPTS, processed_at__lt=cutoff)
    ).update(status=S.PENDING)
    ids = list(
        StripeWebhookEvent.objects.filter(status=S.PENDING, received_at__lt=cutoff).values_list("pk", flat=True)[:500]
    )
    with transaction.atomic():
        for pk in ids:
            task_enqueue(PROCESS_TASK, pk)
    return len(ids)


# --- handlers: each takes the stored event payload and returns True if it changed something ---------------


def _object(event: dict[str, Any]) -> dict[str, Any]:
    return dict((event.get("data") or {}).get("object") or {})


def _account_for_customer(customer: Any) -> BillingAccount | None:
    customer_id = customer.get("id") if isinstance(customer, dict) else customer
    if not customer_id:
        return None
    return BillingAccount.objects.select_related("organisation").filter(stripe_customer__id=customer_id).first()


def _our_invoice(stripe_invoice: Any) -> Invoice | None:
    found = Invoice.objects.filter(stripe_invoice_id=stripe_invoice["id"]).first()
    if found is not None:
        return found
    public_id = (stripe_invoice.get("metadata") or {}).get("vmcloud_invoice")
    if not public_id:
        return None
    found = Invoice.objects.filter(public_id=public_id).first()
    if found is not None and not found.stripe_invoice_id:
        # The webhook can overtake the push task's save: link it now.
        Invoice.objects.filter(pk=found.pk, stripe_invoice_id="").update(stripe_invoice_id=stripe_invoice["id"])
        found.refresh_from_db()
    return found


def handle_invoice(event: dict[str, Any]) -> bool:
    """invoice.*: apply the invoice's current status at Stripe, never an older one."""
    obj = _object(event)
    if not obj.get("id"):
        return False
    current = stripe_gateway.invoice_retrieve(stripe_invoice_id=str(obj["id"]))
    stripe_gateway.sync_object(current)
    invoice = _our_invoice(current)
    if invoice is None:
        return False
    at = _ts(event.get("created") or 0)
    status = str(current.get("status") or "")
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.stripe_status_at is not None and at < locked.stripe_status_at:
            return False  # older than the last event applied
        locked.stripe_status = status
        locked.stripe_status_at = at
        locked.save(update_fields=["stripe_status", "stripe_status_at", "updated_at"])
        if status == "paid":
            transitions = current.get("status_transitions") or {}
            paid_at = _ts(transitions["paid_at"]) if transitions.get("paid_at") else at
            payments.invoice_mark_paid(invoice=locked, actor=None, paid_at=paid_at, reference=str(current["id"]))
        elif (
            status == "open"
            and event.get("type") in ("invoice.payment_failed", "invoice.payment_action_required")
            and locked.status == InvoiceStatus.OPEN
            and (current.get("attempted") or int(current.get("attempt_count") or 0) > 0)
        ):
            reason = str(((current.get("last_finalization_error") or {}).get("message")) or event.get("type"))
            payments.invoice_payment_failed(invoice=locked, at=at, reason=reason)
    return True


def handle_checkout_completed(event: dict[str, Any]) -> bool:
    """checkout.session.completed / async_payment_succeeded: a saved payment method, or a paid top-up."""
    obj = _object(event)
    if not obj.get("id"):
        return False
    session = stripe_gateway.checkout_session_retrieve(session_id=str(obj["id"]))
    account = _account_for_customer(session.get("customer"))
    if account is None:
        return False
    organisation: Organisation = account.organisation
    metadata = session.get("metadata") or {}
    if metadata.get("organisation_id") and str(metadata["organisation_id"]) != str(organisation.pk):
        logger.warning("checkout session %s: organisation metadata does not match its customer", session["id"])
        return False
    customer_id = stripe_gateway.customer_id_of(account)
    if session.get("mode") == "setup":
        stripe_gateway.payment_methods_sync(customer_id=customer_id)
        method = stripe_gateway.setup_intent_payment_method(setup_intent=session.get("setup_intent"))
        if method and not stripe_gateway.customer_default_payment_method(customer_id=customer_id):
            stripe_gateway.payment_method_set_default(customer_id=customer_id, payment_method_id=method)
        audit_record(
            actor=None,
            action="billing.payment_method.added",
            target=organisation,
            organisation_id=organisation.pk,
            changes={"payment_method": method, "session": str(session["id"])},
        )
        return True
    if session.get("mode") == "payment" and metadata.get("purpose") == "topup":
        if session.get("payment_status") != "paid":
            return False  # SEPA: paid later, checkout.session.async_payment_succeeded follows
        amount = (Decimal(int(session.get("amount_total") or 0)) / 100).quantize(CENT)
        intent = session.get("payment_intent")
        payment_id = str(intent.get("id") if isinstance(intent, dict) else intent or session["id"])
        if amount <= 0:
            return False
        payments.topup_credit(organisation=organisation, amount=amount, stripe_payment_id=payment_id)
        return True
    return False


def handle_payment_method(event: dict[str, Any]) -> bool:
    """payment_method.attached/detached/updated: mirror the method's current state into dj-stripe."""
    obj = _object(event)
    if not obj.get("id"):
        return False
    if event.get("type") == "payment_method.detached":
        stripe_gateway.payment_method_forget(payment_method_id=str(obj["id"]))
        return True
    return stripe_gateway.payment_method_refresh(payment_method_id=str(obj["id"]))


def handle_customer(event: dict[str, Any]) -> bool:
    obj = _object(event)
    if not obj.get("id") or _account_for_customer(obj["id"]) is None:
        return False
    stripe_gateway.sync_object(stripe_gateway.customer_retrieve(customer_id=str(obj["id"])))
    return True


def handle_charge_refunded(event: dict[str, Any]) -> bool:
    """charge.refunded: refunds are started by our credit notes; record what Stripe confirms."""
    obj = _object(event)
    account = _account_for_customer(obj.get("customer"))
    if account is None:
        return False
    audit_record(
        actor=None,
        action="billing.stripe.charge_refunded",
        target=account,
        organisation_id=account.organisation_id,
        changes={
            "charge": str(obj.get("id", "")),
            "amount_refunded": str(Decimal(int(obj.get("amount_refunded") or 0)) / 100),
            "event": str(event.get("id", "")),
        },
    )
    return True


HANDLERS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "invoice.paid": handle_invoice,
    "invoice.payment_succeeded": handle_invoice,
    "invoice.payment_failed": handle_invoice,
    "invoice.payment_action_required": handle_invoice,
    "invoice.finalized": handle_invoice,
    "invoice.updated": handle_invoice,
    "invoice.voided": handle_invoice,
    "invoice.marked_uncollectible": handle_invoice,
    "checkout.session.completed": handle_checkout_completed,
    "checkout.session.async_payment_succeeded": handle_checkout_completed,
    "payment_method.attached": handle_payment_method,
    "payment_method.updated": handle_payment_method,
    "payment_method.automatically_updated": handle_payment_method,
    "payment_method.detached": handle_payment_method,
    "customer.updated": handle_customer,
    "charge.refunded": handle_charge_refunded,
}
