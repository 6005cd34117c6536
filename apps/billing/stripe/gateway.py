"""The one module that talks to Stripe (stripe-python and dj-stripe's API calls).

Everything else in billing calls these functions, so tests mock Stripe in one
place and nothing reaches api.stripe.com when payments are off. Every call
passes the secret key and the pinned API version explicitly
(``settings.STRIPE_SECRET_KEY`` / ``STRIPE_API_VERSION``) and an idempotency
key where a retry could create a duplicate.

Mirroring into dj-stripe's tables (``sync_*``) is best effort: our ledger is
the source of truth, dj-stripe's copy serves the payment method list and the
admin.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from djstripe import models as djstripe_models

from apps.billing.models import BillingAccount, Invoice
from apps.billing.services.account import billing_account_for
from apps.core.errors import NotFound
from apps.teams.models import Organisation

logger = logging.getLogger(__name__)

SignatureVerificationError = stripe.SignatureVerificationError
StripeError = stripe.StripeError
PAYMENT_METHOD_TYPES = ["card", "sepa_debit"]


def _opts(**extra: Any) -> dict[str, Any]:
    return {"api_key": settings.STRIPE_SECRET_KEY, "stripe_version": settings.STRIPE_API_VERSION, **extra}


def to_dict(obj: Any) -> dict[str, Any]:
    """A plain dict of a StripeObject (recursively), for JSON storage and templates."""
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return dict(obj)


# --- webhooks ---------------------------------------------------------------------------------------------


def _signed_timestamp(sig_header: str) -> int | None:
    """The ``t=`` element of a ``Stripe-Signature`` header (https://docs.stripe.com/webhooks#verify-manually)."""
    for item in sig_header.split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def webhook_event_construct(*, payload: bytes, sig_header: str) -> Any:
    """Verify the signature and its timestamp, both ways; raise ``SignatureVerificationError`` or ``ValueError``.

    stripe-python only refuses timestamps older than the tolerance; a signed
    timestamp ahead of our clock by more than ``STRIPE_WEBHOOK_FUTURE_TOLERANCE``
    seconds is refused too, so a captured event cannot be post-dated to stay
    replayable (Stripe: "Preventing replay attacks",
    https://docs.stripe.com/webhooks#replay-attacks).
    """
    event = stripe.Webhook.construct_event(
        payload,
        sig_header,
        settings.STRIPE_WEBHOOK_SECRET,
        tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        api_key=settings.STRIPE_SECRET_KEY or None,
    )
    signed_at = _signed_timestamp(sig_header)
    if signed_at is None or signed_at > time.time() + settings.STRIPE_WEBHOOK_FUTURE_TOLERANCE:
        raise SignatureVerificationError("Timestamp ahead of the current time", sig_header, payload)
    return event


# --- customers --------------------------------------------------------------------------------------------


def customer_ensure(*, organisation: Organisation) -> str:
    """The organisation's Stripe customer id: dj-stripe's ``Customer.get_or_create`` (organisation = subscriber)."""
    account = billing_account_for(organisation=organisation)
    existing = customer_id_of(account)
    if existing:
        return existing
    customer, _created = djstripe_models.Customer.get_or_create(
        subscriber=organisation,
        metadata={"organisation": organisation.slug},
    )
    with transaction.atomic():
        locked = BillingAccount.objects.select_for_update().get(pk=account.pk)
        if not locked.stripe_customer_id:
            locked.stripe_customer = customer
            locked.save(update_fields=["stripe_customer", "updated_at"])
        return customer_id_of(locked)


def customer_id_of(account: BillingAccount) -> str:
    """The Stripe id (cus_…) of the account's customer ("" if none): the FK column holds dj-stripe's djid."""
    if not account.stripe_customer_id:
        return ""
    return str(
        djstripe_models.Customer.objects.filter(pk=account.stripe_customer_id).values_list("id", flat=True).first()
        or ""
    )


def customer_retrieve(*, customer_id: str) -> Any:
    return stripe.Customer.retrieve(customer_id, **_opts())


def customer_default_payment_method(*, customer_id: str) -> str:
    """The id of the customer's default payment method for invoices, from dj-stripe's copy ("" if none)."""
    customer = djstripe_models.Customer.objects.filter(id=customer_id).first()
    data: dict[str, Any] = (getattr(customer, "stripe_data", None) or {}) if customer is not None else {}
    settings_ = data.get("invoice_settings") or {}
    default = settings_.get("default_payment_method") or ""
    if isinstance(default, dict):
        default = default.get("id", "")
    return str(default)


# --- payment methods --------------------------------------------------------------------------------------


def payment_methods_local(*, customer_id: str) -> list[Any]:
    """dj-stripe's copy of the customer's payment methods (synced by webhooks and ``payment_methods_sync``)."""
    return list(djstripe_models.PaymentMethod.objects.filter(customer_id=customer_id).order_by("-created"))


def payment_methods_sync(*, customer_id: str) -> list[Any]:
    """Fetch the customer's cards and SEPA mandates from Stripe into dj-stripe; drop the detached ones."""
    seen: set[str] = set()
    for method_type in PAYMENT_METHOD_TYPES:
        listing = stripe.PaymentMethod.list(customer=customer_id, type=method_type, limit=100, **_opts())
        for data in listing.auto_paging_iter():
            sync_object(data)
            seen.add(str(data["id"]))
    djstripe_models.PaymentMethod.objects.filter(customer_id=customer_id).exclude(id__in=seen).update(customer=None)
    customer = customer_retrieve(customer_id=customer_id)
    sync_object(customer)
    return payment_methods_local(customer_id=customer_id)


def payment_method_owned(*, customer_id: str, payment_method_id: str) -> None:
    """Raise NotFound unless the payment method belongs to the customer (never act on another's)."""
    if djstripe_models.PaymentMethod.objects.filter(id=payment_method_id, customer_id=customer_id).exists():
        return
    data: Any
    try:
        data = stripe.PaymentMethod.retrieve(payment_method_id, **_opts())
    except stripe.InvalidRequestError:
        data = None
    owner = data.get("customer") if data is not None else None
    if isinstance(owner, dict):
        owner = owner.get("id")
    if data is None or owner != customer_id:
        raise NotFound("No such payment method.", code="not_found")
    sync_object(data)


def payment_method_set_default(*, customer_id: str, payment_method_id: str) -> None:
    customer = stripe.Customer.modify(
        customer_id, invoice_settings={"default_payment_method": payment_method_id}, **_opts()
    )
    sync_object(customer)


def payment_method_detach(*, payment_method_id: str) -> None:
    data = stripe.PaymentMethod.detach(payment_method_id, **_opts())
    djstripe_models.PaymentMethod.objects.filter(id=payment_method_id).update(customer=None)
    sync_object(data)


def payment_method_refresh(*, payment_method_id: str) -> bool:
    """Re-fetch one payment method and mirror it (webhooks: the event's copy may be stale)."""
    data = stripe.PaymentMethod.retrieve(payment_method_id, **_opts())
    return sync_object(data) is not None


def payment_method_forget(*, payment_method_id: str) -> None:
    """A detached method no longer belongs to any customer."""
    djstripe_models.PaymentMethod.objects.filter(id=payment_method_id).update(customer=None)


def setup_intent_payment_method(*, setup_intent: Any) -> str:
    """The payment method a Checkout setup session saved ("" if none yet)."""
    if not setup_intent:
        return ""
    if isinstance(setup_intent, str):
        setup_intent = stripe.SetupIntent.retrieve(setup_intent, **_opts())
    method = setup_intent.get("payment_method") or ""
    return str(method.get("id") if isinstance(method, dict) else method)


# --- Checkout ---------------------------------------------------------------------------------------------


def checkout_setup_create(*, customer_id: str, organisation: Organisation, success_url: str, cancel_url: str) -> Any:
    """Checkout in setup mode: the customer saves a card or a SEPA Direct Debit mandate."""
    return stripe.checkout.Session.create(
        mode="setup",
        customer=customer_id,
        currency="eur",
        payment_method_types=PAYMENT_METHOD_TYPES,
        success_url=success_url,
        cancel_url=cancel_url,
        client_reference_id=str(organisation.pk),
        metadata={"organisation_id": str(organisation.pk), "purpose": "payment_method"},
        setup_intent_data={"metadata": {"organisation_id": str(organisation.pk)}},
        **_opts(),
    )


def checkout_topup_create(
    *, customer_id: str, organisation: Organisation, amount_cents: int, success_url: str, cancel_url: str
) -> Any:
    """Checkout in payment mode for a prepaid top-up of ``amount_cents`` EUR cents."""
    metadata = {"organisation_id": str(organisation.pk), "purpose": "topup", "amount_cents": str(amount_cents)}
    return stripe.checkout.Session.create(
        mode="payment",
        customer=customer_id,
        payment_method_types=PAYMENT_METHOD_TYPES,
        line_items=[
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": amount_cents,
                    "product_data": {"name": "VMCloud prepaid balance"},
                },
                "quantity": 1,
            }
        ],
        success_url=success_url,
        cancel_url=cancel_url,
        client_reference_id=str(organisation.pk),
        metadata=metadata,
        payment_intent_data={"metadata": metadata, "setup_future_usage": "off_session"},
        **_opts(),
    )


def checkout_session_retrieve(*, session_id: str) -> Any:
    return stripe.checkout.Session.retrieve(session_id, **_opts())


# --- invoices and refunds ---------------------------------------------------------------------------------


def invoice_create_and_finalize(
    *, invoice: Invoice, customer_id: str, items: list[tuple[str, int]], days_until_due: int | None
) -> Any:
    """Create the Stripe invoice, add our items, finalise it. Retries are safe (idempotency keys).

    With a default payment method Stripe charges it (``charge_automatically``);
    without one the invoice is sent (``send_invoice``) with our due date, so the
    customer can pay it on Stripe's hosted page and no failure starts dunning early.
    """
    key = f"vmcloud-invoice-{invoice.public_id}"
    automatic = bool(customer_default_payment_method(customer_id=customer_id))
    params: dict[str, Any] = {
        "customer": customer_id,
        "currency": invoice.currency.lower(),
        "auto_advance": True,
        "pending_invoice_items_behavior": "exclude",
        "description": f"{invoice.number} ({invoice.period_start:%Y-%m})",
        "metadata": {"vmcloud_invoice": str(invoice.public_id), "number": invoice.number or ""},
    }
    if automatic:
        params["collection_method"] = "charge_automatically"
    else:
        params["collection_method"] = "send_invoice"
        if days_until_due is None and invoice.due_at is not None and invoice.issued_at is not None:
            days_until_due = max((invoice.due_at - invoice.issued_at).days, 0)
        params["days_until_due"] = days_until_due if days_until_due is not None else 14
    stripe_invoice: Any = stripe.Invoice.create(idempotency_key=key, **params, **_opts())
    for position, (description, cents) in enumerate(items):
        stripe.InvoiceItem.create(
            customer=customer_id,
            invoice=stripe_invoice["id"],
            amount=cents,
            currency=invoice.currency.lower(),
            description=description,
            idempotency_key=f"{key}-item-{position}",
            **_opts(),
        )
    if stripe_invoice.get("status") == "draft":
        stripe_invoice = stripe.Invoice.finalize_invoice(
            stripe_invoice["id"], auto_advance=True, idempotency_key=f"{key}-finalize", **_opts()
        )
    sync_object(stripe_invoice)
    return stripe_invoice


def invoice_retrieve(*, stripe_invoice_id: str) -> Any:
    return stripe.Invoice.retrieve(stripe_invoice_id, **_opts())


def refund_create(*, stripe_invoice_id: str, amount_cents: int, idempotency_key: str) -> Any:
    """Refund ``amount_cents`` of the invoice's successful payment."""
    payments = stripe.InvoicePayment.list(invoice=stripe_invoice_id, status="paid", limit=10, **_opts())
    entry: Any
    for entry in payments.auto_paging_iter():
        payment = entry.get("payment") or {}
        intent = payment.get("payment_intent")
        charge = payment.get("charge")
        target: dict[str, Any] = {}
        if intent:
            target["payment_intent"] = intent if isinstance(intent, str) else intent["id"]
        elif charge:
            target["charge"] = charge if isinstance(charge, str) else charge["id"]
        if target:
            return stripe.Refund.create(
                amount=amount_cents,
                reason="requested_by_customer",
                idempotency_key=idempotency_key,
                **target,
                **_opts(),
            )
    raise NotFound("This invoice has no successful Stripe payment to refund.", code="stripe_payment_not_found")


# --- dj-stripe mirror -------------------------------------------------------------------------------------

SYNC_MODELS: dict[str, Any] = {
    "customer": djstripe_models.Customer,
    "payment_method": djstripe_models.PaymentMethod,
    "invoice": djstripe_models.Invoice,
}


def sync_object(data: Any) -> Any | None:
    """Mirror a Stripe object into dj-stripe's table (best effort: our ledger does not depend on it)."""
    model = SYNC_MODELS.get(str(data.get("object", "")))
    if model is None:
        return None
    try:
        with transaction.atomic():
            return model.sync_from_stripe_data(data, api_key=settings.STRIPE_SECRET_KEY)
    except Exception:
        logger.warning("dj-stripe could not mirror %s %s", data.get("object"), data.get("id"), exc_info=True)
        return None
