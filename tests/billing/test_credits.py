"""Credits: grants, expiry (never applied once expired), order of use, prepaid after VAT and promotional before."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.billing.choices import CreditKind
from apps.billing.models import CreditApplication
from apps.billing.selectors.credits import credit_available
from apps.billing.services.credits import credit_grant
from apps.core.errors import ValidationFailed
from apps.core.models import AuditEvent
from tests.billing.fixtures_invoices import at, buyer, issued_invoice, utc

pytestmark = pytest.mark.django_db
D = Decimal


def test_grant_is_audited_and_validated():
    org = buyer("Acme", country="EE")
    grant = credit_grant(organisation=org, kind=CreditKind.PREPAID, amount=D("25"), description="Top-up", actor=None)
    assert (grant.amount, grant.remaining) == (D("25.00"), D("25.00"))
    assert AuditEvent.objects.filter(action="billing.credit.grant").count() == 1
    with pytest.raises(ValidationFailed) as exc:
        credit_grant(organisation=org, kind="gift", amount=D("-1"), description="", actor=None)
    assert set(exc.value.fields) == {"amount", "kind", "description"}


def test_expired_credit_is_never_applied():
    org = buyer("Acme", country="US")
    with at(utc(2026, 1, 1)):
        expired = credit_grant(
            organisation=org,
            kind=CreditKind.PROMOTIONAL,
            amount=D("100"),
            description="Ends in January",
            expires_at=utc(2026, 1, 31, 23, 59),
            actor=None,
        )
        prepaid_expired = credit_grant(
            organisation=org,
            kind=CreditKind.PREPAID,
            amount=D("100"),
            description="Old balance",
            expires_at=utc(2026, 2, 1),
            actor=None,
        )
    invoice = issued_invoice(org, hours=10, price="1.00")  # issued 2 Feb, after both expiries
    assert (invoice.promotional_credit, invoice.prepaid_applied, invoice.amount_due) == (D("0"), D("0"), D("10.00"))
    expired.refresh_from_db()
    prepaid_expired.refresh_from_db()
    assert expired.remaining == D("100.00") and prepaid_expired.remaining == D("100.00")
    assert not CreditApplication.objects.exists()
    with at(utc(2026, 2, 2)):
        assert credit_available(organisation=org, kind=CreditKind.PROMOTIONAL) == 0


def test_soonest_expiring_credit_is_used_first_promotional_before_vat_prepaid_after():
    org = buyer("Schmidt", country="DE")
    with at(utc(2026, 1, 1)):
        later = credit_grant(
            organisation=org, kind=CreditKind.PROMOTIONAL, amount=D("5"), description="Later", actor=None
        )
        sooner = credit_grant(
            organisation=org,
            kind=CreditKind.PROMOTIONAL,
            amount=D("3"),
            description="Sooner",
            expires_at=utc(2026, 6, 1),
            actor=None,
        )
        credit_grant(organisation=org, kind=CreditKind.PREPAID, amount=D("2"), description="Balance", actor=None)
    january = issued_invoice(org, hours=6, price="1.00")
    # 6.00 of promotional credit: the 3.00 expiring in June first, then 3.00 of the one that never expires.
    assert (january.promotional_credit, january.net_total, january.amount_due) == (D("6.00"), D("0.00"), D("0.00"))
    sooner.refresh_from_db()
    later.refresh_from_db()
    assert (sooner.remaining, later.remaining) == (D("0.00"), D("2.00"))
    february = issued_invoice(org, hours=10, price="1.00", month=(2026, 2))
    # 10.00 - promo 2.00 (before VAT) = 8.00 taxable; VAT 19 % = 1.52; total 9.52; prepaid 2.00 (after VAT) -> 7.52
    assert (february.promotional_credit, february.net_total, february.vat_amount, february.total) == (
        D("2.00"),
        D("8.00"),
        D("1.52"),
        D("9.52"),
    )
    assert (february.prepaid_applied, february.amount_due) == (D("2.00"), D("7.52"))
