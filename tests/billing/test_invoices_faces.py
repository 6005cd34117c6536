"""Invoices on every face: API (list, filter, detail, PDF, CSV, credit notes, credits, usage), portal pages, admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.billing.choices import CreditKind, CreditNoteKind
from apps.billing.services.credits import credit_grant
from apps.billing.services.invoicing import credit_note_issue
from apps.teams.choices import Role
from apps.teams.portal import SESSION_KEY
from tests.billing.fixtures_invoices import buyer, issued_invoice, usage
from tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    org = buyer("Acme", country="EE")
    other = buyer("Globex", country="EE")
    invoice = issued_invoice(org, hours=10, price="1.00")
    foreign = issued_invoice(other, hours=5, price="1.00")
    note = credit_note_issue(
        invoice=invoice, net_amount=Decimal("1"), reason="Sorry", kind=CreditNoteKind.REDUCTION, actor=None
    )
    credit_grant(organisation=org, kind=CreditKind.PROMOTIONAL, amount=Decimal("5"), description="Promo", actor=None)
    return {
        "org": org,
        "invoice": invoice,
        "foreign": foreign,
        "note": note,
        "billing": member(org, Role.BILLING, email="billing@acme.test"),
        "member": member(org, Role.MEMBER, email="member@acme.test"),
    }


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_billing_role_reads_invoices_through_the_api(setup):
    api = _api(setup["billing"])
    body = api.get("/api/v1/billing/invoices/").json()
    assert [i["number"] for i in body["results"]] == [setup["invoice"].number]
    assert api.get("/api/v1/billing/invoices/?status=paid").json()["results"] == []
    assert api.get("/api/v1/billing/invoices/?status=bogus").status_code == 400
    detail = api.get(f"/api/v1/billing/invoices/{setup['invoice'].public_id}/").json()
    assert detail["total"] == "12.40" and detail["lines"][0]["amount"] == "10.00"
    pdf = api.get(f"/api/v1/billing/invoices/{setup['invoice'].public_id}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    csv = api.get(f"/api/v1/billing/invoices/{setup['invoice'].public_id}/csv")
    assert csv.status_code == 200 and setup["invoice"].number in csv.content.decode()
    notes = api.get("/api/v1/billing/credit-notes/").json()["results"]
    assert [n["number"] for n in notes] == [setup["note"].number]
    assert api.get(f"/api/v1/billing/credit-notes/{setup['note'].public_id}/pdf").content.startswith(b"%PDF-")
    credits = api.get("/api/v1/billing/credits/").json()["results"]
    assert [(c["kind"], c["remaining"], c["expired"]) for c in credits] == [("promotional", "5.00", False)]
    usage_body = api.get("/api/v1/billing/usage/?month=2026-01").json()
    assert usage_body["total"] == "10.00" and len(usage_body["lines"]) == 1
    assert api.get("/api/v1/billing/usage/?month=2026-13").status_code == 400


def test_member_gets_403_and_another_organisations_invoice_is_404(setup):
    api = _api(setup["member"])
    for url in (
        "/api/v1/billing/invoices/",
        f"/api/v1/billing/invoices/{setup['invoice'].public_id}/",
        f"/api/v1/billing/invoices/{setup['invoice'].public_id}/pdf",
        "/api/v1/billing/credits/",
        "/api/v1/billing/usage/?month=2026-01",
    ):
        assert api.get(url).status_code == 403, url
    billing = _api(setup["billing"])
    assert billing.get(f"/api/v1/billing/invoices/{setup['foreign'].public_id}/").status_code == 404
    assert billing.get(f"/api/v1/billing/invoices/{setup['foreign'].public_id}/pdf").status_code == 404
    assert billing.get(f"/api/v1/billing/invoices/?organisation={setup['foreign'].organisation_id}").status_code == 404
    assert APIClient().get("/api/v1/billing/invoices/").status_code == 401


def _portal(user, org) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = org.pk
    session.save()
    return client


def test_portal_pages_for_the_billing_role_and_403_for_a_member(setup):
    invoice = setup["invoice"]
    client = _portal(setup["billing"], setup["org"])
    page = client.get("/billing/invoices/")
    assert page.status_code == 200 and invoice.number in page.content.decode()
    detail = client.get(f"/billing/invoices/{invoice.public_id}/").content.decode()
    assert "Download PDF" in detail and "Sorry" in detail
    assert 'id="invoice-bank"' in detail and invoice.number in detail  # open: bank details with the reference
    assert client.get(f"/billing/invoices/{invoice.public_id}/pdf").content.startswith(b"%PDF-")
    assert client.get(f"/billing/invoices/{invoice.public_id}/csv").status_code == 200
    assert client.get(f"/billing/invoices/{setup['foreign'].public_id}/").status_code == 404
    credits = client.get("/billing/credits/").content.decode()
    assert "Promo" in credits
    denied = _portal(setup["member"], setup["org"])
    for url in ("/billing/invoices/", f"/billing/invoices/{invoice.public_id}/pdf", "/billing/credits/"):
        assert denied.get(url).status_code == 403, url


def test_reverse_charge_wording_on_the_invoice_page():
    from apps.billing.rules.vat import REVERSE_CHARGE_NOTE
    from apps.billing.services.vat import vat_id_mark_validated

    org = buyer("Dupont", country="FR", vat_id="FR12345678901")
    vat_id_mark_validated(organisation=org, actor=None)
    invoice = issued_invoice(org, hours=2, price="1.00")
    client = _portal(org.memberships.get().user, org)
    assert REVERSE_CHARGE_NOTE in client.get(f"/billing/invoices/{invoice.public_id}/").content.decode()


def test_admin_pages_and_actions(setup):
    staff = UserFactory(email="root@vmcloud.test", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    for url in (
        "/admin/billing/invoice/",
        f"/admin/billing/invoice/{setup['invoice'].pk}/change/",
        "/admin/billing/invoice/add/",
        "/admin/billing/creditnote/",
        "/admin/billing/creditgrant/add/",
        "/admin/billing/vatrate/",
        "/admin/billing/usagerecord/",
        "/admin/billing/meteringrun/",
    ):
        assert client.get(url).status_code == 200, url
    # Build a draft from the add form, then issue it with the action.
    usage(setup["org"], hours=3, price="1.00", month=(2026, 2))
    response = client.post(
        "/admin/billing/invoice/add/", {"organisation": setup["org"].pk, "period_start": "2026-02-10"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = setup["org"].invoices.get(period_start="2026-02-01")
    assert draft.status == "draft" and draft.subtotal == Decimal("3.00")
    # A credit note from the invoice action's form.
    response = client.post(
        "/admin/billing/invoice/",
        {
            "action": "issue_credit_note",
            "_selected_action": [setup["invoice"].pk],
            "apply": "1",
            "kind": "reduction",
            "net_amount": "2.00",
            "reason": "Goodwill",
        },
    )
    assert response.status_code == 302
    assert setup["invoice"].credit_notes.count() == 2
    # Staff grant a credit.
    response = client.post(
        "/admin/billing/creditgrant/add/",
        {
            "organisation": setup["org"].pk,
            "kind": "prepaid",
            "amount": "20",
            "description": "Gift",
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert setup["org"].credit_grants.filter(kind="prepaid", amount=Decimal("20.00")).exists()
