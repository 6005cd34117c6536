"""Acceptance: February 2026 simulated hour by hour, invoiced, and compared with hand-computed totals to the cent.

Servers are created, started, stopped, resized and deleted at known times
through ``apps.instances.services.instance_transition`` (the lifecycle's own
price-period bookkeeping) under time travel; every hour of the month is metered
with ``meter_catch_up`` (the hourly beat's code); the daily invoicing task then
issues the February invoices on 2 March.

Prices (EUR, excl. VAT): VPS-S 0.0068/h capped at 5.00/month, VPS-L 0.0274/h
capped at 20.00, GPU-A 1.2000/h capped at 600.00, managed database DB-PG
0.0411/h capped at 30.00, snapshot storage 0.000137 per GB-hour (no cap).
February 2026 has 28 days = 672 hours. A line is hours × price rounded to the
cent once; VAT is computed once on the taxable total, rounded half up.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from apps.billing.choices import CreditKind, InvoiceStatus, VatTreatment
from apps.billing.models import Invoice, UsageRecord
from apps.billing.rules.vat import REVERSE_CHARGE_NOTE
from apps.billing.services import billing_account_for
from apps.billing.services.credits import credit_grant
from apps.billing.services.metering import meter_catch_up
from apps.billing.services.vat import vat_id_mark_validated
from apps.billing.tasks.invoicing import invoices_issue
from apps.instances.choices import InstanceStatus
from apps.instances.models import Snapshot
from tests.billing.fixtures_invoices import at, buyer, move, offers, pdf_text, resize, server, utc  # noqa: F401
from tests.factories import UserFactory
from tests.managed.factories import service_billed

pytestmark = pytest.mark.django_db(transaction=False)

D = Decimal


def _lines(invoice: Invoice) -> list[tuple[str, str]]:
    return [(line.description, str(line.amount)) for line in invoice.lines.order_by("position")]


def test_february_2026_invoices_match_the_hand_computed_totals(offers, django_capture_on_commit_callbacks):  # noqa: F811
    staff = UserFactory(email="staff@vmcloud.test", is_staff=True)

    # --- Estonian consumer (24 % Estonian VAT), with a server above its monthly cap ----------------------------
    ee = buyer("Tamm", country="EE")
    ee_web = server(ee, offers, "small", "ee-web")
    move(ee_web, InstanceStatus.RUNNING, utc(2026, 1, 31, 22, 10))  # January hours go on January's invoice
    ee_gpu = server(ee, offers, "gpu", "ee-gpu")
    move(ee_gpu, InstanceStatus.RUNNING, utc(2026, 2, 2, 9, 30))
    move(ee_gpu, InstanceStatus.STOPPED, utc(2026, 2, 15, 10, 0))  # stopped servers keep billing

    # --- French business with a validated VAT id (reverse charge): a downsize crossing caps, a snapshot -------
    fr = buyer("Dupont", country="FR", vat_id="FR12345678901", legal_name="Dupont Informatique SAS")
    vat_id_mark_validated(organisation=fr, actor=staff)
    account = billing_account_for(organisation=fr)
    account.address = "12 rue de la Paix\n75002 Paris"
    account.save()
    fr_app = server(fr, offers, "large", "fr-app")
    move(fr_app, InstanceStatus.RUNNING, utc(2026, 2, 1, 0, 0))
    resize(fr_app, offers["small"], utc(2026, 2, 24, 23, 50), utc(2026, 2, 25, 0, 0))
    with at(utc(2026, 2, 5, 6, 30)):
        snap = Snapshot.objects.create(instance=fr_app, name="pre-upgrade", proxmox_name="s1", size_gb=50)
    Snapshot.objects.filter(pk=snap.pk).update(status="deleted", deleted_at=utc(2026, 2, 12, 6, 0))

    # --- German consumer (19 % German VAT): deleted server, upsize to a GPU crossing caps, managed database ------
    de = buyer("Schmidt", country="DE")
    de_db = server(de, offers, "small", "de-db")
    move(de_db, InstanceStatus.RUNNING, utc(2026, 2, 14, 23, 59))
    move(de_db, InstanceStatus.STOPPED, utc(2026, 2, 16, 8, 0))
    move(de_db, InstanceStatus.DELETING, utc(2026, 2, 20, 23, 50))
    move(de_db, InstanceStatus.DELETED, utc(2026, 2, 21, 0, 0))
    de_ml = server(de, offers, "small", "de-ml")
    move(de_ml, InstanceStatus.RUNNING, utc(2026, 2, 1, 0, 0))
    resize(de_ml, offers["gpu"], utc(2026, 2, 5, 0, 10), utc(2026, 2, 5, 0, 30))
    service_billed(
        organisation=de,
        offer=offers["db"],
        name="de-postgres",
        price_hourly=D("0.041100"),
        price_monthly=D("30.00"),
        started_at=utc(2026, 2, 10, 9, 0),
    )

    # --- US customer (outside the scope of EU VAT), with promotional and prepaid credit -------------------------
    us = buyer("Smith", country="US")
    us_web = server(us, offers, "large", "us-web")
    move(us_web, InstanceStatus.RUNNING, utc(2026, 2, 8, 17, 45))
    with at(utc(2026, 1, 15)):
        credit_grant(
            organisation=us,
            kind=CreditKind.PROMOTIONAL,
            amount=D("50.00"),
            description="Expired welcome credit",
            expires_at=utc(2026, 2, 20),
            actor=staff,
        )
        credit_grant(
            organisation=us,
            kind=CreditKind.PROMOTIONAL,
            amount=D("10.00"),
            description="Conference voucher",
            expires_at=utc(2026, 12, 31),
            actor=staff,
        )
        credit_grant(organisation=us, kind=CreditKind.PREPAID, amount=D("2.00"), description="Top-up", actor=staff)

    # --- Every hour of the month is metered, then the daily task issues February's invoices on 2 March ----------
    results = meter_catch_up(now=utc(2026, 3, 1, 0, 5))
    assert results[0].hour == utc(2026, 1, 31, 22) and results[-1].hour == utc(2026, 2, 28, 23)
    assert len(results) == 2 + 672
    with at(utc(2026, 3, 2, 2, 30)), django_capture_on_commit_callbacks(execute=True):
        assert invoices_issue() == 4

    # ---------------------------------------------------------------------------------------------------------------
    # Estonian consumer.
    #   ee-web VPS-S, running since 31 Jan 22:10: all 672 February hours × 0.0068 = 4.5696 -> 4.57 (cap 5.00 not hit)
    #   ee-gpu GPU-A, running 2 Feb 09:30, stopped 15 Feb (still billed) to month end:
    #          2 Feb 09:00 -> 1 Mar 00:00 = 15 + 26 × 24 = 639 h × 1.20 = 766.80, cap 600.00 -> cap line -166.80
    #   net 4.57 + 766.80 - 166.80 = 604.57; VAT 24 % = 145.0968 -> 145.10; total 749.67
    inv = Invoice.objects.get(organisation=ee)
    assert sorted(_lines(inv)) == sorted(
        [
            ("Server ee-gpu (GPU-A)", "766.80"),
            ("Monthly cap: ee-gpu never costs more than 600.00 € a month", "-166.80"),
            ("Server ee-web (VPS-S)", "4.57"),
        ]
    )
    assert (inv.vat_treatment, inv.vat_rate) == (VatTreatment.DOMESTIC, D("24.00"))
    assert (inv.subtotal, inv.net_total, inv.vat_amount, inv.total, inv.amount_due) == (
        D("604.57"),
        D("604.57"),
        D("145.10"),
        D("749.67"),
        D("749.67"),
    )
    assert inv.period_start.isoformat() == "2026-02-01" and inv.period_end.isoformat() == "2026-02-28"
    assert inv.status == InvoiceStatus.OPEN
    assert inv.issued_at == utc(2026, 3, 2, 2, 30) and inv.due_at == utc(2026, 3, 16, 2, 30)  # 14 days' terms

    # ---------------------------------------------------------------------------------------------------------------
    # French business, reverse charge.
    #   fr-app VPS-L 1 Feb 00:00 -> 25 Feb 00:00 = 24 × 24 = 576 h × 0.0274 = 15.7824 -> 15.78
    #          then VPS-S 25 Feb 00:00 -> 1 Mar = 4 × 24 = 96 h × 0.0068 = 0.6528 -> 0.65
    #          16.43 is above the small plan's cap (5.00) but the highest cap of the month (20.00) applies: no cap line
    #   snapshot 50 GB, 5 Feb 06:30 -> deleted 12 Feb 06:00: 5 Feb 06:00 .. 12 Feb 05:00 = 168 h
    #          168 × 50 GB × 0.000137 = 1.1508 -> 1.15
    #   net 15.78 + 0.65 + 1.15 = 17.58; VAT 0 (reverse charge); total 17.58
    inv = Invoice.objects.get(organisation=fr)
    assert sorted(_lines(inv)) == sorted(
        [
            ("Server fr-app (VPS-L)", "15.78"),
            ("Server fr-app (VPS-S)", "0.65"),
            ("Snapshot storage fr-app / pre-upgrade (STORAGE-SSD)", "1.15"),
        ]
    )
    assert (inv.vat_treatment, inv.vat_rate, inv.vat_note) == (VatTreatment.REVERSE_CHARGE, D("0"), REVERSE_CHARGE_NOTE)
    assert (inv.net_total, inv.vat_amount, inv.total, inv.amount_due) == (D("17.58"), D("0"), D("17.58"), D("17.58"))
    assert (inv.buyer_name, inv.buyer_vat_id, inv.buyer_address) == (
        "Dupont Informatique SAS",
        "FR12345678901",
        "12 rue de la Paix\n75002 Paris",
    )
    text = pdf_text(bytes(inv.pdf))
    assert inv.pdf[:5] == b"%PDF-"
    assert "Reverse charge: VAT to be accounted for by the recipient" in text
    assert "FR12345678901" in text and "EE102345678" in text
    assert inv.number in text and "17.58 EUR" in text

    # ---------------------------------------------------------------------------------------------------------------
    # German consumer, German VAT (OSS).
    #   de-db VPS-S 14 Feb 23:59 -> deleted 21 Feb 00:00: 14 Feb 23:00 .. 20 Feb 23:00 = 1 + 6 × 24 = 145 h
    #          × 0.0068 = 0.986 -> 0.99 (stopped from 16 Feb: still billed)
    #   de-ml VPS-S 1 Feb 00:00 -> resized 5 Feb 00:30: 1 Feb 00:00 .. 4 Feb 23:00 = 96 h × 0.0068 = 0.6528 -> 0.65
    #          GPU-A from the 5 Feb 00:00 hour (billed once, at the new price) = 24 × 24 = 576 h × 1.20 = 691.20
    #          691.85 is above the highest cap (600.00): cap line 600.00 - 691.85 = -91.85
    #   de-postgres DB-PG delivered 10 Feb 09:00: 15 + 18 × 24 = 447 h × 0.0411 = 18.3717 -> 18.37 (cap 30.00)
    #   net 0.99 + 0.65 + 691.20 - 91.85 + 18.37 = 619.36; VAT 19 % = 117.6784 -> 117.68; total 737.04
    inv = Invoice.objects.get(organisation=de)
    assert sorted(_lines(inv)) == sorted(
        [
            ("Server de-db (VPS-S)", "0.99"),
            ("Server de-ml (VPS-S)", "0.65"),
            ("Server de-ml (GPU-A)", "691.20"),
            ("Monthly cap: de-ml never costs more than 600.00 € a month", "-91.85"),
            ("Managed service de-postgres (DB-PG)", "18.37"),
        ]
    )
    assert (inv.vat_treatment, inv.vat_rate) == (VatTreatment.EU_CONSUMER, D("19.00"))
    assert (inv.net_total, inv.vat_amount, inv.total, inv.amount_due) == (
        D("619.36"),
        D("117.68"),
        D("737.04"),
        D("737.04"),
    )

    # ---------------------------------------------------------------------------------------------------------------
    # US customer, outside the scope of EU VAT, with credits.
    #   us-web VPS-L 8 Feb 17:45 -> month end: 8 Feb 17:00 .. = 7 + 20 × 24 = 487 h × 0.0274 = 13.3438 -> 13.34
    #   promotional credit (before VAT): the 50.00 one expired on 20 Feb, never applied; the 10.00 one: -10.00
    #   net 3.34; VAT 0; total 3.34; prepaid balance (after VAT) -2.00; amount due 1.34
    inv = Invoice.objects.get(organisation=us)
    assert _lines(inv) == [("Server us-web (VPS-L)", "13.34")]
    assert (inv.vat_treatment, inv.vat_rate) == (VatTreatment.OUT_OF_SCOPE, D("0"))
    assert (inv.subtotal, inv.promotional_credit, inv.net_total, inv.vat_amount, inv.total) == (
        D("13.34"),
        D("10.00"),
        D("3.34"),
        D("0"),
        D("3.34"),
    )
    assert (inv.prepaid_applied, inv.amount_due) == (D("2.00"), D("1.34"))
    assert "outside the European Union" in pdf_text(bytes(inv.pdf))
    expired = us.credit_grants.get(description="Expired welcome credit")
    assert expired.remaining == D("50.00")

    # Numbers: gapless, one per invoice, in issuing order; every buyer got their PDF by e-mail.
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"VMC-2026-{n:06d}" for n in range(1, 5)]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in (ee, fr, de, us))
    assert all(m.attachments[0][2] == "application/pdf" for m in mail.outbox)
    # February's usage is linked to its invoices; January's two hours of ee-web wait for January's invoice
    # (and the task metered March's first hours, which wait for March's).
    unbilled = UsageRecord.objects.filter(invoice__isnull=True, hour__lt=utc(2026, 3, 1))
    assert sorted(unbilled.values_list("hour", flat=True)) == [utc(2026, 1, 31, 22), utc(2026, 1, 31, 23)]
    # Running the task again issues nothing more.
    with at(utc(2026, 3, 3, 2, 30)):
        assert invoices_issue() == 0
