"""Browser: a member creates a firewall with rules in the portal's rules editor (adding a row without
JavaScript's help), sees a bad port refused on its row, applies it to a server, and finds it on the
server's Firewalls tab."""

from __future__ import annotations

import re

import pytest

from apps.firewalls.models import Firewall, FirewallServer
from apps.firewalls.services import firewalls as firewall_services
from tests.factories import server_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_proxmox(monkeypatch):
    # Writing the VMs (Celery, Proxmox) is tested on the simulator in test_end_to_end; here the task is not sent.
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda name, *args: None)


def test_member_creates_a_firewall_with_rules_and_applies_it_to_a_server(personas, shop, login_page):
    assert firewall_services  # the services module the portal calls
    server = server_row(personas, shop, vmid=100_700)
    page = login_page(personas.member)
    page.goto("/firewalls/")
    page.click("#firewall-create")
    page.fill("#id_name", "web")
    # The form starts with an SSH rule and one empty row; ask for one more row (a plain form submit).
    page.click("#add-rule-row")
    page.wait_for_selector("#rule-2-port")
    page.fill("#rule-1-port", "443")
    page.fill("#rule-1-ips", "0.0.0.0/0, ::/0")
    page.fill("#rule-1-description", "HTTPS")
    page.select_option("#rule-2-protocol", "icmp")
    page.fill("#rule-2-port", "8")
    page.fill("#rule-2-ips", "0.0.0.0/0")
    page.check(f"input[name=servers][value='{server.public_id}']")
    page.click("#firewall-save")
    page.wait_for_selector(".rule-errors")
    assert "icmp has no ports" in page.locator(".rule-errors").inner_text()
    assert not Firewall.objects.exists()
    page.fill("#rule-2-port", "")
    page.click("#firewall-save")
    page.wait_for_url(re.compile(r".*/firewalls/[0-9a-f-]{36}/$"))
    firewall = Firewall.objects.get()
    assert [(r["protocol"], r["port"]) for r in firewall.rules] == [("tcp", "22"), ("tcp", "443"), ("icmp", None)]
    assert FirewallServer.objects.get().instance == server
    assert "web-1" in page.locator("#firewall-servers").inner_text()
    assert "Applying" in page.locator("#firewall-status").inner_text()
    page.screenshot(path="/tmp/firewall_detail.png", full_page=True)
    page.goto(f"/servers/{server.public_id}/firewalls/")
    assert "web" in page.locator("#server-firewalls").inner_text()
    page.screenshot(path="/tmp/server_firewalls.png", full_page=True)
