"""Credit notes: own gapless numbers, VAT at the invoice's rate, limits, settlement kinds, voiding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.billing.choices import CreditKind, CreditNoteKind, InvoiceStatus
from apps.billing.models import CreditGrant, Invoice
from apps.billing.services.invoicing import credit_note_issue
from apps.core.errors import Conflict, ValidationFailed
from tests.billing.fixtures_invoices import at, buyer, issued_invoice, pdf_text, utc
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def staff():
    return UserFactory(email="staff@vmcloud.test", is_staff=True)


def test_partial_reduction_then_full_credit_voids_an_unpaid_invoice(staff):
    invoice = issued_invoice(buyer("Tamm", country="EE"), hours=100, price="1.00")  # 100 + 24 = 124.00 due
    with at(utc(2026, 2, 10)):
        first = credit_note_issue(
            invoice=invoice, net_amount=D("10.005"), reason="Outage 3 Jan", kind=CreditNoteKind.REDUCTION, actor=staff
        )
    # 10.01 (rounded) + 24 % = 2.4024 -> 2.40; 12.41
    assert (first.number, first.net_amount, first.vat_amount, first.total) == (
        "VMC-CN-2026-000001",
        D("10.01"),
        D("2.40"),
        D("12.41"),
    )
    invoice.refresh_from_db()
    assert (invoice.amount_due, invoice.amount_credited, invoice.status) == (D("111.59"), D("12.41"), "open")
    assert "Outage 3 Jan" in pdf_text(bytes(first.pdf)) and invoice.number in pdf_text(bytes(first.pdf))
    with pytest.raises(ValidationFailed):
        credit_note_issue(invoice=invoice, net_amount=D("90.00"), reason="x", kind="reduction", actor=staff)
    with at(utc(2026, 2, 11)):
        last = credit_note_issue(
            invoice=invoice, net_amount=D("89.99"), reason="Goodwill", kind="reduction", actor=staff
        )
    # The last note takes exactly the VAT left: 24.00 - 2.40 = 21.60, so the notes add up to the invoice.
    assert (last.number, last.vat_amount, last.total) == ("VMC-CN-2026-000002", D("21.60"), D("111.59"))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.amount_credited) == (InvoiceStatus.VOID, D("0.00"), D("124.00"))
    with pytest.raises(Conflict):
        credit_note_issue(invoice=invoice, net_amount=D("1"), reason="x", kind="reduction", actor=staff)


def test_paid_invoice_credited_to_the_balance_becomes_prepaid_credit(staff):
    invoice = issued_invoice(buyer("Schmidt", country="DE"), hours=10, price="1.00")  # 10 + 1.90
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.PAID)
    invoice.refresh_from_db()
    with pytest.raises(ValidationFailed):
        credit_note_issue(invoice=invoice, net_amount=D("1"), reason="x", kind=CreditNoteKind.REDUCTION, actor=staff)
    note = credit_note_issue(invoice=invoice, net_amount=D("5"), reason="SLA", kind=CreditNoteKind.BALANCE, actor=staff)
    assert (note.vat_amount, note.total) == (D("0.95"), D("5.95"))
    grant = CreditGrant.objects.get(credit_note=note)
    assert (grant.kind, grant.amount, grant.expires_at) == (CreditKind.PREPAID, D("5.95"), None)


def test_refund_of_a_paid_invoice_is_recorded_without_stripe_when_payments_are_off(staff, settings):
    settings.BILLING_PAYMENTS_ENABLED = False
    invoice = issued_invoice(buyer("Smith", country="US"), hours=10, price="1.00")
    with pytest.raises(ValidationFailed):
        credit_note_issue(invoice=invoice, net_amount=D("1"), reason="x", kind=CreditNoteKind.REFUND, actor=staff)
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.PAID)
    note = credit_note_issue(invoice=invoice, net_amount=D("10"), reason="Refund", kind="refund", actor=staff)
    assert note.total == D("10.00") and note.stripe_refund_id == ""
    assert not CreditGrant.objects.filter(credit_note=note).exists()
