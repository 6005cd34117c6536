"""Clicking through the volume pages in Chromium (Playwright) against the Proxmox simulator.

The live server runs Celery eagerly, so an action finishes within the POST;
the page then shows the action panel at 100 % and the volume's new state.
Create a volume attached to a server, read its device path and mount commands
on the server's "Volumes" tab, grow it, then detach it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.infrastructure.models import ClusterStorage
from apps.instances.models import Instance
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures
from tests.volumes.conftest import HOLDER, storage_tier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("VMC_SHOTS", "/tmp/shots"))


def _shot(page, name: str) -> None:
    """Screenshots for reviewers; never asserted on."""
    if os.environ.get("VMC_SHOTS") is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_member_creates_an_attached_volume_grows_and_detaches_it(login_page, fleet, personas):  # noqa: F811
    tier = storage_tier(fleet.dc, iops=50_000)
    ClusterStorage.objects.create(
        cluster=fleet.cluster, tier=tier, storage="ceph-nvme", node_name="pve1", holder_vmid=HOLDER, capacity_gb=5000
    )
    server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    assert Instance.objects.get(pk=server.pk).status == "running"

    page = login_page(personas.member)
    page.goto("/volumes/")
    page.click("#create-volume")
    page.fill("#id_name", "data")
    page.fill("#id_size_gb", "20")
    page.select_option("#id_tier", label=page.locator("#id_tier option").first.inner_text())
    page.select_option("#id_server", str(server.pk))
    page.fill("#id_labels", "env=prod")
    _shot(page, "volume-create")
    page.click('#volume-create-form button[type="submit"]')
    page.wait_for_url(lambda url: "?action=" in url)
    page.wait_for_selector('#action-panel[data-action-status="success"]')
    page.wait_for_selector('#volume-status-badge[data-status="in_use"]')
    volume = Volume.objects.get(name="data")
    assert (volume.status, volume.server_id, volume.labels) == (VolumeStatus.IN_USE, server.pk, {"env": "prod"})
    assert page.locator("#device-path").inner_text() == volume.device_path
    _shot(page, "volume-detail")

    # The server page's Volumes tab: the stable device path and the commands to format and mount it.
    page.goto(f"/servers/{server.public_id}/")
    page.click("nav.tabs >> text=Volumes")
    page.wait_for_selector("#server-volumes")
    tab = page.locator("#server-volumes").inner_text()
    assert volume.device_path in tab
    for command in ("mkfs.ext4", "mkdir -p /mnt/data", "mount -o", "/etc/fstab", "blkid", "resize2fs"):
        assert command in tab, command
    _shot(page, "server-volumes-tab")

    # Grow: never shrink (a smaller size is refused with a message), then 20 → 30 GB.
    page.goto(f"/volumes/{volume.public_id}/")
    page.fill("#id_size_gb", "15")
    page.click("#grow-submit")
    page.wait_for_selector(".alert-danger, .messages .error, [role=alert]")
    assert Volume.objects.get(pk=volume.pk).size_gb == 20
    page.fill("#id_size_gb", "30")
    page.click("#grow-submit")
    page.wait_for_url(lambda url: "?action=" in url)
    page.wait_for_selector('#action-panel[data-action-status="success"]')
    page.wait_for_selector('#volume-size[data-size="30"]')
    assert Volume.objects.get(pk=volume.pk).size_gb == 30

    # Delete is refused while attached (the button is disabled); detach keeps the volume.
    assert page.locator("#delete-submit").is_disabled()
    page.click("#detach")
    page.wait_for_url(lambda url: "?action=" in url)
    page.wait_for_selector('#action-panel[data-action-status="success"]')
    page.wait_for_selector('#volume-status-badge[data-status="available"]')
    volume.refresh_from_db()
    assert (volume.status, volume.server_id) == (VolumeStatus.AVAILABLE, None)
    assert page.locator("#attach").is_visible()
    _shot(page, "volume-detached")

    page.goto("/volumes/")
    assert page.locator("#volume-table").get_attribute("data-polling") == "false"
    assert page.locator(f'tr[data-volume="{volume.public_id}"] [data-status="available"]').is_visible()
    _shot(page, "volume-list")
