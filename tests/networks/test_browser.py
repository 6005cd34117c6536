"""Clicking through the network pages in Chromium (Playwright) against the Proxmox simulator.

The live server runs Celery eagerly, so an action finishes within the POST.
A member creates a network, attaches a running server on the network's page,
reads its address and the reboot note on the server's "Networks" tab, detaches
it there, and deletes the empty network.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from apps.instances.models import Instance
from apps.networks.models import Attachment, Network, NetworkZone
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("VMC_SHOTS", "/tmp/shots"))


def _shot(page, name: str) -> None:
    """Screenshots for reviewers; never asserted on."""
    if os.environ.get("VMC_SHOTS") is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_member_creates_a_network_and_attaches_a_server(login_page, fleet, personas):  # noqa: F811
    NetworkZone.objects.create(
        cluster=fleet.cluster, name="vmcnets", zone_type="vxlan", options={"peers": "10.255.0.1"}
    )
    server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    assert Instance.objects.get(pk=server.pk).status == "running"

    page = login_page(personas.member)
    page.goto("/networks/")
    page.fill("#id_name", "backend")
    page.select_option("#id_datacentre", fleet.dc.code)
    page.fill("#id_ip_range", "10.30.0.0/16")
    page.fill("#id_subnets", "10.30.1.0/24")
    _shot(page, "network-create")
    page.click('#network-form button[type="submit"]')
    page.wait_for_url(re.compile(r".*/networks/[0-9a-f-]{36}/$"))
    page.wait_for_selector('#network-status[data-status="available"]')
    network = Network.objects.get(name="backend")
    assert network.status == "available" and network.ip_range == "10.30.0.0/16"

    page.select_option("#id_server", str(server.public_id))
    page.click('#attach-form button[type="submit"]')
    page.wait_for_selector('#attachments [data-status="attached"]')
    attachment = Attachment.objects.get(network=network, instance=server)
    assert attachment.address == "10.30.1.2"
    assert "10.30.1.2" in page.locator("#attachments").inner_text()
    _shot(page, "network-detail")

    page.goto(f"/servers/{server.public_id}/networks/")
    page.wait_for_selector("#reboot-needed")
    assert "10.30.1.2/24" in page.locator("#server-attachments").inner_text()
    assert "net1" in page.locator("#server-attachments").inner_text()
    _shot(page, "server-networks-tab")
    page.click('#server-attachments button[type="submit"]')
    page.wait_for_selector("#server-attachments >> text=This server is on no private network.")
    assert Attachment.objects.get(pk=attachment.pk).status == "detached"

    page.goto(f"/networks/{network.public_id}/")
    page.click("#network-delete")
    page.wait_for_url(re.compile(r".*/networks/$"))
    assert Network.objects.get(pk=network.pk).status == "deleted"
