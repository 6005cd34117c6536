"""Stripe with keys configured (fake sk_test_ key, API base on a closed port, stripe-python calls faked):
customers through dj-stripe, invoice push, refunds, Checkout, payment methods, top-ups; and the "payments off" state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import stripe
from django.test import TestCase
from django.utils import timezone
from djstripe import models as djstripe_models
from rest_framework.test import APIClient

from apps.billing.choices import CreditKind, CreditNoteKind
from apps.billing.models import CreditGrant, CreditNote, InvoiceLine
from apps.billing.services import billing_account_for, payments
from apps.billing.stripe import gateway as stripe_gateway
from apps.core.models import AuditEvent
from tests.billing.fixtures_payments import (  # noqa: F401  # fixtures
    billing_user,
    event_payload,
    make_invoice,
    org,
    plain_member,
    sign,
    stripe_off,
    stripe_on,
)

WEBHOOK = "/billing/stripe/webhook/"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _webhook(client, payload: str):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload))


@pytest.mark.django_db
def test_unmocked_call_never_leaves_loopback(stripe_on):  # noqa: F811
    with pytest.raises(stripe.APIConnectionError):
        stripe.Balance.retrieve(api_key=stripe.api_key)
    assert stripe.api_base.startswith("http://127.0.0.1:")


@pytest.mark.django_db
def test_customer_created_once_through_djstripe(org, stripe_on):  # noqa: F811
    first = stripe_gateway.customer_ensure(organisation=org)
    second = stripe_gateway.customer_ensure(organisation=org)
    assert first == second
    assert stripe_on.names().count("customer.create") == 1
    create = dict(stripe_on.calls)["customer.create"]
    assert create["email"] == "billing@payco.example"
    assert create["metadata"]["organisation"] == org.slug
    assert create["api_key"].startswith("sk_test_")
    customer = djstripe_models.Customer.objects.get(id=first)
    assert customer.subscriber == org
    assert stripe_gateway.customer_id_of(billing_account_for(organisation=org)) == first


@pytest.mark.django_db
def test_invoice_push_sends_items_adding_up_to_amount_due(org, stripe_on):  # noqa: F811
    invoice = make_invoice(org, amount_due="121.00")
    invoice.subtotal = invoice.net_total = Decimal("110.00")
    invoice.promotional_credit = Decimal("10.00")
    invoice.net_total = Decimal("100.00")
    invoice.vat_rate = Decimal("24.00")
    invoice.vat_amount = Decimal("24.00")
    invoice.total = Decimal("124.00")
    invoice.prepaid_applied = Decimal("3.00")
    invoice.amount_due = Decimal("121.00")
    invoice.save()
    now = timezone.now()
    for position, (description, amount) in enumerate([("VPS-S web-1", "73.33"), ("GPU-A100 train", "36.67")]):
        InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            resource_type="instance",
            description=description,
            period_start=now,
            period_end=now,
            quantity=Decimal("1"),
            unit_price=Decimal(amount),
            amount=Decimal(amount),
        )
    pushed = payments.invoice_push(invoice=invoice)
    assert pushed.stripe_invoice_id.startswith("in_")
    items = stripe_on.invoice_items
    assert sum(i["amount"] for i in items) == 12100
    assert [i["amount"] for i in items] == [7333, 3667, -1000, 2400, -300]
    assert all(i["invoice"] == pushed.stripe_invoice_id and i["currency"] == "eur" for i in items)
    create = dict(stripe_on.calls)["invoice.create"]
    assert create["collection_method"] == "send_invoice"  # no default payment method: Stripe e-mails it
    assert create["metadata"]["vmcloud_invoice"] == str(invoice.public_id)
    assert create["idempotency_key"] == f"vmcloud-invoice-{invoice.public_id}"
    assert "invoice.finalize" in stripe_on.names()
    assert stripe_on.invoices[pushed.stripe_invoice_id]["amount_due"] == 12100
    # Pushing again does nothing.
    calls = len(stripe_on.calls)
    payments.invoice_push(invoice=pushed)
    assert len(stripe_on.calls) == calls
    assert AuditEvent.objects.filter(action="billing.invoice.stripe_push").count() == 1


@pytest.mark.django_db
def test_invoice_push_charges_the_default_method(org, stripe_on):  # noqa: F811
    customer_id = stripe_gateway.customer_ensure(organisation=org)
    stripe_on.payment_method("pm_card", customer_id)
    stripe_gateway.payment_method_set_default(customer_id=customer_id, payment_method_id="pm_card")
    payments.invoice_push(invoice=make_invoice(org))
    assert dict(stripe_on.calls)["invoice.create"]["collection_method"] == "charge_automatically"


@pytest.mark.django_db
def test_invoice_push_task_is_a_no_op_without_keys(org, stripe_off):  # noqa: F811
    from apps.billing.tasks.payments import invoice_push

    invoice = make_invoice(org)
    invoice_push(invoice.pk)
    invoice.refresh_from_db()
    assert invoice.stripe_invoice_id == ""


@pytest.mark.django_db
def test_credit_note_refund(org, stripe_on):  # noqa: F811
    invoice = make_invoice(org)
    invoice.stripe_invoice_id = "in_paid"
    invoice.save()
    note = CreditNote.objects.create(
        number="TST-CN-1",
        invoice=invoice,
        organisation=org,
        kind=CreditNoteKind.REFUND,
        reason="Outage",
        net_amount=Decimal("10.00"),
        vat_amount=Decimal("2.10"),
        total=Decimal("12.10"),
        issued_at=timezone.now(),
    )
    payments.credit_note_refund(credit_note=note)
    note.refresh_from_db()
    assert note.stripe_refund_id.startswith("re_")
    (refund,) = stripe_on.refunds
    assert refund["payment_intent"] == "pi_test_1"
    assert refund["amount"] == 1210
    assert refund["idempotency_key"] == f"credit-note-{note.public_id}"
    payments.credit_note_refund(credit_note=note)  # idempotent
    assert len(stripe_on.refunds) == 1


@pytest.mark.django_db
def test_checkout_setup_via_api_then_webhook_saves_default_method(org, billing_user, stripe_on, client):  # noqa: F811
    response = _api(billing_user).post(
        "/api/v1/billing/checkout-sessions/", {"organisation": org.slug, "mode": "setup"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["url"].startswith("https://checkout.stripe.com/")
    create = dict(stripe_on.calls)["checkout.session.create"]
    assert create["mode"] == "setup"
    assert create["payment_method_types"] == ["card", "sepa_debit"]
    assert "/billing/payment-methods/?session_id={CHECKOUT_SESSION_ID}" in create["success_url"]

    customer_id = stripe_gateway.customer_id_of(billing_account_for(organisation=org))
    session_id = next(iter(stripe_on.sessions))
    stripe_on.sessions[session_id].update(status="complete", setup_intent="seti_1")
    stripe_on.setup_intents["seti_1"] = {"id": "seti_1", "object": "setup_intent", "payment_method": "pm_sepa"}
    stripe_on.payment_method("pm_sepa", customer_id, type="sepa_debit")
    payload = event_payload("checkout.session.completed", {"id": session_id, "object": "checkout.session"})
    assert _webhook(client, payload).status_code == 200

    methods = _api(billing_user).get("/api/v1/billing/payment-methods/", {"organisation": org.pk}).json()
    assert methods == [
        {
            "id": "pm_sepa",
            "type": "sepa_debit",
            "brand": "SEPA Direct Debit",
            "last4": "3000",
            "expires": "",
            "is_default": True,
        }
    ]


@pytest.mark.django_db
def test_set_default_and_remove_through_api(org, billing_user, plain_member, stripe_on):  # noqa: F811
    customer_id = stripe_gateway.customer_ensure(organisation=org)
    stripe_on.payment_method("pm_a", customer_id)
    stripe_on.payment_method("pm_b", customer_id)
    stripe_gateway.payment_methods_sync(customer_id=customer_id)
    api = _api(billing_user)
    response = api.post("/api/v1/billing/payment-methods/pm_b/default/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["is_default"] is True
    assert stripe_on.customers[customer_id]["invoice_settings"]["default_payment_method"] == "pm_b"
    assert api.delete("/api/v1/billing/payment-methods/pm_a/").status_code == 204
    assert [m["id"] for m in api.get("/api/v1/billing/payment-methods/").json()] == ["pm_b"]
    assert api.delete("/api/v1/billing/payment-methods/pm_unknown/").status_code == 404
    # A member sees no billing at all.
    member_api = _api(plain_member)
    assert member_api.get("/api/v1/billing/payment-methods/").status_code == 403
    assert member_api.delete("/api/v1/billing/payment-methods/pm_b/").status_code == 403
    assert member_api.get("/api/v1/billing/account/").status_code == 403


@pytest.mark.django_db
def test_topup_checkout_and_webhook_credit_prepaid_once(org, billing_user, stripe_on, client):  # noqa: F811
    api = _api(billing_user)
    assert api.post("/api/v1/billing/checkout-sessions/", {"mode": "topup"}, format="json").status_code == 400
    too_much = api.post("/api/v1/billing/checkout-sessions/", {"mode": "topup", "amount": "99999"}, format="json")
    assert too_much.status_code == 400
    response = api.post("/api/v1/billing/checkout-sessions/", {"mode": "topup", "amount": "50.00"}, format="json")
    assert response.status_code == 201
    create = dict(stripe_on.calls)["checkout.session.create"]
    assert create["mode"] == "payment"
    assert create["line_items"][0]["price_data"]["unit_amount"] == 5000
    session_id = next(iter(stripe_on.sessions))
    stripe_on.sessions[session_id].update(
        status="complete", payment_status="paid", amount_total=5000, payment_intent="pi_topup"
    )
    payload = event_payload("checkout.session.completed", {"id": session_id, "object": "checkout.session"})
    _webhook(client, payload)
    again = event_payload("checkout.session.async_payment_succeeded", {"id": session_id, "object": "checkout.session"})
    _webhook(client, again)
    grant = CreditGrant.objects.get(organisation=org)
    assert (grant.kind, grant.amount, grant.stripe_payment_id) == (CreditKind.PREPAID, Decimal("50.00"), "pi_topup")
    assert grant.expires_at is not None and grant.expires_at > timezone.now() + dt.timedelta(days=700)
    account = api.get("/api/v1/billing/account/").json()
    assert account["prepaid_balance"] == "50.00"


@pytest.mark.django_db
def test_unpaid_sepa_topup_waits_for_async_success(org, billing_user, stripe_on, client):  # noqa: F811
    _api(billing_user).post("/api/v1/billing/checkout-sessions/", {"mode": "topup", "amount": "20"}, format="json")
    session_id = next(iter(stripe_on.sessions))
    stripe_on.sessions[session_id].update(status="complete", payment_status="unpaid", amount_total=2000)
    _webhook(client, event_payload("checkout.session.completed", {"id": session_id, "object": "checkout.session"}))
    assert not CreditGrant.objects.exists()


@pytest.mark.django_db
def test_payments_off_api_and_portal(org, billing_user, stripe_off, client):  # noqa: F811
    api = _api(billing_user)
    for response in (
        api.get("/api/v1/billing/payment-methods/"),
        api.post("/api/v1/billing/checkout-sessions/", {"mode": "setup"}, format="json"),
    ):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "payments_disabled"
    account = api.get("/api/v1/billing/account/").json()
    assert account["payments_enabled"] is False
    assert account["dunning_state"] == "good"
    client.force_login(billing_user)
    page = client.get("/billing/payment-methods/")
    assert page.status_code == 200
    assert b'id="payments-off"' in page.content
    assert b"paid by bank transfer" in page.content
    response = client.post("/billing/payment-methods/add/")
    assert response.status_code == 302  # back to the page with the message


@pytest.mark.django_db
def test_portal_page_permissions_and_methods(org, billing_user, plain_member, stripe_on, client):  # noqa: F811
    customer_id = stripe_gateway.customer_ensure(organisation=org)
    stripe_on.payment_method("pm_visa", customer_id)
    stripe_gateway.payment_methods_sync(customer_id=customer_id)
    client.force_login(billing_user)
    page = client.get("/billing/payment-methods/")
    assert page.status_code == 200
    assert b"4242" in page.content and b'id="payments-off"' not in page.content
    response = client.post("/billing/payment-methods/add/")
    assert response.status_code == 302 and response["Location"].startswith("https://checkout.stripe.com/")
    response = client.post("/billing/payment-methods/pm_visa/default/")
    assert response.status_code == 302
    assert stripe_on.customers[customer_id]["invoice_settings"]["default_payment_method"] == "pm_visa"
    client.force_login(plain_member)
    assert client.get("/billing/payment-methods/").status_code == 403
    assert client.post("/billing/payment-methods/pm_visa/remove/").status_code == 403


@pytest.mark.django_db
def test_payment_method_of_another_customer_is_not_found(org, billing_user, stripe_on):  # noqa: F811
    stripe_gateway.customer_ensure(organisation=org)
    stripe_on.payment_method("pm_foreign", "cus_someone_else")
    from apps.core.errors import NotFound

    with pytest.raises(NotFound):
        payments.payment_method_remove(organisation=org, actor=billing_user, payment_method_id="pm_foreign")
    assert "payment_method.detach" not in stripe_on.names()


@pytest.mark.django_db
def test_banner_shows_past_due_state(org, billing_user, client):  # noqa: F811
    invoice = make_invoice(org, issued_at=timezone.now() - dt.timedelta(days=30))
    payments.invoice_payment_failed(invoice=invoice, at=timezone.now() - dt.timedelta(days=2))
    client.force_login(billing_user)
    page = client.get("/billing/payment-methods/")
    assert b'id="payment-banner"' in page.content and b'data-state="past_due"' in page.content
