"""The driver's block storage volume calls against the simulator, over HTTPS
(docs/dev/proxmox-behaviour.md#volumes and #volume-keeping)."""

from __future__ import annotations

import pytest

from apps.infrastructure.proxmox import (
    ProxmoxDriver,
    ProxmoxParameterError,
    ProxmoxPermanentError,
    ProxmoxStorageFull,
    ProxmoxTransientError,
)
from apps.infrastructure.proxmox.driver import drive_spec, parse_drive, volume_owner
from apps.infrastructure.proxmox.types import IoLimits, Upid

GIB = 1024**3
VMID = 100710
OTHER = 100711
HOLDER = 900001  # the reserved VMID that owns kept volumes (docs/dev/proxmox-behaviour.md#volume-keeping)


def _clone(driver: ProxmoxDriver, vmid: int, *, start: bool = False) -> None:
    driver.wait_task("pve1", driver.clone("pve1", 9000, vmid, f"vol-{vmid}"), timeout=5)
    if start:
        driver.wait_task("pve1", driver.start("pve1", vmid), timeout=5)


def _volids(driver: ProxmoxDriver, storage: str = "local-lvm") -> set[str]:
    return {volume.volid for volume in driver.storage_content("pve1", storage, content="images")}


def test_storage_status_and_allocation_by_the_holder(pvesim, pve_driver):
    before = pve_driver.storage_status("pve1", "local-lvm")
    assert (before.total, before.used, before.free) == (1000 * GIB, 0, 1000 * GIB)
    assert before.type == "lvmthin" and not before.shared
    first = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=10)
    second = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=5)
    assert (first, second) == (f"local-lvm:vm-{HOLDER}-disk-0", f"local-lvm:vm-{HOLDER}-disk-1")
    assert volume_owner(first) == HOLDER and volume_owner("local:106/vm-106-disk-0.qcow2") == 106
    after = pve_driver.storage_status("pve1", "local-lvm")
    assert after.used == 15 * GIB and after.free == 985 * GIB
    assert pvesim.validation_failures == []


def test_capacity_exhaustion_is_refused_before_calling(pvesim, pve_driver):
    pvesim.clear_requests()
    with pytest.raises(ProxmoxStorageFull) as error:
        pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=1001)
    assert not error.value.is_transient and "size" in error.value.errors
    assert not any(r.method == "POST" for r in pvesim.requests)
    assert _volids(pve_driver) == set()
    # A volume that fits, then one that no longer does.
    pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=900)
    with pytest.raises(ProxmoxStorageFull):
        pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=101)


def test_attach_on_a_running_vm_hotplugs_and_limits_apply_live(pvesim, pve_driver):
    _clone(pve_driver, VMID, start=True)
    volid = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=8)
    limits = IoLimits(iops_rd=2000, iops_wr=1000, mbps_rd=200, mbps_wr=100.5)
    attached = pve_driver.volume_attach("pve1", VMID, volid=volid, slot="scsi1", limits=limits, serial="vol-42")
    assert (attached.slot, attached.volid, attached.pending) == ("scsi1", volid, False)
    live = pve_driver.config("pve1", VMID, current=True).options["scsi1"]
    assert parse_drive(str(live))[0] == volid
    assert {"iops_rd": "2000", "iops_wr": "1000", "mbps_rd": "200", "mbps_wr": "100.5", "serial": "vol-42"}.items() <= (
        parse_drive(str(live))[1].items()
    )
    # A SATA disk is never hot-plugged: it waits in pending, without an error.
    other = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=1)
    assert pve_driver.volume_attach("pve1", VMID, volid=other, slot="sata1").pending is True
    # New limits replace the old ones, live.
    pve_driver.volume_set_limits("pve1", VMID, slot="scsi1", limits=IoLimits(iops_wr=500))
    options = parse_drive(str(pve_driver.config("pve1", VMID, current=True).options["scsi1"]))[1]
    assert options["iops_wr"] == "500" and "iops_rd" not in options and options["serial"] == "vol-42"
    assert drive_spec("s:v", limits=IoLimits(mbps_rd=1.0)) == "s:v,mbps_rd=1"
    with pytest.raises(ValueError, match="serial"):
        pve_driver.volume_attach("pve1", VMID, volid=other, slot="scsi2", serial="not a serial!")
    assert pvesim.validation_failures == []


def test_a_volume_named_twice_is_a_permanent_error(pve_driver):
    _clone(pve_driver, VMID)
    _clone(pve_driver, OTHER)
    volid = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=1)
    pve_driver.volume_attach("pve1", VMID, volid=volid, slot="scsi1")
    with pytest.raises(ProxmoxPermanentError):
        pve_driver.volume_attach("pve1", OTHER, volid=volid, slot="scsi1")


def test_attach_on_a_locked_config_is_transient(pvesim, pve_driver):
    _clone(pve_driver, VMID)
    volid = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=1)
    pvesim.hold_lock(VMID, seconds=30)
    with pytest.raises(ProxmoxTransientError):
        pve_driver.volume_attach("pve1", VMID, volid=volid, slot="scsi1")


def test_detached_holder_volume_survives_the_destroy_of_its_server(pvesim, pve_driver):
    """The volume-keeping decision (docs/dev/proxmox-behaviour.md#volume-keeping) end to end."""
    _clone(pve_driver, VMID, start=True)
    kept = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=8)
    pve_driver.volume_attach("pve1", VMID, volid=kept, slot="scsi1")
    # A volume the server owns, for contrast: detached it is kept as unusedN, but dies with the server.
    owned = pve_driver.volume_allocate("pve1", "local-lvm", vmid=VMID, size_gb=1)
    pve_driver.volume_attach("pve1", VMID, volid=owned, slot="scsi2")

    detached = pve_driver.volume_detach("pve1", VMID, slot="scsi1")
    assert (detached.volid, detached.unused_slot, detached.pending) == (kept, None, False)
    assert pve_driver.volume_detach("pve1", VMID, slot="scsi2").unused_slot == "unused0"
    assert {kept, owned} <= _volids(pve_driver)

    pve_driver.wait_task("pve1", pve_driver.stop("pve1", VMID), timeout=5)
    pve_driver.wait_task("pve1", pve_driver.delete("pve1", VMID, purge=True, destroy_unreferenced_disks=True))
    left = _volids(pve_driver)
    assert kept in left and owned not in left
    assert pve_driver.storage_status("pve1", "local-lvm").used == 8 * GIB
    # It can be attached to the next server, under the same name.
    _clone(pve_driver, OTHER)
    assert pve_driver.volume_attach("pve1", OTHER, volid=kept, slot="scsi1").pending is False


def test_reassign_to_a_second_vm(pvesim, pve_driver):
    _clone(pve_driver, VMID)
    _clone(pve_driver, OTHER)
    volid = pve_driver.volume_allocate("pve1", "local-lvm", vmid=VMID, size_gb=4)
    pve_driver.volume_attach("pve1", VMID, volid=volid, slot="scsi1", limits=IoLimits(iops_rd=100))
    upid = pve_driver.volume_reassign("pve1", source_vmid=VMID, slot="scsi1", target_vmid=OTHER, target_slot="scsi2")
    assert Upid.parse(upid).type == "qmmove"
    pve_driver.wait_task("pve1", upid, timeout=5)
    moved, options = parse_drive(str(pve_driver.config("pve1", OTHER).options["scsi2"]))
    assert moved == f"local-lvm:vm-{OTHER}-disk-0" and options["iops_rd"] == "100"
    assert "scsi1" not in pve_driver.config("pve1", VMID).options
    # From a running VM only its unusedN may move: detach first.
    pve_driver.wait_task("pve1", pve_driver.start("pve1", OTHER), timeout=5)
    with pytest.raises(ProxmoxPermanentError, match="detach first"):
        pve_driver.volume_reassign("pve1", source_vmid=OTHER, slot="scsi2", target_vmid=VMID, target_slot="scsi1")
    assert pve_driver.volume_detach("pve1", OTHER, slot="scsi2").unused_slot == "unused0"
    upid = pve_driver.volume_reassign("pve1", source_vmid=OTHER, slot="unused0", target_vmid=VMID, target_slot="scsi1")
    pve_driver.wait_task("pve1", upid, timeout=5)
    assert parse_drive(str(pve_driver.config("pve1", VMID).options["scsi1"]))[0] == f"local-lvm:vm-{VMID}-disk-0"
    with pytest.raises(ValueError):
        pve_driver.volume_reassign("pve1", source_vmid=VMID, slot="scsi1", target_vmid=VMID, target_slot="scsi3")
    assert pvesim.validation_failures == []


def test_resize_grows_and_refuses_a_shrink_before_calling(pvesim, pve_driver):
    _clone(pve_driver, VMID)
    volid = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=10)
    pve_driver.volume_attach("pve1", VMID, volid=volid, slot="scsi1")
    upid = pve_driver.volume_resize("pve1", VMID, slot="scsi1", size_gb=12)
    assert upid is not None
    pve_driver.wait_task("pve1", upid, timeout=5)
    assert parse_drive(str(pve_driver.config("pve1", VMID).options["scsi1"]))[1]["size"] == "12G"
    assert pve_driver.volume_resize("pve1", VMID, slot="scsi1", size_gb=12) is None  # already that size
    pvesim.clear_requests()
    with pytest.raises(ProxmoxParameterError) as error:
        pve_driver.volume_resize("pve1", VMID, slot="scsi1", size_gb=5)
    assert "size" in error.value.errors
    with pytest.raises(ProxmoxStorageFull):
        pve_driver.volume_resize("pve1", VMID, slot="scsi1", size_gb=2000)
    assert not any(r.path.endswith("/resize") for r in pvesim.requests)


def test_volume_delete_is_a_task_that_frees_the_volume(pve_driver):
    volid = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=1)
    upid = pve_driver.volume_delete("pve1", "local-lvm", volid=volid)
    assert Upid.parse(upid).type == "imgdel"
    pve_driver.wait_task("pve1", upid, timeout=5)
    assert volid not in _volids(pve_driver)
    with pytest.raises(ValueError):
        pve_driver.volume_delete("pve1", "ceph-nvme", volid=volid)


def test_a_failed_hotplug_is_a_parameter_error_naming_the_slot_and_the_disk_stays_pending(pvesim, pve_driver):
    _clone(pve_driver, VMID, start=True)
    volid = pve_driver.volume_allocate("pve1", "local-lvm", vmid=HOLDER, size_gb=1)
    pvesim.fail_next_hotplug(VMID, "device_add failed")
    with pytest.raises(ProxmoxParameterError) as error:
        pve_driver.volume_attach("pve1", VMID, volid=volid, slot="scsi1")
    assert error.value.errors["scsi1"].startswith("hotplug problem")
    assert "scsi1" not in pve_driver.config("pve1", VMID, current=True).options
    assert pve_driver.request("GET", f"nodes/pve1/qemu/{VMID}/pending")
