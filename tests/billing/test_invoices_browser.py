"""In Chromium: a billing-role user opens an invoice and downloads its PDF; a member is refused (403)."""

from __future__ import annotations

import pytest

from apps.teams.choices import Role
from tests.billing.fixtures_invoices import buyer, issued_invoice
from tests.factories import member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_billing_user_downloads_the_invoice_pdf_and_a_member_gets_403(login_page, tmp_path):
    org = buyer("Acme", country="DE")
    invoice = issued_invoice(org, hours=10, price="1.00")  # 10.00 + 19 % VAT = 11.90
    billing = member(org, Role.BILLING, email="billing@acme.test")

    page = login_page(billing)
    page.goto("/billing/invoices/")
    page.click(f"text={invoice.number}")
    page.wait_for_selector("#invoice-lines")
    assert "11.90" in page.locator("#invoice-lines").inner_text()
    with page.expect_download() as info:
        page.click("#invoice-pdf")
    download = info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    target = tmp_path / "invoice.pdf"
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF-")

    page.context.clear_cookies()
    page = login_page(member(org, Role.MEMBER, email="member@acme.test"))
    response = page.goto("/billing/invoices/")
    assert response is not None and response.status == 403
    response = page.goto(f"/billing/invoices/{invoice.public_id}/")
    assert response is not None and response.status == 403
