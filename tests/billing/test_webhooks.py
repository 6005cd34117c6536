"""Stripe webhooks signed with stripe-python's real signing: dedup, order, signature, tolerance, processing."""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.test import TestCase
from django.utils import timezone

from apps.billing.choices import DunningState, InvoiceStatus, WebhookEventStatus
from apps.billing.models import BillingAccount, Invoice, StripeWebhookEvent
from apps.billing.services import billing_account_for, webhooks
from apps.core.models import AuditEvent
from tests.billing.fixtures_payments import (  # noqa: F401  # fixtures
    WEBHOOK_SECRET,
    event_payload,
    make_invoice,
    org,
    sign,
    stripe_invoice,
    stripe_off,
    stripe_on,
)

URL = "/billing/stripe/webhook/"


def _post(client, payload: str, header: str):
    """Post like Stripe; on-commit callbacks (the Celery enqueue, eager in tests) run as after a real commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def _sweep(now: dt.datetime) -> int:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return webhooks.events_sweep(now=now)


def _linked_invoice(org, fake, *, stripe_status: str, **extra):  # noqa: F811
    invoice = make_invoice(org)
    invoice.stripe_invoice_id = "in_test_1"
    invoice.save(update_fields=["stripe_invoice_id"])
    fake.invoices["in_test_1"] = stripe_invoice("in_test_1", status=stripe_status, **extra)
    return invoice


@pytest.mark.django_db
def test_paid_event_marks_invoice_paid_once(client, org, stripe_on):  # noqa: F811
    invoice = _linked_invoice(org, stripe_on, stripe_status="paid")
    payload = event_payload("invoice.paid", {"id": "in_test_1", "object": "invoice"}, event_id="evt_paid_1")
    for _ in range(3):
        response = _post(client, payload, sign(payload))
        assert response.status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.stripe_status == "paid"
    assert StripeWebhookEvent.objects.get().status == WebhookEventStatus.DONE
    assert AuditEvent.objects.filter(action="billing.invoice.paid").count() == 1
    # The handler re-fetched the invoice from Stripe rather than trusting the payload.
    assert ("invoice.retrieve") in stripe_on.names()


@pytest.mark.django_db
def test_bad_signature_is_400_and_stores_nothing(client, org, stripe_on):  # noqa: F811
    payload = event_payload("invoice.paid", {"id": "in_x", "object": "invoice"})
    assert _post(client, payload, sign(payload, secret="whsec_wrong")).status_code == 400
    assert _post(client, payload, "t=123,v1=deadbeef").status_code == 400
    assert _post(client, payload, "").status_code == 400
    tampered = payload.replace("invoice.paid", "invoice.voided")
    assert _post(client, tampered, sign(payload)).status_code == 400
    assert not StripeWebhookEvent.objects.exists()


@pytest.mark.django_db
def test_stale_timestamp_is_400(client, org, stripe_on, settings):  # noqa: F811
    payload = event_payload("invoice.paid", {"id": "in_x", "object": "invoice"})
    stale = int(time.time()) - settings.STRIPE_WEBHOOK_TOLERANCE - 5
    response = _post(client, payload, sign(payload, timestamp=stale))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not StripeWebhookEvent.objects.exists()
    fresh = int(time.time()) - settings.STRIPE_WEBHOOK_TOLERANCE + 30
    assert _post(client, payload, sign(payload, timestamp=fresh)).status_code == 200


@pytest.mark.django_db
def test_payments_off_answers_503(client, stripe_off):  # noqa: F811
    payload = event_payload("invoice.paid", {"id": "in_x", "object": "invoice"})
    response = _post(client, payload, sign(payload))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "payments_disabled"


@pytest.mark.django_db
def test_failed_after_paid_stays_paid(client, org, stripe_on):  # noqa: F811
    invoice = _linked_invoice(org, stripe_on, stripe_status="paid")
    now = int(time.time())
    paid = event_payload("invoice.paid", {"id": "in_test_1", "object": "invoice"}, created=now)
    failed = event_payload("invoice.payment_failed", {"id": "in_test_1", "object": "invoice"}, created=now - 60)
    assert _post(client, paid, sign(paid)).status_code == 200
    assert _post(client, failed, sign(failed)).status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.payment_failed_at is None
    assert billing_account_for(organisation=org).dunning_state == DunningState.GOOD
    statuses = dict(StripeWebhookEvent.objects.values_list("type", "status"))
    assert statuses["invoice.payment_failed"] == WebhookEventStatus.IGNORED  # older than the paid one


@pytest.mark.django_db
def test_failed_delivered_late_with_newer_timestamp_cannot_regress(client, org, stripe_on):  # noqa: F811
    """Even when the failure's timestamp is newer, Stripe's current status (paid) wins."""
    invoice = _linked_invoice(org, stripe_on, stripe_status="paid")
    now = int(time.time())
    paid = event_payload("invoice.paid", {"id": "in_test_1", "object": "invoice"}, created=now - 60)
    failed = event_payload("invoice.payment_failed", {"id": "in_test_1", "object": "invoice"}, created=now)
    _post(client, paid, sign(paid))
    _post(client, failed, sign(failed))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert billing_account_for(organisation=org).dunning_state == DunningState.GOOD


@pytest.mark.django_db
def test_paid_after_failed_lifts_dunning(client, org, stripe_on, mailoutbox):  # noqa: F811
    invoice = _linked_invoice(org, stripe_on, stripe_status="open", attempted=True, attempt_count=1)
    now = int(time.time())
    failed = event_payload("invoice.payment_failed", {"id": "in_test_1", "object": "invoice"}, created=now - 120)
    assert _post(client, failed, sign(failed)).status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.payment_failed_at is not None
    account = billing_account_for(organisation=org)
    assert account.dunning_state == DunningState.PAST_DUE
    assert any("failed" in m.subject for m in mailoutbox)

    stripe_on.invoices["in_test_1"] = stripe_invoice("in_test_1", status="paid")
    paid = event_payload("invoice.paid", {"id": "in_test_1", "object": "invoice"}, created=now)
    assert _post(client, paid, sign(paid)).status_code == 200
    invoice.refresh_from_db()
    account.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert account.dunning_state == DunningState.GOOD
    assert account.past_due_since is None
    assert AuditEvent.objects.filter(action="billing.dunning.lifted").count() == 1


@pytest.mark.django_db
def test_webhook_before_push_saved_links_by_metadata(client, org, stripe_on):  # noqa: F811
    invoice = make_invoice(org)
    stripe_on.invoices["in_meta"] = stripe_invoice(
        "in_meta", status="paid", metadata={"vmcloud_invoice": str(invoice.public_id)}
    )
    payload = event_payload("invoice.paid", {"id": "in_meta", "object": "invoice"})
    assert _post(client, payload, sign(payload)).status_code == 200
    invoice.refresh_from_db()
    assert invoice.stripe_invoice_id == "in_meta"
    assert invoice.status == InvoiceStatus.PAID


@pytest.mark.django_db
def test_unknown_invoice_and_unhandled_type_are_ignored(client, org, stripe_on):  # noqa: F811
    stripe_on.invoices["in_other"] = stripe_invoice("in_other", status="paid")
    payload = event_payload("invoice.paid", {"id": "in_other", "object": "invoice"})
    _post(client, payload, sign(payload))
    other = event_payload("customer.subscription.created", {"id": "sub_1", "object": "subscription"})
    _post(client, other, sign(other))
    assert set(StripeWebhookEvent.objects.values_list("status", flat=True)) == {WebhookEventStatus.IGNORED}


@pytest.mark.django_db
def test_processing_failure_is_recorded_and_swept(client, org, stripe_on, monkeypatch):  # noqa: F811
    invoice = _linked_invoice(org, stripe_on, stripe_status="paid")
    boom = {"on": True}
    real = webhooks.stripe_gateway.invoice_retrieve

    def flaky(**kw):
        if boom["on"]:
            raise webhooks.stripe_gateway.StripeError("Stripe is down")
        return real(**kw)

    monkeypatch.setattr(webhooks.stripe_gateway, "invoice_retrieve", flaky)
    payload = event_payload("invoice.paid", {"id": "in_test_1", "object": "invoice"})
    assert _post(client, payload, sign(payload)).status_code == 200
    row = StripeWebhookEvent.objects.get()
    assert row.status == WebhookEventStatus.FAILED
    assert "Stripe is down" in row.error
    boom["on"] = False
    later = timezone.now() + dt.timedelta(minutes=6)
    # received_at is "now": the sweep looks 5 minutes back from a later "now".
    assert _sweep(later) == 1
    row.refresh_from_db()
    invoice.refresh_from_db()
    assert row.status == WebhookEventStatus.DONE
    assert row.attempts == 2
    assert invoice.status == InvoiceStatus.PAID


@pytest.mark.django_db
def test_claim_is_exclusive_and_stuck_rows_are_swept(org, stripe_on):  # noqa: F811
    _linked_invoice(org, stripe_on, stripe_status="paid")
    row = StripeWebhookEvent.objects.create(
        event_id="evt_stuck",
        type="invoice.paid",
        created=timezone.now(),
        payload=json.loads(event_payload("invoice.paid", {"id": "in_test_1", "object": "invoice"})),
    )
    assert webhooks.event_claim(event_row_id=row.pk) is True
    assert webhooks.event_claim(event_row_id=row.pk) is False  # someone has it
    assert webhooks.event_process(event_row_id=row.pk) == ""
    # The worker died: 5 minutes later the sweep puts it back and processes it.
    assert _sweep(timezone.now() + dt.timedelta(minutes=4)) == 0
    assert _sweep(timezone.now() + dt.timedelta(minutes=6)) == 1
    row.refresh_from_db()
    assert row.status == WebhookEventStatus.DONE
    assert Invoice.objects.get(stripe_invoice_id="in_test_1").status == InvoiceStatus.PAID


@pytest.mark.django_db(transaction=True)
def test_same_event_posted_ten_times_concurrently(live_server, org, stripe_on):  # noqa: F811
    invoice = _linked_invoice(org, stripe_on, stripe_status="paid")
    payload = event_payload("invoice.paid", {"id": "in_test_1", "object": "invoice"}, event_id="evt_concurrent")
    header = sign(payload)

    def deliver(_n: int) -> int:
        headers = {"Content-Type": "application/json", "Stripe-Signature": header}
        return requests.post(live_server.url + URL, data=payload.encode(), headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(deliver, range(10)))
    assert codes == [200] * 10
    assert StripeWebhookEvent.objects.filter(event_id="evt_concurrent").count() == 1
    assert StripeWebhookEvent.objects.get().status == WebhookEventStatus.DONE
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert AuditEvent.objects.filter(action="billing.invoice.paid", target_id=str(invoice.pk)).count() == 1
    assert BillingAccount.objects.get(organisation=org).dunning_state == DunningState.GOOD


@pytest.mark.django_db(transaction=True)
def test_paid_and_succeeded_events_racing_pay_once(live_server, org, stripe_on):  # noqa: F811
    """Two different events for one payment (invoice.paid and invoice.payment_succeeded) at once: paid once."""
    invoice = _linked_invoice(org, stripe_on, stripe_status="paid")
    payloads = [
        event_payload(kind, {"id": "in_test_1", "object": "invoice"})
        for kind in ["invoice.paid", "invoice.payment_succeeded"] * 3
    ]

    def deliver(payload: str) -> int:
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload)}
        return requests.post(live_server.url + URL, data=payload.encode(), headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(deliver, payloads)) == [200] * 6
    assert StripeWebhookEvent.objects.count() == 6
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert AuditEvent.objects.filter(action="billing.invoice.paid").count() == 1


def test_secret_constant_is_a_webhook_secret() -> None:
    assert WEBHOOK_SECRET.startswith("whsec_")


@pytest.mark.django_db
def test_future_timestamp_beyond_skew_is_400(client, org, stripe_on, settings):  # noqa: F811
    # A correctly signed event dated an hour ahead is refused: the skew is bounded both ways.
    payload = event_payload("invoice.paid", {"id": "in_x", "object": "invoice"})
    ahead = int(time.time()) + 3600
    response = _post(client, payload, sign(payload, timestamp=ahead))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not StripeWebhookEvent.objects.exists()
    just_ahead = int(time.time()) + settings.STRIPE_WEBHOOK_FUTURE_TOLERANCE + 30
    assert _post(client, payload, sign(payload, timestamp=just_ahead)).status_code == 400
    within = int(time.time()) + settings.STRIPE_WEBHOOK_FUTURE_TOLERANCE - 30
    assert _post(client, payload, sign(payload, timestamp=within)).status_code == 200
