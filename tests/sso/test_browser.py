"""The domain verification page clicked through in Chromium: the TXT record to create, then "Verify now"."""

from __future__ import annotations

import pytest

from apps.sso.models import SamlDomain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_adds_a_domain_creates_the_txt_record_and_verifies_it(sso, dns_zone, login_page):
    page = login_page(sso.owner)
    page.goto(f"/org/sso/{sso.org.slug}/")
    page.fill("#id_domain", "acme-labs.test")
    page.get_by_role("button", name="Add domain").click()
    row = SamlDomain.objects.get(domain="acme-labs.test")
    line = page.locator(f"#domain-{row.pk}")
    assert "Awaiting DNS record" in line.inner_text()
    assert page.locator(f"#txt-name-{row.pk}").inner_text() == "_vmcloud-sso.acme-labs.test"
    assert page.locator(f"#txt-value-{row.pk}").inner_text() == row.txt_value

    line.get_by_role("button", name="Verify now").click()
    assert "No TXT record" in page.locator("body").inner_text()

    dns_zone.records[row.txt_name] = [row.txt_value]
    page.locator(f"#domain-{row.pk}").get_by_role("button", name="Verify now").click()
    assert "Verified" in page.locator(f"#domain-{row.pk}").inner_text()
    row.refresh_from_db()
    assert row.verified_at is not None
