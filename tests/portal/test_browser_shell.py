"""The portal shell in Chromium: theme toggle, phone menu, keyboard access, account menu, copy buttons."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _theme(page) -> str:
    return page.evaluate("document.documentElement.dataset.theme")


def _body_background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_dark_mode_toggle_switches_theme_and_sticks_across_reloads_and_pages(page):
    page.goto("/")
    assert _theme(page) == "light"
    light_background = _body_background(page)
    toggle = page.locator("[data-theme-toggle]")
    assert toggle.get_attribute("aria-pressed") == "false"

    toggle.click()

    assert _theme(page) == "dark"
    assert toggle.get_attribute("aria-pressed") == "true"
    assert _body_background(page) != light_background
    page.reload()
    assert _theme(page) == "dark"
    assert page.locator("[data-theme-toggle]").get_attribute("aria-pressed") == "true"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Docs").click()
    page.wait_for_url("**/docs/")
    assert _theme(page) == "dark"

    page.locator("[data-theme-toggle]").click()
    page.reload()
    assert _theme(page) == "light"
    assert _body_background(page) == light_background


def test_theme_follows_the_system_setting_until_the_user_chooses(browser, live_server):
    context = browser.new_context(base_url=live_server.url, color_scheme="dark")
    try:
        page = context.new_page()
        page.goto("/")
        assert _theme(page) == "dark"
        assert page.evaluate("document.documentElement.dataset.themeSource") == "system"
    finally:
        context.close()


def test_phone_layout_collapses_the_navigation_behind_a_menu_button(page):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/")
    docs_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Docs")
    menu_button = page.locator(".menu-toggle")
    assert menu_button.is_visible()
    assert not docs_link.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    menu_button.click()

    assert menu_button.get_attribute("aria-expanded") == "true"
    assert docs_link.is_visible()
    assert page.get_by_role("link", name="Sign up").first.is_visible()
    page.keyboard.press("Escape")
    assert not docs_link.is_visible()
    assert menu_button.get_attribute("aria-expanded") == "false"
    menu_button.click()
    docs_link.click()
    page.wait_for_url("**/docs/")


def test_phone_console_has_no_horizontal_overflow(login_page, user):
    page = login_page(user)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/dashboard/")
    assert page.locator(".empty-state").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_skip_link_is_first_and_moves_focus_to_main(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_account_menu_opens_with_the_keyboard_and_closes_with_escape(login_page, user):
    page = login_page(user)
    page.goto("/dashboard/")
    button = page.locator(".account-button")
    panel = page.locator("#account-menu")
    assert not panel.is_visible()

    button.focus()
    page.keyboard.press("Enter")

    assert panel.is_visible()
    assert button.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.closest('#account-menu') !== null")
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('account-button')")


def test_log_out_from_the_account_menu(login_page, user):
    page = login_page(user)
    page.goto("/dashboard/")
    page.locator(".account-button").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(lambda url: "/dashboard/" not in url)
    assert page.get_by_role("link", name="Log in").first.is_visible()


def test_copy_button_copies_the_code_block(page, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto("/docs/api-overview/")
    button = page.locator(".prose .copy-btn").first
    button.click()
    # The clipboard write is asynchronous: wait for the label to change (a loaded machine is slow).
    expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("curl -s https://vmcloud.example/api/v1/tokens/")
