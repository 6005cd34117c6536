"""Where the wave-2 calls meet a VM's locks (docs/dev/proxmox-behaviour.md#lock-placement): unlink and config
writes in the request, move_disk both before the task and in it (under both VMs' flocks), resize in the task,
storage content and firewall calls not at all."""

from __future__ import annotations

import pytest

from tests.pvesim.client import clone, connect, exitstatus, refused

VMID = 100950
OTHER = 100951
TIMEOUT = "can't lock file '/var/lock/qemu-server/lock-{}.conf' - got timeout"


@pytest.fixture
def pve(pvesim):
    pve = connect(pvesim)
    clone(pve, VMID)
    clone(pve, OTHER)
    pve.nodes("pve1").qemu(VMID).config.put(scsi1="local-lvm:1")
    return pve


def test_a_config_task_holds_the_flock_against_unlink_and_move_disk(pve, pvesim):
    pvesim.set_task_seconds(5, "qmconfig")
    upid = pve.nodes("pve1").qemu(VMID).config.post(scsi2="local-lvm:1")
    busy = refused(pve.nodes("pve1").qemu(VMID).unlink.put, idlist="scsi1")
    assert (busy.status_code, busy.content) == (500, TIMEOUT.format(VMID))
    move = pve.nodes("pve1").qemu(VMID).move_disk.post(disk="scsi1", **{"target-vmid": OTHER, "target-disk": "scsi1"})
    assert exitstatus(pve, move) == TIMEOUT.format(VMID)  # checked in the request, locked in the worker
    pvesim.finish_tasks()
    assert exitstatus(pve, upid) == "OK"


def test_move_disk_takes_the_target_flock_in_the_worker(pve, pvesim):
    pvesim.hold_lock(OTHER, seconds=30)
    move = pve.nodes("pve1").qemu(VMID).move_disk.post(disk="scsi1", **{"target-vmid": OTHER, "target-disk": "scsi1"})
    assert exitstatus(pve, move) == TIMEOUT.format(OTHER)
    assert "scsi1" in pve.nodes("pve1").qemu(VMID).config.get()


def test_a_backup_lock_refuses_unlink_and_disk_config_in_the_request(pve, pvesim):
    pvesim.set_vm_lock(VMID, "backup", seconds=30)
    for call, params in (
        (pve.nodes("pve1").qemu(VMID).unlink.put, {"idlist": "scsi1"}),
        (pve.nodes("pve1").qemu(VMID).config.put, {"scsi2": "local-lvm:1"}),
        (pve.nodes("pve1").qemu(VMID).config.post, {"delete": "scsi1"}),
    ):
        error = refused(call, **params)
        assert (error.status_code, error.content) == (500, "VM is locked (backup)")
    resize = pve.nodes("pve1").qemu(VMID).resize.put(disk="scsi1", size="+1G")
    assert exitstatus(pve, resize) == "VM is locked (backup)"


def test_storage_content_calls_ignore_vm_locks(pve, pvesim):
    pvesim.set_vm_lock(VMID, "backup", seconds=30)
    pvesim.hold_lock(VMID, seconds=30)
    storage = pve.nodes("pve1").storage("local-lvm")
    volid = storage.content.post(vmid=VMID, filename=f"vm-{VMID}-disk-8", size="1G")
    assert exitstatus(pve, storage.content(volid).delete()) == "OK"
    # Even a volume the locked VM uses: nothing checks configs.
    assert exitstatus(pve, storage.content(f"local-lvm:vm-{VMID}-disk-0").delete()) == "OK"


def test_one_volume_is_never_attached_twice(pve):
    volid = f"local-lvm:vm-{VMID}-disk-0"
    error = refused(pve.nodes("pve1").qemu(OTHER).config.put, scsi1=volid)
    assert (error.status_code, error.content) == (500, f"volume '{volid}' is already in use by VM {VMID}")
    # Detached to unused0 it may come back to the same VM, which drops the unused line.
    pve.nodes("pve1").qemu(VMID).config.put(delete="scsi1")
    assert pve.nodes("pve1").qemu(VMID).config.get()["unused0"] == volid
    pve.nodes("pve1").qemu(VMID).config.put(scsi3=volid)
    config = pve.nodes("pve1").qemu(VMID).config.get()
    assert "unused0" not in config and config["scsi3"] == f"{volid},size=1G"
