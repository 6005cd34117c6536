"""Browser: a member orders web hosting with its domain, follows it provisioning, staff deliver it, the member
sees its endpoints, reveals the credentials once, and cancels it with its typed name."""

from __future__ import annotations

import re

import pytest

from apps.catalogue.services import seed_data as seed
from apps.managed import services as managed_services
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService
from apps.orders.choices import OrderState
from apps.orders.models import Order
from tests.orders.wizard import wizard_choose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "var/screenshots"


@pytest.fixture(autouse=True)
def web_stack(shop):
    family = shop.service.family
    family.features = next(f for f in seed.FAMILIES if f["slug"] == "web-hosting")["features"]
    family.save(update_fields=["features"])


def test_member_orders_web_hosting_follows_it_and_cancels_it(personas, shop, login_page, staff_user):
    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=shop.service.code, datacentre=shop.dc.code)
    # The family's fields, and nothing of a server's.
    page.wait_for_selector("#service-fields[data-family=web_hosting]")
    assert page.locator("#id_ssh_keys, #id_user_data, #id_image").count() == 0
    page.fill("#id_name", "shop")
    page.fill("#id_service_domain", "bücher.example")
    page.select_option("#id_service_runtime", "python:3.12")
    page.select_option("#id_service_app", "wordpress")
    # Typing in the family's fields redraws nothing: the value stays.
    page.wait_for_timeout(300)
    assert page.input_value("#id_service_domain") == "bücher.example"
    page.screenshot(path=f"{SHOTS}/managed-order-form.png", full_page=True)
    page.click("#place-order")
    page.wait_for_url(re.compile(r".*/orders/[0-9a-f-]{36}/$"))
    order = Order.objects.get()
    service = ManagedService.objects.get()
    assert order.state == OrderState.PROVISIONING and order.service == service
    assert service.config["domain"] == "xn--bcher-kva.example"

    # The order links its service; the service's page says it is being set up.
    page.click("#order-service")
    page.wait_for_url(f"**/services/{service.public_id}/")
    assert page.locator("#service-state").get_attribute("data-state") == "provisioning"
    assert page.locator("#service-provisioning").is_visible()
    assert "bücher.example" in page.locator("#service-config").inner_text()
    # The Services list knows it.
    page.goto("/services/")
    assert page.locator(f'tr[data-service="{service.public_id}"]').get_attribute("data-state") == "provisioning"

    # Staff deliver it (the back office's fulfilment form calls this service).
    managed_services.service_deliver(
        service=service,
        actor=staff_user,
        endpoints={"urls": ["https://xn--bcher-kva.example"], "hostnames": ["sftp.web1.vmcloud.eu"]},
        credentials={"sftp_user": "shop", "sftp_password": "Tr0ub4dor&3"},
        notes="Point your DNS to web1.vmcloud.eu.",
    )
    page.goto(f"/services/{service.public_id}/")
    assert page.locator("#service-state").get_attribute("data-state") == "active"
    assert page.locator('[data-endpoint="sftp.web1.vmcloud.eu"]').is_visible()
    assert "Point your DNS" in page.locator("#delivery-notes").inner_text()
    assert "Tr0ub4dor" not in page.content()

    # Reveal the credentials: shown once.
    page.click("#reveal-credentials")
    page.wait_for_selector("#revealed-credentials")
    assert page.locator('[data-credential="sftp_password"]').inner_text() == "Tr0ub4dor&3"
    page.screenshot(path=f"{SHOTS}/managed-service-revealed.png", full_page=True)
    page.goto(f"/services/{service.public_id}/")
    assert "Tr0ub4dor" not in page.content()
    assert "shown on" in page.locator("#service-credentials").inner_text()

    # Cancel with the typed name: a wrong name changes nothing, the right one ends it.
    page.fill("#id_confirm", "shops")
    page.click("#cancel-service-submit")
    page.wait_for_selector(".alert, .message, [role=alert]")
    assert ManagedService.objects.get().state == ServiceState.ACTIVE
    page.fill("#id_confirm", "shop")
    page.click("#cancel-service-submit")
    page.wait_for_selector("#service-state[data-state=cancelled]")
    assert page.locator("#service-ended").is_visible()
    assert page.locator("#service-transitions [data-to=cancelled]").count() == 1
    page.screenshot(path=f"{SHOTS}/managed-service-cancelled.png", full_page=True)
    service.refresh_from_db()
    assert service.state == ServiceState.CANCELLED and service.ended_at is not None
