"""The docs in Chromium: the search box finds a page, and the phone menu works."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_docs_search_box_finds_a_page(page):
    page.goto("/docs/")
    box = page.get_by_role("searchbox", name="Search the docs")
    box.fill("pagination")
    box.press("Enter")
    page.wait_for_url("**/docs/search/?q=pagination")
    page.get_by_role("link", name="API overview", exact=True).last.click()
    page.wait_for_url("**/docs/api-overview/#pagination")
    assert page.locator("h1").inner_text() == "API overview"
    assert page.locator("#pagination").is_visible()


def test_typing_in_the_search_box_filters_the_navigation(page):
    page.goto("/docs/")
    nav = page.locator("#docs-nav")
    page.get_by_role("searchbox", name="Search the docs").fill("overview")
    assert nav.get_by_role("link", name="API overview").is_visible()
    assert not nav.get_by_role("link", name="Getting started").is_visible()


def test_docs_navigation_opens_from_a_button_on_a_phone(page):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/docs/getting-started/")
    toggle = page.get_by_role("button", name="Documentation menu")
    link = page.locator("#docs-nav").get_by_role("link", name="API overview")
    assert not link.is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    link.click()
    page.wait_for_url("**/docs/api-overview/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
