"""Invoices: drafts, issuing (numbers, frozen buyer, VAT, credits), gapless numbering under concurrency, CSV, e-mail."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection

from apps.billing.choices import CreditKind, InvoiceStatus, VatTreatment
from apps.billing.models import Invoice, UsageRecord
from apps.billing.selectors.invoices import invoice_csv
from apps.billing.services.credits import credit_grant
from apps.billing.services.invoicing import invoice_draft_build, invoice_issue, invoices_issue_for_month
from apps.core.errors import Conflict
from tests.billing.fixtures_invoices import at, buyer, issued_invoice, pdf_text, usage, utc

D = Decimal


@pytest.mark.django_db
def test_no_usage_means_no_invoice():
    org = buyer("Empty", country="EE")
    assert invoice_draft_build(organisation=org, month=date(2026, 1, 1)) is None
    with at(utc(2026, 2, 2)):
        assert invoices_issue_for_month(month=date(2026, 1, 1)) == []
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_draft_has_a_line_per_resource_and_links_the_usage():
    org = buyer("Acme", country="EE")
    usage(org, hours=10, price="0.0100", name="web")
    usage(org, hours=5, price="0.5000", name="gpu")
    draft = invoice_draft_build(organisation=org, month=date(2026, 1, 15))
    assert draft.status == InvoiceStatus.DRAFT and draft.number is None
    assert sorted(draft.lines.values_list("amount", flat=True)) == [D("0.10"), D("2.50")]
    assert set(draft.lines.values_list("project_name", flat=True)) == {org.projects.get().name}
    assert UsageRecord.objects.filter(invoice=draft).count() == 15
    # Refreshing keeps one draft.
    assert invoice_draft_build(organisation=org, month=date(2026, 1, 1)).pk == draft.pk


@pytest.mark.django_db
def test_issue_numbers_freezes_taxes_renders_and_emails(django_capture_on_commit_callbacks):
    org = buyer("Tamm", country="EE", legal_name="Tamm OÜ")
    usage(org, hours=100, price="0.1234")  # 12.34 net
    with at(utc(2026, 2, 1, 3)), django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_issue(invoice=invoice_draft_build(organisation=org, month=date(2026, 1, 1)), actor=None)
    assert invoice.number == "VMC-2026-000001"
    assert (invoice.buyer_name, invoice.buyer_country, invoice.buyer_email) == ("Tamm OÜ", "EE", org.email)
    # 12.34 × 24 % = 2.9616 -> 2.96
    assert (invoice.vat_treatment, invoice.net_total, invoice.vat_amount, invoice.total) == (
        VatTreatment.DOMESTIC,
        D("12.34"),
        D("2.96"),
        D("15.30"),
    )
    assert invoice.status == InvoiceStatus.OPEN and invoice.due_at == utc(2026, 2, 15, 3)
    assert bytes(invoice.pdf).startswith(b"%PDF-")
    text = pdf_text(bytes(invoice.pdf))
    assert "VMC-2026-000001" in text and "VMCloud O" in text and "15.30 EUR" in text
    assert settings.BILLING_SELLER["iban"] in text  # how to pay by bank transfer while Stripe is off
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [org.email]
    assert mail.outbox[0].attachments[0][0] == "VMC-2026-000001.pdf"
    invoice.refresh_from_db()
    assert invoice.emailed_at is not None
    with pytest.raises(Conflict):
        invoice_issue(invoice=invoice, actor=None)
    with pytest.raises(Conflict):
        invoice_draft_build(organisation=org, month=date(2026, 1, 1))


@pytest.mark.django_db
def test_a_running_month_cannot_be_issued():
    org = buyer("Acme", country="EE")
    usage(org, hours=3, price="1.00", month=(2026, 1))
    draft = invoice_draft_build(organisation=org, month=date(2026, 1, 1))
    with at(utc(2026, 1, 20)), pytest.raises(Conflict):
        invoice_issue(invoice=draft, actor=None)


@pytest.mark.django_db
def test_invoice_covered_by_credits_is_paid_at_issue():
    org = buyer("Acme", country="US")
    with at(utc(2026, 1, 1)):
        credit_grant(organisation=org, kind=CreditKind.PROMOTIONAL, amount=D("100"), description="Promo", actor=None)
    invoice = issued_invoice(org, hours=10, price="1.00")
    assert (invoice.promotional_credit, invoice.net_total, invoice.amount_due) == (D("10.00"), D("0.00"), D("0.00"))
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_at is not None
    assert org.credit_grants.get().remaining == D("90.00")


@pytest.mark.django_db
def test_csv_has_every_line_and_the_totals():
    org = buyer("Acme", country="DE")
    invoice = issued_invoice(org, hours=10, price="1.00")  # 10.00 + 19 % = 11.90
    rows = list(csv.reader(io.StringIO(invoice_csv(invoice))))
    assert rows[0][:3] == ["invoice", "position", "resource_type"]
    assert rows[1][0] == invoice.number and rows[1][11] == "10.00"
    totals = {row[5]: row[11] for row in rows if row[2] == "total"}
    assert totals["total"] == "11.90" and totals["amount_due"] == "11.90"


@pytest.mark.django_db
def test_issue_task_is_idempotent():
    from apps.billing.tasks.invoicing import invoices_issue

    for name in ("A", "B"):
        usage(buyer(name, country="EE"), hours=2, price="1.00")
    with at(utc(2026, 2, 1, 2, 30)):
        assert invoices_issue() == 2
        assert invoices_issue() == 0
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["VMC-2026-000001", "VMC-2026-000002"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_gives_gapless_unique_numbers():
    """Eight threads issue eight drafts at once: numbers 1..8, no gap, no duplicate (row lock on the sequence)."""
    assert connection.vendor == "postgresql"
    drafts = []
    for i in range(8):
        org = buyer(f"Org{i}", country="EE")
        usage(org, hours=3, price="1.00")
        drafts.append(invoice_draft_build(organisation=org, month=date(2026, 1, 1)))
    barrier = threading.Barrier(len(drafts))
    errors: list[BaseException] = []

    def issue(draft: Invoice) -> None:
        try:
            barrier.wait()
            invoice_issue(invoice=draft, actor=None)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    with at(utc(2026, 2, 2)):
        threads = [threading.Thread(target=issue, args=(d,)) for d in drafts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"VMC-2026-{n:06d}" for n in range(1, 9)]
