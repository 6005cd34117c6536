"""Dunning with time travel (``now=`` passed to the service): reminders, suspension, payment lifts it, termination."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone

from apps.billing.choices import DunningState, InvoiceStatus, NoticeKind
from apps.billing.models import BillingNotice, DunningPolicy
from apps.billing.services import billing_account_for, dunning, payments
from apps.core.models import AuditEvent
from apps.instances.choices import ActionType, InstanceStatus
from apps.instances.models import Action, Instance
from apps.orders.models import OrderBlock
from tests.billing.fixtures_payments import (  # noqa: F401  # fixtures
    fake_worker,
    instance_factory,
    make_invoice,
    org,
)

DAY = dt.timedelta(days=1)


@pytest.fixture
def policy(db) -> DunningPolicy:
    return DunningPolicy.objects.create(reminder_days=[1, 3, 7], suspend_after_days=14, terminate_after_days=30)


@pytest.fixture
def t0() -> dt.datetime:
    """The failed payment, far enough in the past that every step we travel to is not in the future."""
    return timezone.now().replace(microsecond=0) - dt.timedelta(days=45)


def run(now: dt.datetime) -> dict[str, int]:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return dunning.dunning_run(now=now)


def state(org):  # noqa: F811
    return billing_account_for(organisation=org)


@pytest.mark.django_db
def test_reminders_suspend_then_paying_lifts(org, policy, t0, instance_factory, fake_worker, mailoutbox, staff_user):  # noqa: F811
    running = [instance_factory(), instance_factory()]
    already_stopped = instance_factory(status=InstanceStatus.STOPPED)
    invoice = make_invoice(org, issued_at=t0 - 14 * DAY, due_at=t0 + 14 * DAY)

    with TestCase.captureOnCommitCallbacks(execute=True):
        payments.invoice_payment_failed(invoice=invoice, at=t0, reason="card_declined")
    account = state(org)
    assert account.dunning_state == DunningState.PAST_DUE
    assert account.past_due_since == t0
    assert [m.subject for m in mailoutbox] == [f"Payment failed for invoice {invoice.number}"]
    assert mailoutbox[0].to == ["billing@payco.example"]

    # The same failure again (Stripe retried the webhook) changes nothing.
    payments.invoice_payment_failed(invoice=invoice, at=t0, reason="card_declined")
    assert AuditEvent.objects.filter(action="billing.invoice.payment_failed").count() == 1

    assert run(t0 + dt.timedelta(hours=12)) == {}
    assert run(t0 + DAY) == {"reminder": 1}
    assert run(t0 + DAY + dt.timedelta(hours=6)) == {}  # one reminder per step
    assert run(t0 + 3 * DAY) == {"reminder": 1}
    assert run(t0 + 8 * DAY) == {"reminder": 1}
    assert state(org).reminders_sent == 3
    assert run(t0 + 13 * DAY) == {}

    assert run(t0 + 14 * DAY) == {"suspended": 1}
    account = state(org)
    assert account.dunning_state == DunningState.SUSPENDED
    assert sorted(account.stopped_instance_ids) == sorted(str(i.pk) for i in running)
    assert OrderBlock.objects.filter(organisation=org, source="dunning").exists()
    assert Action.objects.filter(type=ActionType.STOP).count() == 2
    fake_worker()
    assert set(Instance.objects.values_list("status", flat=True)) == {InstanceStatus.STOPPED}
    assert run(t0 + 15 * DAY) == {}  # suspended stays suspended, nothing repeated

    # Paying the only overdue invoice lifts it all.
    with TestCase.captureOnCommitCallbacks(execute=True):
        payments.invoice_mark_paid(invoice=invoice, actor=staff_user, reference="bank transfer 2026-02-20")
    account = state(org)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert account.dunning_state == DunningState.GOOD
    assert account.past_due_since is None and account.stopped_instance_ids == []
    assert not OrderBlock.objects.filter(organisation=org, source="dunning").exists()
    started = Action.objects.filter(type=ActionType.START)
    assert sorted(a.instance_id for a in started) == sorted(i.pk for i in running)
    fake_worker()
    assert Instance.objects.get(pk=already_stopped.pk).status == InstanceStatus.STOPPED  # was stopped by its owner
    assert Instance.objects.filter(status=InstanceStatus.RUNNING).count() == 2

    # Every step was notified (e-mail + notice) and audited.
    subjects = [m.subject for m in mailoutbox]
    assert subjects.count("Reminder: payment overdue") == 3
    assert "Your account is suspended for non-payment" in subjects
    assert subjects[-1] == "Your account is in good standing"
    assert BillingNotice.objects.filter(organisation=org, kind=NoticeKind.DUNNING).count() == len(subjects)
    actions = list(
        AuditEvent.objects.filter(action__startswith="billing.dunning.").order_by("pk").values_list("action", flat=True)
    )
    assert actions == [
        "billing.dunning.past_due",
        "billing.dunning.reminder",
        "billing.dunning.reminder",
        "billing.dunning.reminder",
        "billing.dunning.suspended",
        "billing.dunning.lifted",
    ]
    # Paying again is a no-op.
    payments.invoice_mark_paid(invoice=invoice, actor=staff_user)
    assert AuditEvent.objects.filter(action="billing.invoice.paid").count() == 1


@pytest.mark.django_db
def test_paying_one_of_two_overdue_invoices_keeps_dunning(org, policy, t0, staff_user):  # noqa: F811
    first = make_invoice(org, issued_at=t0 - 20 * DAY, due_at=t0)
    make_invoice(org, issued_at=t0 - 10 * DAY, due_at=t0 + DAY)
    assert run(t0 + 2 * DAY) == {"reminder": 1}  # opened by the due date, then the day-1 reminder
    assert state(org).past_due_since == t0
    payments.invoice_mark_paid(invoice=first, actor=staff_user, paid_at=t0 + 3 * DAY)
    assert state(org).dunning_state == DunningState.PAST_DUE


@pytest.mark.django_db
def test_overdue_without_failure_opens_dunning_at_due_date(org, policy, t0, mailoutbox):  # noqa: F811
    invoice = make_invoice(org, issued_at=t0 - 14 * DAY, due_at=t0)
    assert run(t0 - dt.timedelta(minutes=1)) == {}
    run(t0 + dt.timedelta(hours=1))
    account = state(org)
    assert account.dunning_state == DunningState.PAST_DUE
    assert account.past_due_since == t0
    assert mailoutbox[0].subject == f"Invoice {invoice.number} is overdue"


@pytest.mark.django_db
def test_terminate_deletes_servers_and_ends_services(org, policy, t0, instance_factory, fake_worker):  # noqa: F811
    plain = instance_factory()
    protected = instance_factory(delete_protection=True)
    invoice = make_invoice(org, issued_at=t0 - 14 * DAY, due_at=t0)
    payments.invoice_payment_failed(invoice=invoice, at=t0)
    run(t0 + 14 * DAY)
    fake_worker()
    assert run(t0 + 30 * DAY) == {"terminated": 1}
    account = state(org)
    assert account.dunning_state == DunningState.TERMINATED
    assert account.terminated_at == t0 + 30 * DAY
    deletes = Action.objects.filter(type=ActionType.DELETE)
    assert sorted(a.instance_id for a in deletes) == sorted([plain.pk, protected.pk])
    assert Instance.objects.get(pk=protected.pk).delete_protection is False  # overridden, and audited
    assert AuditEvent.objects.filter(action="instances.instance.update", target_id=str(protected.pk)).exists()
    assert AuditEvent.objects.filter(action="billing.dunning.terminated").count() == 1
    fake_worker()
    assert set(Instance.objects.values_list("status", flat=True)) == {InstanceStatus.DELETED}
    assert run(t0 + 31 * DAY) == {}


@pytest.mark.django_db
def test_terminate_when_the_run_was_down_for_weeks(org, policy, t0, instance_factory, fake_worker):  # noqa: F811
    instance_factory()
    invoice = make_invoice(org, issued_at=t0 - 14 * DAY, due_at=t0)
    payments.invoice_payment_failed(invoice=invoice, at=t0)
    assert run(t0 + 40 * DAY) == {"terminated": 1}
    assert state(org).dunning_state == DunningState.TERMINATED


@pytest.mark.django_db
def test_staff_pause_lift_and_restart(org, policy, t0, instance_factory, fake_worker, staff_user):  # noqa: F811
    instance_factory()
    invoice = make_invoice(org, issued_at=t0 - 14 * DAY, due_at=t0)
    payments.invoice_payment_failed(invoice=invoice, at=t0)
    dunning.dunning_pause(account=state(org), until=t0 + 20 * DAY, actor=staff_user)
    assert run(t0 + 15 * DAY) == {"paused": 1}
    assert state(org).dunning_state == DunningState.PAST_DUE
    assert run(t0 + 21 * DAY) == {"suspended": 1}
    fake_worker()

    dunning.dunning_lift_now(account=state(org), actor=staff_user, now=t0 + 22 * DAY)
    account = state(org)
    assert account.dunning_state == DunningState.PAST_DUE  # still owes money
    assert account.dunning_paused_until == t0 + 22 * DAY + dt.timedelta(days=dunning.LIFT_GRACE_DAYS)
    assert Action.objects.filter(type=ActionType.START).count() == 1
    assert run(t0 + 23 * DAY) == {"paused": 1}

    dunning.dunning_restart(account=state(org), actor=staff_user, now=t0 + 23 * DAY)
    account = state(org)
    assert account.past_due_since == t0 + 23 * DAY and account.dunning_paused_until is None
    assert run(t0 + 24 * DAY) == {"reminder": 1}
    assert AuditEvent.objects.filter(action="billing.dunning.paused", actor_user=staff_user).exists()
    assert AuditEvent.objects.filter(action="billing.dunning.restarted").exists()


@pytest.mark.django_db
def test_mark_paid_refuses_a_draft(org):  # noqa: F811
    from apps.core.errors import Conflict

    draft = make_invoice(org, status=InvoiceStatus.DRAFT)
    with pytest.raises(Conflict):
        payments.invoice_mark_paid(invoice=draft, actor=None)
