"""Payments of invoices: marking them paid or failed, pushing them to Stripe, refunds and prepaid top-ups.

Our ledger is the source of truth: Stripe only collects an invoice's
``amount_due``. ``invoice_mark_paid`` and ``invoice_payment_failed`` are the
only writes of an invoice's payment state, whoever calls them (staff marking a
bank transfer, a Stripe webhook, a test); both are idempotent and take a row
lock on the invoice, so concurrent deliveries of one event count once.
Every call to Stripe goes through ``apps.billing.stripe.gateway``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.billing.choices import CreditKind, CreditNoteKind, InvoiceStatus
from apps.billing.models import CreditGrant, CreditNote, Invoice
from apps.billing.selectors.payments import PaymentMethodView, payment_method_list, payments_enabled
from apps.billing.services import dunning
from apps.billing.services.account import billing_account_for
from apps.core.actors import Actor
from apps.core.errors import Conflict, Unavailable, ValidationFailed
from apps.core.money import CENT
from apps.core.services import audit_record
from apps.teams.models import Organisation

PAYMENTS_DISABLED = "payments_disabled"
INVOICE_NOT_PAYABLE = "invoice_not_payable"

TOPUP_MIN = Decimal("5.00")
TOPUP_MAX = Decimal("10000.00")


def require_payments_enabled() -> None:
    """Raise ``Unavailable`` (code ``payments_disabled``) when online payments are off."""
    if not payments_enabled():
        raise Unavailable(
            _("Online payments are not enabled: invoices are paid by bank transfer."), code=PAYMENTS_DISABLED
        )


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


def invoice_mark_paid(
    *, invoice: Invoice, actor: Actor, paid_at: datetime | None = None, reference: str = ""
) -> Invoice:
    """Mark an issued invoice paid (bank transfer by staff, or Stripe). Idempotent: paying a paid invoice is a no-op.

    When the organisation has no other overdue invoice, dunning is lifted
    (a suspension included: order block cleared, stopped servers started again).
    """
    with transaction.atomic():
        invoice = _locked(invoice)
        if invoice.status == InvoiceStatus.PAID:
            return invoice
        if invoice.status != InvoiceStatus.OPEN:
            raise Conflict(_("Only an issued, unpaid invoice can be marked paid."), code=INVOICE_NOT_PAYABLE)
        when = paid_at or timezone.now()
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = when
        invoice.save(update_fields=["status", "paid_at", "updated_at"])
        audit_record(
            actor=actor,
            action="billing.invoice.paid",
            target=invoice,
            organisation_id=invoice.organisation_id,
            changes={"paid_at": when.isoformat(), "reference": reference[:200], "amount_due": str(invoice.amount_due)},
        )
        dunning.dunning_settle_if_clear(organisation=invoice.organisation, actor=actor, at=when)
    return invoice


def invoice_payment_failed(*, invoice: Invoice, at: datetime, reason: str = "") -> Invoice:
    """Record a failed collection attempt and start dunning. A paid or void invoice is left as it is.

    Idempotent: a failure at or before the last recorded one changes nothing.
    """
    with transaction.atomic():
        invoice = _locked(invoice)
        if invoice.status != InvoiceStatus.OPEN:
            return invoice
        if invoice.payment_failed_at is not None and invoice.payment_failed_at >= at:
            return invoice
        invoice.payment_failed_at = at
        invoice.save(update_fields=["payment_failed_at", "updated_at"])
        audit_record(
            actor=None,
            action="billing.invoice.payment_failed",
            target=invoice,
            organisation_id=invoice.organisation_id,
            changes={"at": at.isoformat(), "reason": reason[:300]},
        )
        dunning.dunning_open(organisation=invoice.organisation, at=at, invoice=invoice, reason=reason)
    return invoice


# --- Stripe: invoices, refunds, customers, payment methods, top-ups -------------------------------------


def _cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1")))


def invoice_push(*, invoice: Invoice) -> Invoice:
    """Push an issued invoice to Stripe for collection (idempotent: an invoice already pushed is left alone).

    One invoice item per line of ours would duplicate the cap and credit logic
    in Stripe; Stripe only collects, so we send the lines that add up to
    ``amount_due`` exactly: the net lines, VAT, minus promotional credit and
    prepaid balance, as whole-cent invoice items.
    """
    from apps.billing.stripe import gateway as stripe_gateway

    require_payments_enabled()
    invoice = Invoice.objects.select_related("organisation").get(pk=invoice.pk)
    if invoice.stripe_invoice_id or invoice.status != InvoiceStatus.OPEN or invoice.amount_due <= 0:
        return invoice
    customer_id = stripe_gateway.customer_ensure(organisation=invoice.organisation)
    items = invoice_stripe_items(invoice=invoice)
    stripe_invoice = stripe_gateway.invoice_create_and_finalize(
        invoice=invoice, customer_id=customer_id, items=items, days_until_due=None
    )
    with transaction.atomic():
        locked = _locked(invoice)
        if not locked.stripe_invoice_id:
            locked.stripe_invoice_id = str(stripe_invoice["id"])
            locked.stripe_status = str(stripe_invoice.get("status") or "")
            locked.save(update_fields=["stripe_invoice_id", "stripe_status", "updated_at"])
            audit_record(
                actor=None,
                action="billing.invoice.stripe_push",
                target=locked,
                organisation_id=locked.organisation_id,
                changes={"stripe_invoice_id": locked.stripe_invoice_id, "amount_due": str(locked.amount_due)},
            )
    return locked


def invoice_stripe_items(*, invoice: Invoice) -> list[tuple[str, int]]:
    """(description, cents) items whose sum is exactly the invoice's ``amount_due`` in cents."""
    items: list[tuple[str, int]] = []
    for line in invoice.lines.all().order_by("position"):
        if line.amount:
            items.append((line.description[:250], _cents(line.amount)))
    if invoice.promotional_credit:
        items.append((_("Promotional credit"), -_cents(invoice.promotional_credit)))
    if invoice.vat_amount:
        items.append((_("VAT %(rate)s %%") % {"rate": invoice.vat_rate}, _cents(invoice.vat_amount)))
    if invoice.prepaid_applied:
        items.append((_("Prepaid balance applied"), -_cents(invoice.prepaid_applied)))
    target = _cents(invoice.amount_due)
    drift = target - sum(cents for _d, cents in items)
    if drift:
        # Rounding of per-line cents, or a credit note reduction: the ledger's amount due wins.
        items.append((_("Adjustment to the invoice total"), drift))
    return items


def credit_note_refund(*, credit_note: CreditNote) -> CreditNote:
    """Refund a REFUND credit note's total on the Stripe payment of its invoice (idempotent)."""
    from apps.billing.stripe import gateway as stripe_gateway

    require_payments_enabled()
    credit_note = CreditNote.objects.select_related("invoice").get(pk=credit_note.pk)
    if credit_note.kind != CreditNoteKind.REFUND or credit_note.stripe_refund_id:
        return credit_note
    invoice = credit_note.invoice
    if not invoice.stripe_invoice_id:
        raise Conflict(
            _("This invoice was not paid through Stripe: refund it by bank transfer."), code="refund_not_online"
        )
    refund = stripe_gateway.refund_create(
        stripe_invoice_id=invoice.stripe_invoice_id,
        amount_cents=_cents(credit_note.total),
        idempotency_key=f"credit-note-{credit_note.public_id}",
    )
    with transaction.atomic():
        locked = CreditNote.objects.select_for_update().get(pk=credit_note.pk)
        if not locked.stripe_refund_id:
            locked.stripe_refund_id = str(refund["id"])
            locked.save(update_fields=["stripe_refund_id", "updated_at"])
            audit_record(
                actor=None,
                action="billing.credit_note.refund",
                target=locked,
                organisation_id=locked.organisation_id,
                changes={"stripe_refund_id": locked.stripe_refund_id, "amount": str(locked.total)},
            )
    return locked


def customer_ensure(*, organisation: Organisation) -> str:
    """The organisation's Stripe customer id, created through dj-stripe on first use."""
    from apps.billing.stripe import gateway as stripe_gateway

    require_payments_enabled()
    return stripe_gateway.customer_ensure(organisation=organisation)


def checkout_setup_start(*, organisation: Organisation, actor: Actor, success_url: str, cancel_url: str) -> str:
    """A Stripe Checkout session (mode "setup") to add a card or SEPA mandate; returns its URL."""
    from apps.billing.stripe import gateway as stripe_gateway

    require_payments_enabled()
    customer_id = stripe_gateway.customer_ensure(organisation=organisation)
    session = stripe_gateway.checkout_setup_create(
        customer_id=customer_id, organisation=organisation, success_url=success_url, cancel_url=cancel_url
    )
    audit_record(
        actor=actor,
        action="billing.payment_method.checkout",
        target=organisation,
        organisation_id=organisation.pk,
        changes={"session": str(session["id"]), "mode": "setup"},
    )
    return str(session["url"])


def topup_validate(amount: Any) -> Decimal:
    try:
        value = Decimal(str(amount)).quantize(CENT)
    except Exception:  # decimal.InvalidOperation and friends
        raise ValidationFailed(_("Enter an amount."), fields={"amount": [_("Enter a number.")]}) from None
    if not value.is_finite() or value < TOPUP_MIN or value > TOPUP_MAX:
        message = _("The amount must be between %(min)s and %(max)s EUR.") % {"min": TOPUP_MIN, "max": TOPUP_MAX}
        raise ValidationFailed(message, fields={"amount": [message]})
    return value


def checkout_topup_start(
    *, organisation: Organisation, actor: Actor, amount: Decimal, success_url: str, cancel_url: str
) -> str:
    """A Stripe Checkout session (mode "payment") to add prepaid balance; returns its URL."""
    from apps.billing.stripe import gateway as stripe_gateway

    require_payments_enabled()
    value = topup_validate(amount)
    customer_id = stripe_gateway.customer_ensure(organisation=organisation)
    session = stripe_gateway.checkout_topup_create(
        customer_id=customer_id,
        organisation=organisation,
        amount_cents=_cents(value),
        success_url=success_url,
        cancel_url=cancel_url,
    )
    audit_record(
        actor=actor,
        action="billing.prepaid.checkout",
        target=organisation,
        organisation_id=organisation.pk,
        changes={"session": str(session["id"]), "mode": "payment", "amount": str(value)},
    )
    return str(session["url"])


def topup_expiry_days() -> int:
    """How long a top-up stays usable (``settings.BILLING_PREPAID_TOPUP_EXPIRY_DAYS``, 2 years by default)."""
    return int(settings.BILLING_PREPAID_TOPUP_EXPIRY_DAYS)


def topup_credit(*, organisation: Organisation, amount: Decimal, stripe_payment_id: str) -> CreditGrant:
    """Turn a paid top-up into prepaid balance, once per Stripe payment."""
    from apps.billing.services.credits import credit_grant

    existing = CreditGrant.objects.filter(stripe_payment_id=stripe_payment_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return credit_grant(
                organisation=organisation,
                kind=CreditKind.PREPAID,
                amount=amount,
                description=_("Prepaid top-up by online payment"),
                expires_at=timezone.now() + timedelta(days=topup_expiry_days()),
                actor=None,
                stripe_payment_id=stripe_payment_id,
            )
    except IntegrityError:  # the same payment credited by a concurrent event (unique stripe_payment_id)
        return CreditGrant.objects.get(stripe_payment_id=stripe_payment_id)


def payment_method_set_default(*, organisation: Organisation, actor: Actor, payment_method_id: str) -> None:
    from apps.billing.stripe import gateway as stripe_gateway

    require_payments_enabled()
    customer_id = stripe_gateway.customer_ensure(organisation=organisation)
    stripe_gateway.payment_method_owned(customer_id=customer_id, payment_method_id=payment_method_id)
    stripe_gateway.payment_method_set_default(customer_id=customer_id, payment_method_id=payment_method_id)
    audit_record(
        actor=actor,
        action="billing.payment_method.default",
        target=organisation,
        organisation_id=organisation.pk,
        changes={"payment_method": payment_method_id},
    )


def payment_method_remove(*, organisation: Organisation, actor: Actor, payment_method_id: str) -> None:
    from apps.billing.stripe import gateway as stripe_gateway

    require_payments_enabled()
    customer_id = stripe_gateway.customer_ensure(organisation=organisation)
    stripe_gateway.payment_method_owned(customer_id=customer_id, payment_method_id=payment_method_id)
    stripe_gateway.payment_method_detach(payment_method_id=payment_method_id)
    audit_record(
        actor=actor,
        action="billing.payment_method.remove",
        target=organisation,
        organisation_id=organisation.pk,
        changes={"payment_method": payment_method_id},
    )


def payment_methods_refresh(*, organisation: Organisation) -> list[PaymentMethodView]:
    """Fetch the payment methods from Stripe (after Checkout), then list them."""
    from apps.billing.stripe import gateway as stripe_gateway

    require_payments_enabled()
    customer_id = stripe_gateway.customer_ensure(organisation=organisation)
    stripe_gateway.payment_methods_sync(customer_id=customer_id)
    return payment_method_list(organisation=organisation)


def account_for(*, organisation: Organisation) -> Any:
    """Shortcut used by the interfaces."""
    return billing_account_for(organisation=organisation)
