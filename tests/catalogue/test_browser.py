"""The pricing page in Chromium: all 36 offers, and the side-by-side comparison."""

from __future__ import annotations

import pytest

from apps.catalogue.services import catalogue_load_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded():
    catalogue_load_seed(actor=None)


def test_pricing_page_lists_all_36_offers(page, seeded):
    page.goto("/pricing/")
    assert page.locator("h1").first.inner_text() == "Pricing"
    rows = page.locator("tr.offer-row")
    assert rows.count() == 36
    assert page.locator("#gpu tr.offer-row").count() == 8
    assert "€18,559.00" in page.locator('tr[data-offer-code="GPU-SUPERCOMPUTE"]').inner_text()


def test_compare_two_offers_side_by_side(page, seeded):
    page.goto("/pricing/")
    submit = page.locator("#compare-submit")
    assert submit.is_disabled()
    page.locator("#compare-VPS-ELITE").check()
    page.locator("#compare-GPU-PRO").check()
    assert page.locator("#compare-count").inner_text().startswith("2 of 4")
    submit.click()
    page.wait_for_url("**/pricing/compare/?offers=VPS-ELITE,GPU-PRO")
    headers = page.locator("table.compare-table thead th[data-offer-code]")
    assert headers.all_inner_texts() == ["VPS-ELITE", "GPU-PRO"]
    body = page.locator("table.compare-table tbody").inner_text()
    assert "1.28 TB NVMe" in body and "1× GeForce RTX 4090" in body


def test_compare_allows_at_most_four_offers(page, seeded):
    page.goto("/pricing/")
    for code in ("VPS-NANO", "VPS-STARTER", "LB-STARTER", "CDN-PRO"):
        page.locator(f"#compare-{code}").check()
    assert page.locator("#compare-CDN-GLOBAL").is_disabled()
    page.locator("#compare-CDN-PRO").uncheck()
    assert page.locator("#compare-CDN-GLOBAL").is_enabled()


def test_filter_by_gpu_model(page, seeded):
    page.goto("/pricing/")
    page.select_option("#id_gpu", "rtx-4090")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/pricing/?*gpu=rtx-4090*")
    assert [r.get_attribute("data-offer-code") for r in page.locator("tr.offer-row").all()] == [
        "GPU-PRO",
        "GPU-BUSINESS",
    ]
