"""Browser (issue #16): a member orders a VPS with a label, a private network, a firewall and a volume in the
create flow, on the Proxmox simulator (the live server runs Celery eagerly); the order page says the options are
applied and the server's pages show the label, the network, the firewall and the volume."""

from __future__ import annotations

import re

import pytest

from apps.firewalls import services as firewall_services
from apps.infrastructure.models import ClusterStorage
from apps.networks import services as network_services
from apps.networks.models import Attachment, NetworkZone
from apps.orders.choices import OptionsStatus, OrderState
from apps.orders.models import Order
from apps.volumes.models import Volume
from tests.firewalls.conftest import WEB
from tests.instances.conftest import _fast_driver, fleet  # noqa: F401 - fixtures
from tests.orders.wizard import wizard_choose
from tests.volumes.conftest import HOLDER, storage_tier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_orders_a_vps_with_a_label_a_network_a_firewall_and_a_volume(login_page, fleet, personas):  # noqa: F811
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

    tier = storage_tier(fleet.dc, price="0.15")
    ClusterStorage.objects.create(
        cluster=fleet.cluster, tier=tier, storage="ceph-nvme", node_name="pve1", holder_vmid=HOLDER, capacity_gb=5000
    )

    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=fleet.vps_offer.code, datacentre=fleet.dc.code, image=fleet.ubuntu24.slug)
    page.fill("#id_name", "web")
    page.fill("#id_labels", "env=prod")
    page.check(f'#order-networks input[value="{network.public_id}"]')
    page.check(f'#order-firewalls input[value="{firewall.public_id}"]')
    page.fill("#id_volume_size_1", "20")
    page.select_option("#id_volume_tier_1", tier.code)  # a change: the summary refreshes with the volume's price
    page.wait_for_selector("#summary-volume-1")
    assert "€3.00" in page.locator("#summary-volume-1").inner_text()  # 20 GB at €0.15 a GB-month
    assert page.locator("#summary-monthly").inner_text() == "€103.00"  # the VPS's €100.00 and the volume
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
    assert Volume.objects.get(server=server).name == "web-vol1"
    page.click("#order-server")
    page.wait_for_selector("text=env=prod")
    page.goto(f"/servers/{server.public_id}/networks/")
    assert "backend" in page.content() and "10.20.1.2" in page.content()
    page.goto(f"/servers/{server.public_id}/firewalls/")
    assert "web" in page.locator("main").inner_text()
    assert firewall.name in page.content()
    page.goto(f"/servers/{server.public_id}/volumes/")
    assert "web-vol1" in page.content()
