"""The console in Chromium (issue 16): long unbroken text wraps at phone width, the global search opens with
"/" or Ctrl+K and finds as you type, and the first-run checklist leads to each step and ticks itself."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.instances import services as instance_services
from apps.instances.models import Instance
from tests.accessibility import axe_report, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"
LONG = "k" * 100  # an SSH key name as long as the field allows, without a space


def server(personas, shop, name: str, **extra) -> Instance:
    values = {
        "organisation": personas.org,
        "project": personas.project,
        "name": name,
        "offer": shop.vps,
        "datacentre": shop.dc,
        "image": shop.image,
        "status": "running",
        "ipv4": "203.0.113.10",
        "price_hourly": Decimal("0.0137"),
        "price_monthly": Decimal("9.99"),
    }
    values.update(extra)
    return Instance.objects.create(**values)


# The innermost elements sticking out of the viewport, to name the culprit when the page scrolls sideways.
WIDE_ELEMENTS = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const clipped = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true; } return false; };
  return [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > edge && !clipped(el))
    .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right > edge && !clipped(c)))
    .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + [...el.classList].join('.')
                      + ' ' + Math.round(el.getBoundingClientRect().right));
}"""


def horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_long_unbroken_text_wraps_at_phone_width(login_page, personas, shop):
    instance_services.ssh_key_create(organisation=personas.org, name=LONG, public_key=ED25519, actor=personas.owner)
    srv = server(personas, shop, "x" * 63, labels={"note": "https://example.com/" + "a" * 40})
    page = login_page(personas.owner)
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/ssh-keys/", "/dashboard/", f"/servers/{srv.public_id}/", f"/search/?q={LONG}", "/servers/"):
        page.goto(path)
        wide = page.evaluate(WIDE_ELEMENTS)
        if horizontal_overflow(page) > 0:
            page.screenshot(path="/tmp/portal-overflow.png", full_page=True)
        assert horizontal_overflow(page) <= 0, f"{path} scrolls sideways by {horizontal_overflow(page)} px: {wide}"
    page.goto("/ssh-keys/")
    page.screenshot(path="/tmp/portal-ssh-keys-phone.png", full_page=True)


def test_slash_opens_the_search_and_results_come_as_you_type(login_page, personas, shop):
    srv = server(personas, shop, "db-primary")
    page = login_page(personas.member)
    page.goto("/dashboard/")
    page.locator("body").press("/")
    dialog = page.locator("#search-dialog")
    dialog.wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "search-dialog-q"
    page.keyboard.type("prim")
    hit = dialog.locator(f'a.search-hit[href="/servers/{srv.public_id}/"]')
    hit.wait_for()
    page.screenshot(path="/tmp/portal-search.png")
    violations = axe_violations(page)  # the open dialog: labelled, contrasted, in both themes' tokens
    assert not violations, axe_report(violations, label="search dialog")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    page.keyboard.press("Control+k")
    dialog.wait_for(state="visible")
    page.keyboard.press("Enter")  # the form itself: the plain /search/ page
    page.wait_for_url("**/search/?q=prim")
    assert page.locator(f'#search-results a[href="/servers/{srv.public_id}/"]').count() == 1


def test_the_checklist_leads_to_each_step_and_ticks_itself(login_page, personas):
    page = login_page(personas.owner)
    page.goto("/dashboard/")
    step = page.locator('[data-step="ssh_key"]')
    assert step.get_attribute("data-done") == "false"
    page.screenshot(path="/tmp/portal-dashboard-checklist.png", full_page=True)
    step.locator("a").click()
    page.wait_for_url("**/ssh-keys/")
    instance_services.ssh_key_create(organisation=personas.org, name="laptop", public_key=ED25519, actor=personas.owner)
    page.goto("/dashboard/")
    assert page.locator('[data-step="ssh_key"]').get_attribute("data-done") == "true"
    assert page.locator("#checklist-progress").inner_text().startswith("2 of 5")
