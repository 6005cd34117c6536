"""Browser: a member orders a server through the wizard, sees the live price, and follows the order;
a member cancels an order that waits for approval."""

from __future__ import annotations

import re

import pytest

from apps.instances.services import access as instance_services
from apps.orders.choices import OrderState
from apps.orders.models import Order
from tests.orders.wizard import wizard_choose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_provisioning(monkeypatch):
    # Provisioning itself (Celery, Proxmox) is tested with apps.instances; here the task is not sent.
    monkeypatch.setattr(instance_services, "task_enqueue", lambda name, *args: None)


def test_member_orders_a_server_with_a_live_price(personas, shop, login_page):
    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=shop.gpu.code, datacentre=shop.dc.code)
    page.wait_for_selector("#summary-monthly:has-text('€80.00')")
    assert "Available" in page.locator(f"#offer-{shop.gpu.code} ~ .badge").inner_text()
    wizard_choose(page, offer=shop.gpu.code, datacentre=shop.dc.code, image=shop.image.slug)
    page.fill("#id_name", "gpu-1")
    page.click("#place-order")
    page.wait_for_url(re.compile(r".*/orders/[0-9a-f-]{36}/$"))
    order = Order.objects.get()
    assert page.locator("[data-state]").first.get_attribute("data-state") == OrderState.PROVISIONING
    assert "€0.39/h" in page.locator("body").inner_text()
    assert str(order.public_id) in page.locator("#order-curl").inner_text()
    assert order.instance is not None and order.instance.name == "gpu-1"


def test_wizard_shows_errors_beside_the_fields(personas, shop, login_page):
    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=shop.vps.code, datacentre=shop.dc.code, image=shop.image.slug)
    page.fill("#id_name", "Not_A_Hostname")
    page.click("#place-order")
    page.wait_for_selector(".field-error")
    assert "lower-case letters" in page.locator(".field.has-error").inner_text()
    assert Order.objects.count() == 0


def test_member_cancels_an_order_awaiting_approval(personas, shop, login_page, settings):
    settings.ORDERS_APPROVAL_GPU = True
    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=shop.gpu.code, datacentre=shop.dc.code, image=shop.image.slug)
    page.fill("#id_name", "gpu-2")
    page.click("#place-order")
    page.wait_for_selector("[data-state=awaiting_approval]")
    page.click("#cancel-order")
    page.wait_for_selector("[data-state=cancelled]")
    assert Order.objects.get().state == OrderState.CANCELLED
