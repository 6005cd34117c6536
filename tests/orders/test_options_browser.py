"""Browser (issue #16): a member orders a VPS with a label, a private network and a firewall in the create
flow, on the Proxmox simulator (the live server runs Celery eagerly); the order page says the options are
applied and the server's pages show the label, the network and the firewall."""

from __future__ import annotations

import re

import pytest

from apps.firewalls import services as firewall_services
from apps.networks import services as network_services
from apps.networks.models import Attachment, NetworkZone
from apps.orders.choices import OptionsStatus, OrderState
from apps.orders.models import Order
from tests.firewalls.conftest import WEB
from tests.instances.conftest import _fast_driver, fleet  # noqa: F401 - fixtures
from tests.orders.wizard import wizard_choose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_orders_a_vps_with_a_label_a_network_and_a_firewall(login_page, fleet, personas):  # noqa: F811
    NetworkZone.objects.create(
        cluster=fleet.cluster, name="vmcnets", zone_type="vxlan", options={"peers": "10.255.0.1"}
    )
    network, _action = network_services.network_create(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        name="backend",
        datacentre=fleet.dc,
        ip_range="10.20.0.0/16",
        subnets=["10.20.1.0/24"],
    )
    network.refresh_from_db()
    assert network.status == "available"
    firewall, _actions = firewall_services.firewall_create(
        actor=personas.owner, organisation=personas.org, project=personas.project, name="web", rules_data=[WEB]
    )

    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=fleet.vps_offer.code, datacentre=fleet.dc.code, image=fleet.ubuntu24.slug)
    page.fill("#id_name", "web")
    page.fill("#id_labels", "env=prod")
    page.check(f'#order-networks input[value="{network.public_id}"]')
    page.check(f'#order-firewalls input[value="{firewall.public_id}"]')
    page.screenshot(path="/tmp/opts/create-options.png", full_page=True)
    page.click("#place-order")
    page.wait_for_url(re.compile(r".*/orders/[0-9a-f-]{36}/$"))

    order = Order.objects.get()
    assert order.state == OrderState.COMPLETED
    assert order.options_status == OptionsStatus.APPLIED, order.options_errors
    page.reload()
    assert "env=prod" in page.locator("#order-labels").inner_text()
    assert page.locator("#order-options").get_attribute("data-status") == "applied"
    page.screenshot(path="/tmp/opts/order-detail.png", full_page=True)

    server = order.instance
    assert server.labels == {"env": "prod"}
    assert Attachment.objects.filter(network=network, instance=server, status="attached").exists()
    page.click("#order-server")
    page.wait_for_selector("text=env=prod")
    page.goto(f"/servers/{server.public_id}/networks/")
    assert "backend" in page.content() and "10.20.1.2" in page.content()
    page.goto(f"/servers/{server.public_id}/firewalls/")
    assert "web" in page.locator("main").inner_text()
    assert firewall.name in page.content()
    page.screenshot(path="/tmp/opts/server-firewalls.png", full_page=True)
