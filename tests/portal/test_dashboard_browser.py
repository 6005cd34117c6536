"""The dashboard in Chromium: a managed service's set-up status updates live, without reloading the page."""

from __future__ import annotations

import pytest

from apps.managed import services as managed_services
from apps.orders import services as order_services
from tests.orders.conftest import place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_follows_a_managed_service_until_it_is_delivered(login_page, staff_user, personas, shop):
    order = place(personas, shop, offer=shop.service, name="shop-hosting")
    page = login_page(personas.member)
    page.goto("/dashboard/")
    row = page.locator(f'tr[data-order="{order.public_id}"]')
    assert row.locator("[data-fulfilment]").get_attribute("data-fulfilment") == "queued"
    assert page.locator("#service-table").get_attribute("data-polling") == "true"
    page.evaluate("window.__no_reload = true")

    order_services.order_fulfilment_start(order=order, actor=staff_user, notes="")
    page.wait_for_selector(f'tr[data-order="{order.public_id}"] [data-fulfilment="in_progress"]', timeout=15_000)
    # Issue 14: staff deliver the service (no more free-text fulfilment of the order); the order follows it.
    managed_services.service_deliver(service=order.service, actor=staff_user, endpoints={}, notes="Your site is live.")
    order_services.orders_sync_provisioning()
    page.wait_for_selector(f'tr[data-order="{order.public_id}"] [data-fulfilment="fulfilled"]', timeout=15_000)

    assert page.locator("#service-table").get_attribute("data-polling") == "false"
    assert page.evaluate("window.__no_reload") is True  # the same page all along: htmx swapped the list
