"""Back office of payments: billing accounts with dunning overrides, dunning policy, Stripe webhook events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.billing.choices import WebhookEventStatus
from apps.billing.models import DunningPolicy, StripeWebhookEvent
from apps.billing.services import billing_account_for, payments
from apps.core.models import AuditEvent
from tests.billing.fixtures_payments import make_invoice, org  # noqa: F401  # fixtures


@pytest.mark.django_db
def test_admin_pages_and_dunning_actions(client, staff_user, org):  # noqa: F811
    account = billing_account_for(organisation=org)
    invoice = make_invoice(org, issued_at=timezone.now() - dt.timedelta(days=20))
    payments.invoice_payment_failed(invoice=invoice, at=timezone.now() - dt.timedelta(days=2))
    StripeWebhookEvent.objects.create(
        event_id="evt_admin", type="invoice.paid", created=timezone.now(), payload={"data": {"object": {}}}
    )
    client.force_login(staff_user)
    for url in (
        "/admin/billing/billingaccount/",
        f"/admin/billing/billingaccount/{account.pk}/change/",
        "/admin/billing/stripewebhookevent/",
        f"/admin/billing/stripewebhookevent/{StripeWebhookEvent.objects.get().pk}/change/",
        "/admin/billing/dunningpolicy/add/",
    ):
        assert client.get(url).status_code == 200, url

    # Pause until a date: the form first, then the action.
    changelist = "/admin/billing/billingaccount/"
    form = client.post(changelist, {"action": "pause_dunning", "_selected_action": [account.pk]})
    assert form.status_code == 200 and b"Pause dunning until" in form.content
    until = (timezone.now() + dt.timedelta(days=10)).strftime("%Y-%m-%d %H:%M:%S")
    done = client.post(
        changelist, {"action": "pause_dunning", "_selected_action": [account.pk], "apply": "1", "until": until}
    )
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.dunning_paused_until is not None
    client.post(changelist, {"action": "lift_now", "_selected_action": [account.pk]})
    client.post(changelist, {"action": "restart_dunning", "_selected_action": [account.pk]})
    assert AuditEvent.objects.filter(action="billing.dunning.paused", actor_user=staff_user).exists()
    assert AuditEvent.objects.filter(action="billing.dunning.restarted", actor_user=staff_user).exists()

    # The policy is edited in the admin.
    response = client.post(
        "/admin/billing/dunningpolicy/add/",
        {"reminder_days": "[2, 5]", "suspend_after_days": "10", "terminate_after_days": "20"},
    )
    assert response.status_code == 302
    assert DunningPolicy.current().suspend_after_days == 10

    # Reprocess a webhook event.
    event = StripeWebhookEvent.objects.get()
    StripeWebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEventStatus.FAILED)
    client.post("/admin/billing/stripewebhookevent/", {"action": "reprocess", "_selected_action": [event.pk]})
    assert AuditEvent.objects.filter(action="billing.stripe_event.reprocess").exists()
