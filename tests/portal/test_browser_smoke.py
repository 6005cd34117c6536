"""The portal renders in a real browser."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_renders_in_chromium(page):
    page.goto("/")
    assert page.locator("h1").first.is_visible()


def test_dashboard_needs_login_and_shows_for_a_logged_in_user(login_page, user):
    page = login_page(user)
    page.goto("/dashboard/")
    assert page.url.endswith("/dashboard/")
    assert page.locator("h1").first.inner_text() == "Dashboard"
