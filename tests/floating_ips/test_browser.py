"""Browser: a customer reserves a floating IP, assigns it to a server from its page, sees where it points,
then finds it (with the guest configuration) on the server's "Floating IPs" tab."""

from __future__ import annotations

import re

import pytest

from apps.floating_ips.models import FloatingIp, FloatingIpRoute
from tests.floating_ips.conftest import FipEnv, offer_ensure, server_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_proxmox(monkeypatch):
    # The VM's IP set is written through the Proxmox driver, tested on the simulator in test_end_to_end;
    # here the task (eager Celery) runs the rest: the routing backend records the route.
    monkeypatch.setattr("apps.floating_ips.services.execution._ipset_sync", lambda server: None)


def test_reserve_a_floating_ip_and_assign_it_through_the_portal(personas, shop, login_page):
    env = FipEnv(shop=shop, personas=personas, offer=offer_ensure())
    server = server_row(env, name="web-1")
    page = login_page(personas.owner)
    page.goto("/floating-ips/")
    page.fill("#id_name", "web-vip")
    page.select_option("#id_datacentre", shop.dc.code)
    page.click("#floating-ip-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/floating-ips/[0-9a-f-]{36}/$"))
    fip = FloatingIp.objects.get()
    assert fip.address in page.locator("h1").inner_text()
    assert page.locator("#fip-status").get_attribute("data-status") == "available"

    page.select_option("#fip-assign-form select", str(server.public_id))
    page.click("#fip-assign-form button[type=submit]")
    page.wait_for_selector("#fip-status[data-status=assigned]")
    assert f"{fip.address}/32 → {server.ipv4}" in page.locator("#fip-route").inner_text()
    assert FloatingIpRoute.objects.get(address=fip.address).next_hop == server.ipv4
    assert "netplan apply" in page.locator("#guest-config").inner_text()
    page.screenshot(path="/tmp/fip_detail.png", full_page=True)

    page.goto(f"/servers/{server.public_id}/floating-ips/")
    tab = page.locator("#server-floating-ips")
    assert fip.address in tab.inner_text()
    assert page.locator("nav.tabs [aria-current=page]").inner_text() == "Floating IPs"
    page.screenshot(path="/tmp/fip_tab.png", full_page=True)
