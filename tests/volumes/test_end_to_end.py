"""Volumes end to end against the Proxmox simulator (docs/dev/proxmox-behaviour.md#volume-keeping).

Create attached to a running server, detach, attach again, delete the server:
the volume is still on its storage with the same volid, is detached in the
platform, and attaches to another server; then grow it and delete it.
"""

from __future__ import annotations

import pytest

from apps.infrastructure.models import ClusterStorage
from apps.infrastructure.proxmox.driver import parse_drive
from apps.instances import services as instance_services
from apps.instances.services.access import instance_driver
from apps.volumes import services
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures
from tests.volumes.conftest import HOLDER, storage_tier

pytestmark = pytest.mark.django_db


def _images(driver) -> set[str]:
    return {v.volid for v in driver.storage_content("pve1", "ceph-nvme", content="images")}


def _disk(driver, server, slot: str) -> tuple[str, dict[str, str]]:
    return parse_drive(str(driver.config(server.node_name, server.vmid).options[slot]))


def test_a_volume_outlives_its_server_and_reattaches(fleet, personas, django_capture_on_commit_callbacks):  # noqa: F811
    cap = django_capture_on_commit_callbacks
    tier = storage_tier(fleet.dc, iops=50_000)
    ClusterStorage.objects.create(
        cluster=fleet.cluster, tier=tier, storage="ceph-nvme", node_name="pve1", holder_vmid=HOLDER, capacity_gb=5000
    )
    with cap(execute=True):
        server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    server.refresh_from_db()
    assert server.status == "running"
    owner = personas.owner
    with cap(execute=True):
        volume, action = services.volume_create(
            actor=owner,
            organisation=personas.org,
            project=personas.project,
            name="data",
            tier=tier,
            size_gb=20,
            datacentre=fleet.dc,
            server=server,
        )
    volume.refresh_from_db()
    action.refresh_from_db()
    assert action.status == "success", action.error_detail
    assert volume.status == VolumeStatus.IN_USE and volume.volid.startswith(f"ceph-nvme:vm-{HOLDER}-disk-")
    driver = instance_driver(fleet.cluster)
    volid, options = _disk(driver, server, volume.slot)
    assert volid == volume.volid
    assert (options["iops_rd"], options["iops_wr"], options["serial"]) == ("1000", "1000", volume.serial)

    with cap(execute=True):
        services.volume_detach(actor=owner, volume=volume)
    volume.refresh_from_db()
    assert (volume.status, volume.server_id) == (VolumeStatus.AVAILABLE, None)
    assert volume.volid in _images(driver)
    assert all(
        not str(v).startswith(volume.volid + ",") for v in driver.config(server.node_name, server.vmid).options.values()
    )

    with cap(execute=True):
        services.volume_attach(actor=owner, volume=volume, server=server)
    volume.refresh_from_db()
    assert volume.status == VolumeStatus.IN_USE
    with cap(execute=True):
        instance_services.instance_delete(instance=server, actor=owner)
    server.refresh_from_db()
    assert server.status == "deleted"
    volume.refresh_from_db()
    assert (volume.status, volume.server_id, volume.slot) == (VolumeStatus.AVAILABLE, None, "")
    assert volume.volid in _images(driver)  # the server's destroy did not free it

    with cap(execute=True):
        other, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-2")
    other.refresh_from_db()
    with cap(execute=True):
        services.volume_attach(actor=owner, volume=volume, server=other)
    volume.refresh_from_db()
    assert volume.status == VolumeStatus.IN_USE and _disk(driver, other, volume.slot)[0] == volume.volid

    with cap(execute=True):
        services.volume_resize(actor=owner, volume=volume, size_gb=40)
    volume.refresh_from_db()
    assert (volume.status, volume.size_gb) == (VolumeStatus.IN_USE, 40)
    _volid, options = _disk(driver, other, volume.slot)
    assert options["size"] == "40G" and options["iops_rd"] == "2000"

    with cap(execute=True):
        services.volume_detach(actor=owner, volume=volume)
        volume.refresh_from_db()
    with cap(execute=True):
        services.volume_delete(actor=owner, volume=Volume.objects.get(pk=volume.pk))
    volume.refresh_from_db()
    assert volume.status == VolumeStatus.DELETED and volume.volid not in _images(driver)
    assert ClusterStorage.objects.get(tier=tier).reserved_gb == 0


def test_inventory_sync_reads_the_tier_storages(fleet):  # noqa: F811
    from apps.infrastructure import services as infra
    from apps.infrastructure.models import Storage
    from apps.infrastructure.services.volume_storage import GB, cluster_storage_sync

    tier = storage_tier(fleet.dc)
    row = ClusterStorage.objects.create(
        cluster=fleet.cluster, tier=tier, storage="ceph-nvme", node_name="pve1", holder_vmid=HOLDER, capacity_gb=1
    )
    missing = ClusterStorage.objects.create(
        cluster=fleet.cluster,
        tier=storage_tier(fleet.dc, code="STORAGE-SSD"),
        storage="nope",
        node_name="pve1",
        holder_vmid=HOLDER,
    )
    infra.inventory_sync(cluster=fleet.cluster)
    row.refresh_from_db()
    synced = Storage.objects.get(cluster=fleet.cluster, name="ceph-nvme")
    assert row.capacity_gb == synced.capacity_gb > 1 and row.last_sync_at is not None
    assert ClusterStorage.objects.get(pk=missing.pk).last_sync_error
    assert cluster_storage_sync(cluster=fleet.cluster, driver=instance_driver(fleet.cluster)) == 1
    row.refresh_from_db()
    status = instance_driver(fleet.cluster).storage_status("pve1", "ceph-nvme")
    assert (row.capacity_gb, row.free_gb) == (status.total // GB, status.free // GB)
