"""Browser: the billing role sees the payment methods page saying online payments are off; a member gets 403."""

from __future__ import annotations

import pytest

from tests.billing.fixtures_payments import billing_user, org, plain_member, stripe_off  # noqa: F401  # fixtures


@pytest.mark.django_db(transaction=True)
def test_billing_user_sees_payments_off_and_member_is_refused(
    login_page,
    live_server,
    org,  # noqa: F811
    billing_user,  # noqa: F811
    plain_member,  # noqa: F811
    stripe_off,  # noqa: F811
):
    page = login_page(billing_user)
    response = page.goto("/billing/payment-methods/")
    assert response is not None and response.status == 200
    notice = page.locator("#payments-off")
    assert notice.is_visible()
    assert "Online payments are off" in notice.inner_text()
    assert "bank transfer" in notice.inner_text()
    assert page.locator("#add-payment-method").count() == 0
    assert page.locator('nav.tabs a[aria-current="page"]').inner_text().strip() == "Payment methods"
    assert page.locator("#prepaid-balance").inner_text().strip() == "0.00 EUR"

    page.context.clear_cookies()
    page = login_page(plain_member)
    response = page.goto("/billing/payment-methods/")
    assert response is not None and response.status == 403
