"""The invoice e-mail goes through its task: retried on a transient SMTP error, never sent twice."""

from __future__ import annotations

import smtplib
from datetime import date

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from apps.billing.models import Invoice
from apps.billing.services.invoicing import (
    InvoiceEmailTransientError,
    invoice_draft_build,
    invoice_email_send,
    invoice_issue,
)
from apps.billing.tasks.invoicing import invoice_email
from tests.billing.fixtures_invoices import at, buyer, usage, utc


class FlakyBackend(EmailBackend):
    """The locmem backend, except that the first ``failures`` sends raise ``error``."""

    failures = 0
    error: Exception = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    attempts = 0

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts <= FlakyBackend.failures:
            raise FlakyBackend.error
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.attempts = 0
    FlakyBackend.failures = 0
    FlakyBackend.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    return FlakyBackend


def _issued(django_capture_on_commit_callbacks) -> Invoice:
    org = buyer("Mailer", country="EE")
    usage(org, hours=10, price="1.00")
    with at(utc(2026, 2, 1, 3)), django_capture_on_commit_callbacks(execute=True):
        return invoice_issue(invoice=invoice_draft_build(organisation=org, month=date(2026, 1, 1)), actor=None)


@pytest.mark.django_db
def test_issuing_enqueues_the_email_task(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        org = buyer("Queued", country="EE")
        usage(org, hours=10, price="1.00")
        with at(utc(2026, 2, 1, 3)):
            invoice_issue(invoice=invoice_draft_build(organisation=org, month=date(2026, 1, 1)), actor=None)
    assert mail.outbox == []  # nothing is sent inside the issuing transaction
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_transient_smtp_error_is_retried_and_a_second_run_sends_nothing(flaky_mail, django_capture_on_commit_callbacks):
    flaky_mail.failures = 2  # the server drops the connection twice, then takes the message
    invoice = _issued(django_capture_on_commit_callbacks)
    assert flaky_mail.attempts == 3
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][0] == f"{invoice.number}.pdf"
    invoice.refresh_from_db()
    assert invoice.emailed_at is not None

    # Run again (a redelivered message, or a second enqueue): claimed already, nothing is sent.
    invoice_email.apply(args=[invoice.pk])
    assert invoice_email_send(invoice_id=invoice.pk) is False
    assert len(mail.outbox) == 1 and flaky_mail.attempts == 3


@pytest.mark.django_db
def test_permanent_smtp_error_is_not_retried(flaky_mail, django_capture_on_commit_callbacks):
    flaky_mail.failures = 1
    flaky_mail.error = smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such user")})
    invoice = _issued(django_capture_on_commit_callbacks)
    assert flaky_mail.attempts == 1 and mail.outbox == []
    invoice.refresh_from_db()
    assert invoice.emailed_at is None  # the claim was given back: staff can send it again


@pytest.mark.django_db
def test_retries_are_bounded(flaky_mail):
    flaky_mail.failures = 1000
    invoice = _issued_without_send()
    assert invoice_email.apply(args=[invoice.pk]).get() is False
    assert flaky_mail.attempts == invoice_email.max_retries + 1
    invoice.refresh_from_db()
    assert invoice.emailed_at is None and mail.outbox == []


def test_a_worker_retries_only_transient_errors_with_bounded_backoff():
    assert invoice_email.autoretry_for == (InvoiceEmailTransientError,)
    assert invoice_email.retry_backoff and invoice_email.retry_jitter and invoice_email.max_retries == 15


def _issued_without_send() -> Invoice:
    org = buyer("Outage", country="EE")
    usage(org, hours=10, price="1.00")
    with at(utc(2026, 2, 1, 3)):
        return invoice_issue(invoice=invoice_draft_build(organisation=org, month=date(2026, 1, 1)), actor=None)


@pytest.mark.django_db
def test_missing_invoice_returns_quietly():
    assert invoice_email_send(invoice_id=987654321) is False
