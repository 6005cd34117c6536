"""Clicking through the instance page and the SSH keys page in Chromium (Playwright).

The live server runs Celery eagerly, so an action finishes within the POST;
the page then shows the action panel at 100% and the new status.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from tests.instances.conftest import ED25519, create_instance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("VMC_SHOTS", "/tmp/shots"))


def _shot(page, name: str) -> None:
    """Screenshots for reviewers (light and dark); never asserted on."""
    if os.environ.get("VMC_SHOTS") is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_member_stops_an_instance_and_sees_the_action_finish(login_page, fleet, personas):
    instance, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING

    page = login_page(personas.member)
    page.goto("/dashboard/")
    assert page.locator("#server-table").get_attribute("data-polling") == "false"
    assert page.locator(f'tr[data-instance="{instance.public_id}"] [data-status="running"]').is_visible()
    _shot(page, "dashboard-light")
    page.goto(f"/servers/{instance.public_id}/")
    assert page.locator("#instance-status-badge").get_attribute("data-status") == "running"
    assert page.locator("#ipv4").inner_text() == instance.ipv4
    _shot(page, "instance-light")
    page.click("text=Metrics")
    # A server started a moment ago has too few points to draw: the charts say they fill in.
    page.wait_for_selector(".chart-card .chart-empty")
    with fleet.sim.cluster.lock:  # an hour of metrics, as for a server started an hour ago
        fleet.sim.cluster.vms[instance.vmid].started_at -= 3600
    page.reload()
    page.wait_for_selector("svg.chart")
    page.hover('[data-chart="cpu"] rect.chart-hit >> nth=-1')
    _shot(page, "metrics-light")
    page.goto(f"/servers/{instance.public_id}/")

    page.click('button[data-action="stop"]')
    page.wait_for_url(lambda url: "?action=" in url)
    panel = page.locator("#action-panel")
    panel.wait_for()
    assert "Stop" in panel.inner_text()
    page.wait_for_selector('#action-panel[data-action-status="success"]')
    assert page.locator("#action-panel .progress").get_attribute("aria-valuenow") == "100"
    page.wait_for_selector('#instance-status-badge[data-status="stopped"]')
    # Start is offered again, stop no longer.
    assert page.locator('button[data-action="start"]').is_enabled()
    assert page.locator('button[data-action="stop"]').is_disabled()
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.STOPPED

    page.evaluate("document.documentElement.setAttribute('data-theme', 'dark')")
    _shot(page, "instance-dark")
    page.goto("/dashboard/")
    page.evaluate("document.documentElement.setAttribute('data-theme', 'dark')")
    _shot(page, "dashboard-dark")


def test_member_adds_a_bad_then_a_good_ssh_key(login_page, personas):
    page = login_page(personas.member)
    page.goto("/ssh-keys/")
    page.fill("#id_name", "laptop")
    page.fill("#id_public_key", "ssh-rsa AAAA not-a-key")
    page.click('#ssh-key-form button[type="submit"]')
    error = page.locator("#ssh-key-form .field-error").first
    error.wait_for()
    assert error.inner_text().strip()
    assert page.locator("#ssh-keys .fingerprint").count() == 0

    page.fill("#id_public_key", ED25519)
    page.click('#ssh-key-form button[type="submit"]')
    page.wait_for_selector("#ssh-keys .fingerprint")
    fingerprint = page.locator("#ssh-keys .fingerprint").first.inner_text()
    assert fingerprint.startswith("SHA256:")
    assert "laptop" in page.locator("#ssh-keys").inner_text()
    _shot(page, "ssh-keys-light")
