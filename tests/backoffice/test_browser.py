"""Browser: the back office as each staff role — landing page, organisation page, fleet pages, search,
and a staff action audited. Light and dark mode are both rendered (the stock admin follows the
browser's colour scheme); ``BO_SCREENSHOTS=<dir>`` saves the docs' screenshots there.
"""

from __future__ import annotations

import os
import re

import pytest

from apps.backoffice.rules import roles
from apps.core.models import AuditEvent
from apps.infrastructure.models import Node

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUPPORT, OPERATIONS, FINANCE, SUPERUSER = roles.SUPPORT, roles.OPERATIONS, roles.FINANCE, roles.SUPERUSER
SHOTS = os.environ.get("BO_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    page.screenshot(path=f"/tmp/bo-{name}.png", full_page=True)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=False)


def _queue(page, key: str):
    return page.locator(f'[data-queue="{key}"]')


def _nav_groups(page) -> list[str]:
    return [c.strip() for c in page.locator(".bo-group caption").all_text_contents()]


@pytest.mark.parametrize(
    ("role", "shown", "hidden", "payments"),
    [
        (SUPPORT, ["approvals", "sso_domains", "overdue_invoices"], ["nodes_draining", "drift"], False),
        (OPERATIONS, ["approvals", "drift", "nodes_draining"], ["overdue_invoices", "dunning"], False),
        (FINANCE, ["overdue_invoices", "dunning"], ["nodes_draining", "sso_domains"], True),
        (SUPERUSER, ["approvals", "drift", "nodes_draining", "overdue_invoices", "dunning"], [], True),
    ],
)
def test_landing_page_as_each_role(desk, login_page, role, shown, hidden, payments):
    page = login_page(desk.staff[role])
    page.goto("/admin/")
    for key in shown:
        assert _queue(page, key).count() == 1, key
    for key in hidden:
        assert _queue(page, key).count() == 0, key
    assert ("Payments" in _nav_groups(page)) is payments
    if role == SUPERUSER:
        assert _queue(page, "overdue_invoices").locator(".bo-queue__count").inner_text() == "1"
        assert "oldest" in _queue(page, "overdue_invoices").inner_text()
        _shot(page, "landing-light")
        page.emulate_media(color_scheme="dark")
        page.reload()
        _shot(page, "landing-dark")
        page.emulate_media(color_scheme="light")
        _queue(page, "failed_orders").locator("a").click()
        page.wait_for_url(re.compile(r".*/admin/orders/order/\?.*state__exact=failed"))
        assert "failed-1" in page.locator("#result_list").inner_text()


@pytest.mark.parametrize(
    ("role", "visible", "absent"),
    [
        (SUPPORT, ["#bo-suspend", "#bo-note", "#bo-billing"], ["#bo-credit"]),
        (OPERATIONS, ["#bo-note"], ["#bo-suspend", "#bo-credit", "#bo-billing"]),
        (FINANCE, ["#bo-credit", "#bo-note", "#bo-billing"], ["#bo-suspend"]),
        (SUPERUSER, ["#bo-suspend", "#bo-credit", "#bo-note", "#bo-billing"], []),
    ],
)
def test_organisation_page_as_each_role(desk, login_page, role, visible, absent):
    page = login_page(desk.staff[role])
    page.goto(f"/admin/organisation/{desk.org.pk}/")
    assert page.locator("h1").inner_text() == "Organisation Acme"
    members = page.locator("#bo-members").inner_text()
    assert "owner@acme.test" in members and "viewer@acme.test" in members
    assert "web-2" in page.locator("#bo-servers").inner_text()
    assert "failed-1" in page.locator("#bo-orders").inner_text()
    for selector in visible:
        assert page.locator(selector).count() == 1, selector
    for selector in absent:
        assert page.locator(selector).count() == 0, selector
    if role == SUPERUSER:
        assert "Payment overdue" in page.locator("#bo-billing").inner_text()
        _shot(page, "organisation-light")
        page.emulate_media(color_scheme="dark")
        page.reload()
        _shot(page, "organisation-dark")


def test_a_staff_note_is_audited(desk, login_page):
    page = login_page(desk.staff[SUPPORT])
    page.goto(f"/admin/organisation/{desk.org.pk}/")
    page.fill("#id_body", "Customer asked to pause dunning until the 15th.")
    page.click("#bo-note button[type=submit]")
    page.wait_for_selector("text=Note saved.")
    assert "pause dunning" in page.locator("#bo-notes").inner_text()
    audit = page.locator("#bo-audit").inner_text()
    assert "backoffice.note.create" in audit and "support@vmcloud.test" in audit
    assert AuditEvent.objects.filter(action="backoffice.note.create", actor_kind="staff").count() == 1


def test_suspend_needs_a_reason_then_is_audited(desk, login_page):
    page = login_page(desk.staff[SUPPORT])
    page.goto(f"/admin/organisation/{desk.org.pk}/")
    page.fill("#bo-suspend textarea", "   ")
    page.click("#bo-suspend button[type=submit]")
    page.wait_for_selector("#bo-suspend .errorlist")
    page.fill("#bo-suspend textarea", "Chargeback under review")
    page.click("#bo-suspend button[type=submit]")
    page.wait_for_selector("text=Organisation suspended.")
    assert "Chargeback under review" in page.locator("#bo-summary").inner_text()
    assert "organisation.suspend" in page.locator("#bo-audit").inner_text()


def test_fleet_pages_as_operations_with_a_drain(desk, login_page):
    node = desk.shop.fleet["nodes"][0]
    page = login_page(desk.staff[OPERATIONS])
    page.goto("/admin/")
    page.click("text=Fleet: datacentres, clusters, nodes")
    page.wait_for_url(re.compile(r".*/admin/fleet/$"))
    assert "GPU" in page.locator("#dc-PAR-1").inner_text()
    page.click("#dc-PAR-1 h2 a")
    page.click(f"text={desk.shop.fleet['cluster'].name}")
    assert "Draining" in page.locator(f'[data-node="{desk.drained.name}"]').inner_text()
    page.click(f"text={node.name}")
    assert "web-0" in page.inner_text("#content-main")
    assert page.locator('[data-gpu="0000:21:00.0"]').count() == 1
    _shot(page, "node-light")
    page.emulate_media(color_scheme="dark")
    page.reload()
    _shot(page, "node-dark")
    page.emulate_media(color_scheme="light")
    page.fill("#id_reason", "Firmware update")
    page.click("text=Drain for maintenance")
    page.wait_for_selector("text=Node drained.")
    assert Node.objects.get(pk=node.pk).maintenance
    assert AuditEvent.objects.filter(action="infrastructure.node.drain", actor_user=desk.staff[OPERATIONS]).exists()


@pytest.mark.parametrize("role", [SUPPORT, FINANCE])
def test_fleet_pages_are_closed_to_support_and_finance(desk, login_page, role):
    page = login_page(desk.staff[role])
    page.goto("/admin/")
    assert page.locator("text=Fleet: datacentres, clusters, nodes").count() == 0
    response = page.goto(f"/admin/fleet/node/{desk.drained.pk}/")
    assert response.status == 403


@pytest.mark.parametrize(
    ("q", "expected"),
    [("203.0.113.11", "web-1"), ("1002", "web-2"), ("owner@acme.test", "Acme"), ("VMC-2026-000123", "VMC-2026-000123")],
)
def test_search_box_on_any_page(desk, login_page, q, expected):
    page = login_page(desk.staff[SUPERUSER])
    page.goto("/admin/teams/organisation/")
    page.fill("#bo-search-q", q)
    page.press("#bo-search-q", "Enter")
    page.wait_for_url(re.compile(r".*/admin/search/\?q="))
    results = page.locator("#bo-search-results")
    assert expected in results.inner_text()
    results.locator(f"a:has-text('{expected}')").first.click()
    page.wait_for_load_state()
    assert expected in page.inner_text("#content")


def test_pages_fit_a_phone_width(desk, login_page):
    page = login_page(desk.staff[SUPERUSER])
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/admin/", f"/admin/organisation/{desk.org.pk}/", f"/admin/fleet/node/{desk.drained.pk}/"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=f"/tmp/bo-phone{path.replace('/', '-')}.png", full_page=True)
        assert overflow <= 0, (path, overflow)
