"""Block storage volumes in the simulator, driven through proxmoxer as the driver does
(docs/dev/proxmox-behaviour.md#volumes and the decisions in #simulator-wave2)."""

from __future__ import annotations

import pytest

from tests.pvesim.client import clone, connect, exitstatus, refused, task, task_log

GIB = 1024**3
VMID = 100700
OTHER = 100701
HOLDER = 900001


@pytest.fixture
def pve(pvesim):
    pve = connect(pvesim)
    clone(pve, VMID, name="vol-a")
    clone(pve, OTHER, name="vol-b")
    return pve


def _config(pve, vmid=VMID, node="pve1"):
    return pve.nodes(node).qemu(vmid).config.get()


def _volids(pve, storage="local-lvm", node="pve1", **params):
    return {row["volid"]: row for row in pve.nodes(node).storage(storage).content.get(content="images", **params)}


def test_storage_status_and_list_count_allocated_volumes(pve):
    before = pve.nodes("pve1").storage("local-lvm").status.get()
    assert before["total"] == 1000 * GIB and before["used"] == 0 and before["avail"] == before["total"]
    assert before["type"] == "lvmthin" and before["shared"] == 0 and "images" in before["content"]
    volid = pve.nodes("pve1").storage("local-lvm").content.post(vmid=HOLDER, filename=f"vm-{HOLDER}-disk-0", size="10G")
    assert volid == f"local-lvm:vm-{HOLDER}-disk-0"
    after = pve.nodes("pve1").storage("local-lvm").status.get()
    assert after["used"] == 10 * GIB and after["avail"] == 990 * GIB
    # local-lvm is per node: gpu1 sees its own, empty one.
    assert pve.nodes("gpu1").storage("local-lvm").status.get()["used"] == 0
    rows = {r["storage"]: r for r in pve.nodes("pve1").storage.get(content="images", enabled=1)}
    assert set(rows) == {"ceph-nvme", "local-lvm"}
    assert rows["local-lvm"]["used_fraction"] == pytest.approx(0.01)


def test_content_post_allocates_a_volume_with_no_vm(pve):
    volid = pve.nodes("pve1").storage("local-lvm").content.post(vmid=HOLDER, filename=f"vm-{HOLDER}-disk-3", size=1024)
    row = _volids(pve, vmid=HOLDER)[volid]
    assert row["size"] == 1024 * 1024 and row["vmid"] == HOLDER and row["format"] == "raw"  # size is KiB by default
    illegal = refused(pve.nodes("pve1").storage("local-lvm").content.post, vmid=HOLDER, filename="data", size="1G")
    assert (illegal.status_code, illegal.content) == (500, f"illegal name 'data' - should be 'vm-{HOLDER}-*'")
    bad_size = refused(
        pve.nodes("pve1").storage("local-lvm").content.post, vmid=HOLDER, filename=f"vm-{HOLDER}-x", size="1T"
    )
    assert bad_size.status_code == 400 and "size" in bad_size.errors
    mismatch = refused(
        pve.nodes("pve1").storage("local-lvm").content.post,
        vmid=HOLDER,
        filename=f"vm-{HOLDER}-disk-9.qcow2",
        size="1G",
        format="raw",
    )
    assert mismatch.errors == {"format": "different storage formats (raw != qcow2)"}
    full = refused(
        pve.nodes("pve1").storage("local-lvm").content.post, vmid=HOLDER, filename=f"vm-{HOLDER}-big", size="2000G"
    )
    assert full.status_code == 500 and "not enough free space" in full.content


def test_content_delete_is_an_imgdel_task_and_ignores_configs(pve):
    volid = pve.nodes("pve1").storage("local-lvm").content.post(vmid=HOLDER, filename=f"vm-{HOLDER}-disk-0", size="1G")
    upid = pve.nodes("pve1").storage("local-lvm").content(volid).delete()
    assert upid.split(":")[5:7] == ["imgdel", f"{HOLDER}@local-lvm"]
    assert exitstatus(pve, upid) == "OK" and volid not in _volids(pve)
    # Deleting what is gone fails in the task; ``delay`` waits for it and turns the failure into a 500.
    assert exitstatus(pve, pve.nodes("pve1").storage("local-lvm").content(volid).delete()) == (
        f"volume '{volid}' does not exist"
    )
    other = pve.nodes("pve1").storage("local-lvm").content.post(vmid=HOLDER, filename=f"vm-{HOLDER}-disk-1", size="1G")
    assert pve.nodes("pve1").storage("local-lvm").content(other).delete(delay=5) is None


def test_config_allocates_lowest_free_name_with_io_limits(pve):
    options = "iops_rd=2000,iops_wr=1000,mbps_rd=200,mbps_wr=100,discard=on,ssd=1,serial=vol42"
    upid = pve.nodes("pve1").qemu(VMID).config.post(scsi1=f"local-lvm:32,{options}")
    assert exitstatus(pve, upid) == "OK"
    assert _config(pve)["scsi1"] == f"local-lvm:vm-{VMID}-disk-0,{options},size=32G"
    assert _volids(pve)[f"local-lvm:vm-{VMID}-disk-0"]["size"] == 32 * GIB
    pve.nodes("pve1").qemu(VMID).config.put(virtio1="local-lvm:1.5")
    assert _config(pve)["virtio1"] == f"local-lvm:vm-{VMID}-disk-1,size=1536M"


@pytest.mark.parametrize(
    "drive",
    ["local-lvm:1,mbps=100,mbps_rd=50", "local-lvm:1,iops=10,iops_wr=5", "local-lvm:1,iops_rd_max=400", "local-lvm:0"],
)
def test_conflicting_or_baseless_limits_are_unparsable(pve, drive):
    for call in (pve.nodes("pve1").qemu(VMID).config.post, pve.nodes("pve1").qemu(VMID).config.put):
        error = refused(call, scsi1=drive)
        assert error.status_code == 400 and error.errors == {"scsi1": "unable to parse drive options"}
    assert _volids(pve) == {}


def test_allocation_beyond_free_space_fails_the_task_and_writes_nothing(pve):
    upid = pve.nodes("pve1").qemu(VMID).config.post(scsi1="local-lvm:2000")
    assert "not enough free space" in exitstatus(pve, upid)
    assert "scsi1" not in _config(pve) and _volids(pve) == {}
    put = refused(pve.nodes("pve1").qemu(VMID).config.put, scsi1="local-lvm:2000")
    assert put.status_code == 500 and "not enough free space" in put.content


def test_attaching_another_vmids_volume_by_id_and_a_missing_one(pve):
    volid = pve.nodes("pve1").storage("local-lvm").content.post(vmid=HOLDER, filename=f"vm-{HOLDER}-disk-0", size="5G")
    pve.nodes("pve1").qemu(VMID).config.put(scsi1=f"{volid},iops_rd=100")
    assert _config(pve)["scsi1"] == f"{volid},iops_rd=100,size=5G"
    upid = pve.nodes("pve1").qemu(VMID).config.post(scsi2=f"local-lvm:vm-{HOLDER}-disk-7")
    assert exitstatus(pve, upid) == f"volume 'local-lvm:vm-{HOLDER}-disk-7' does not exist"


def _start(pve, vmid=VMID):
    assert exitstatus(pve, pve.nodes("pve1").qemu(vmid).status.start.post()) == "OK"


def test_hotplug_on_a_running_vm(pve):
    _start(pve)
    assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).config.post(scsi1="local-lvm:1", sata1="local-lvm:1")) == "OK"
    config = _config(pve)
    assert config["scsi1"].startswith(f"local-lvm:vm-{VMID}-disk-0")  # hot-plugged
    assert "sata1" not in pve.nodes("pve1").qemu(VMID).config.get(current=1)  # never hot-plugged: pending
    pending = {row["key"]: row for row in pve.nodes("pve1").qemu(VMID).pending.get()}
    assert pending["sata1"]["pending"].startswith(f"local-lvm:vm-{VMID}-disk-1")
    assert f"local-lvm:vm-{VMID}-disk-1" in _volids(pve)  # already allocated
    # Without disk hot-plug a new scsi disk waits too; I/O limits of a plugged disk change live.
    pve.nodes("pve1").qemu(VMID).config.put(hotplug="network,usb")
    pve.nodes("pve1").qemu(VMID).config.put(scsi2="local-lvm:1")
    assert "scsi2" not in pve.nodes("pve1").qemu(VMID).config.get(current=1)
    plugged = _config(pve)["scsi1"]
    pve.nodes("pve1").qemu(VMID).config.put(scsi1=f"{plugged.split(',')[0]},iops_wr=500")
    assert "iops_wr=500" in pve.nodes("pve1").qemu(VMID).config.get(current=1)["scsi1"]
    # A delete without disk hot-plug waits for the stop, then the volume becomes unused.
    pve.nodes("pve1").qemu(VMID).config.put(delete="scsi1")
    assert "scsi1" in pve.nodes("pve1").qemu(VMID).config.get(current=1)
    assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).status.stop.post()) == "OK"
    config = _config(pve)
    assert "scsi1" not in config and config["unused0"] == f"local-lvm:vm-{VMID}-disk-0"
    assert config["sata1"].startswith(f"local-lvm:vm-{VMID}-disk-1")


def test_detach_delete_and_force(pve):
    pve.nodes("pve1").qemu(VMID).config.put(scsi1="local-lvm:1", scsi2="local-lvm:1")
    pve.nodes("pve1").qemu(VMID).config.put(delete="scsi1")
    assert _config(pve)["unused0"] == f"local-lvm:vm-{VMID}-disk-0"
    assert f"local-lvm:vm-{VMID}-disk-0" in _volids(pve)  # detached, kept
    pve.nodes("pve1").qemu(VMID).config.put(delete="unused0")  # an unused disk is always freed
    assert f"local-lvm:vm-{VMID}-disk-0" not in _volids(pve)
    pve.nodes("pve1").qemu(VMID).config.put(delete="scsi2", force=1)
    assert f"local-lvm:vm-{VMID}-disk-1" not in _volids(pve) and "unused0" not in _config(pve)
    lonely = refused(pve.nodes("pve1").qemu(VMID).config.put, force=1, cores=2)
    assert lonely.errors == {"delete": "missing property - 'force' requires this property"}


def test_a_foreign_volume_is_only_dropped_and_protection_blocks_removal(pve):
    volid = pve.nodes("pve1").storage("local-lvm").content.post(vmid=HOLDER, filename=f"vm-{HOLDER}-disk-0", size="1G")
    pve.nodes("pve1").qemu(VMID).config.put(scsi1=volid, scsi2="local-lvm:1")
    pve.nodes("pve1").qemu(VMID).config.put(delete="scsi1", force=1)
    config = _config(pve)
    assert "scsi1" not in config and not any(k.startswith("unused") for k in config)
    assert volid in _volids(pve)  # not owned: kept even with force
    pve.nodes("pve1").qemu(VMID).config.put(protection=1)
    put = refused(pve.nodes("pve1").qemu(VMID).config.put, delete="scsi2")
    assert (put.status_code, put.content) == (500, "can't remove drive 'scsi2'")
    upid = pve.nodes("pve1").qemu(VMID).config.post(delete="scsi2")
    assert exitstatus(pve, upid) == "can't remove drive 'scsi2'"


def test_unlink_is_a_synchronous_put(pve, pvesim):
    pve.nodes("pve1").qemu(VMID).config.put(scsi1="local-lvm:1", scsi2="local-lvm:1")
    assert pve.nodes("pve1").qemu(VMID).unlink.put(idlist="scsi1,scsi2") is None
    config = _config(pve)
    assert {config["unused0"], config["unused1"]} == {f"local-lvm:vm-{VMID}-disk-0", f"local-lvm:vm-{VMID}-disk-1"}
    pve.nodes("pve1").qemu(VMID).unlink.put(idlist="unused0", force=1)
    assert len(_volids(pve)) == 1
    pvesim.hold_lock(VMID, seconds=30)
    busy = refused(pve.nodes("pve1").qemu(VMID).unlink.put, idlist="unused1")
    assert (busy.status_code, busy.content) == (
        500,
        f"can't lock file '/var/lock/qemu-server/lock-{VMID}.conf' - got timeout",
    )


def test_resize_grows_only_and_within_free_space(pve):
    pve.nodes("pve1").qemu(VMID).config.put(scsi1="local-lvm:10")
    assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).resize.put(disk="scsi1", size="+2G")) == "OK"
    assert _config(pve)["scsi1"].endswith("size=12G")
    assert _volids(pve)[f"local-lvm:vm-{VMID}-disk-0"]["size"] == 12 * GIB
    shrink = pve.nodes("pve1").qemu(VMID).resize.put(disk="scsi1", size="5G")
    assert exitstatus(pve, shrink) == "shrinking disks is not supported"
    assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).resize.put(disk="scsi1", size="12G")) == "OK"  # no-op
    too_big = pve.nodes("pve1").qemu(VMID).resize.put(disk="scsi1", size="+5000G")
    assert "not enough free space" in exitstatus(pve, too_big)


def test_reassign_renames_the_volume_to_the_target(pve):
    pve.nodes("pve1").qemu(VMID).config.put(scsi1="local-lvm:4,iops_rd=100", boot="order=scsi0;scsi1")
    upid = pve.nodes("pve1").qemu(VMID).move_disk.post(disk="scsi1", **{"target-vmid": OTHER, "target-disk": "scsi3"})
    assert upid.split(":")[5:7] == ["qmmove", f"{VMID}-scsi1>{OTHER}-scsi3"]
    assert exitstatus(pve, upid) == "OK"
    assert "scsi1" not in _config(pve) and _config(pve)["boot"] == "order=scsi0"
    assert _config(pve, OTHER)["scsi3"] == f"local-lvm:vm-{OTHER}-disk-0,iops_rd=100,size=4G"
    assert set(_volids(pve)) == {f"local-lvm:vm-{OTHER}-disk-0"}
    assert any("rename volume" in line for line in task_log(pve, upid))
    # to an unused slot of the other VM and back
    upid = pve.nodes("pve1").qemu(OTHER).move_disk.post(disk="scsi3", **{"target-vmid": VMID, "target-disk": "unused0"})
    assert exitstatus(pve, upid) == "OK" and _config(pve)["unused0"] == f"local-lvm:vm-{VMID}-disk-0"


def test_reassign_checks_before_the_task(pve):
    move = pve.nodes("pve1").qemu(VMID).move_disk.post
    both = refused(move, disk="scsi0", storage="local-lvm", **{"target-vmid": OTHER})
    assert both.errors == {"storage": "either set 'storage' or 'target-vmid', but not both"}
    same = refused(move, disk="scsi0", **{"target-vmid": VMID})
    assert same.errors == {"target-vmid": "must be different than source VMID to reassign disk"}
    in_use = refused(move, disk="scsi0", **{"target-vmid": OTHER})
    assert in_use.content == f"Target disk key 'scsi0' is already in use for VM '{OTHER}'"
    missing = refused(move, disk="scsi5", **{"target-vmid": OTHER})
    assert missing.content == f"Disk 'scsi5' for VM '{VMID}' does not exist"
    stale = refused(move, disk="scsi0", digest="0" * 40, **{"target-vmid": OTHER, "target-disk": "scsi9"})
    assert stale.content == f"VM {VMID}: detected modified configuration - file changed by other user? Try again."
    _start(pve)
    running = refused(move, disk="scsi0", **{"target-vmid": OTHER, "target-disk": "scsi9"})
    assert running.content == "Cannot move disk to another VM while the source VM is running - detach first"
    templ = refused(pve.nodes("pve1").qemu(9000).move_disk.post, disk="scsi0", **{"target-vmid": OTHER})
    assert templ.content == "Can't move disks from or to template VMs"


def test_reassign_needs_both_vms_on_one_node(pve):
    clone(pve, 100702, target="gpu1", full=1)
    error = refused(pve.nodes("pve1").qemu(VMID).move_disk.post, disk="scsi0", **{"target-vmid": 100702})
    assert error.content == "Both VMs need to be on the same node (pve1 != gpu1)"


def test_a_locked_vm_refuses_reassign_in_the_request(pve, pvesim):
    pvesim.set_vm_lock(OTHER, "backup", seconds=30)
    error = refused(
        pve.nodes("pve1").qemu(VMID).move_disk.post, disk="scsi0", **{"target-vmid": OTHER, "target-disk": "scsi4"}
    )
    assert (error.status_code, error.content) == (500, "VM is locked (backup)")


def test_destroy_frees_owned_volumes_and_keeps_a_detached_foreign_one(pve):
    """What the platform relies on: a holder-owned volume survives the server's deletion."""
    holder = pve.nodes("pve1").storage("local-lvm").content.post(vmid=HOLDER, filename=f"vm-{HOLDER}-disk-0", size="8G")
    pve.nodes("pve1").qemu(VMID).config.put(scsi1=holder, scsi2="local-lvm:1", scsi3="local-lvm:1")
    pve.nodes("pve1").qemu(VMID).config.put(delete="scsi3")  # → unused0, still owned
    orphan = pve.nodes("pve1").storage("local-lvm").content.post(vmid=VMID, filename=f"vm-{VMID}-disk-9", size="1G")
    upid = pve.nodes("pve1").qemu(VMID).delete()
    assert exitstatus(pve, upid) == "OK"
    left = set(_volids(pve))
    assert holder in left and orphan in left  # another owner's volume, and an unreferenced one, survive
    assert f"local-lvm:vm-{VMID}-disk-0" not in left and f"local-lvm:vm-{VMID}-disk-1" not in left
    assert f"ceph-nvme:vm-{VMID}-disk-0" not in _volids(pve, "ceph-nvme")
    # destroy-unreferenced-disks also frees every vm-<vmid>-* image nobody references.
    pve.nodes("pve1").storage("local-lvm").content.post(vmid=OTHER, filename=f"vm-{OTHER}-disk-5", size="1G")
    upid = pve.nodes("pve1").qemu(OTHER).delete(purge=1, **{"destroy-unreferenced-disks": 1})
    assert exitstatus(pve, upid) == "OK"
    assert not any(v.startswith(f"local-lvm:vm-{OTHER}-") for v in _volids(pve))


def test_destroy_holds_only_the_destroyed_lock_while_it_runs(pve, pvesim):
    pvesim.set_task_seconds(5, "qmdestroy")
    upid = pve.nodes("pve1").qemu(VMID).delete()
    assert task(pve, upid)["status"] == "running"
    assert _config(pve) == {"lock": "destroyed", "digest": _config(pve)["digest"]}
    pvesim.finish_tasks()
    assert exitstatus(pve, upid) == "OK"


def test_a_failed_hotplug_stays_pending_and_reports_the_option(pve, pvesim):
    _start(pve)
    pvesim.fail_next_hotplug(VMID, "Duplicate ID 'drive-scsi1' for drive")
    upid = pve.nodes("pve1").qemu(VMID).config.post(scsi1="local-lvm:1")
    assert exitstatus(pve, upid) == (
        "400 Parameter verification failed. scsi1: hotplug problem - Duplicate ID 'drive-scsi1' for drive"
    )
    pending = {row["key"]: row for row in pve.nodes("pve1").qemu(VMID).pending.get()}
    assert pending["scsi1"]["pending"].startswith(f"local-lvm:vm-{VMID}-disk-0")
    assert f"local-lvm:vm-{VMID}-disk-0" in _volids(pve)  # allocated all the same
    pvesim.fail_next_hotplug(VMID, "netdev_add failed")
    put = refused(pve.nodes("pve1").qemu(VMID).config.put, net1="virtio,bridge=vmbr0")
    assert put.status_code == 400 and put.errors == {"net1": "hotplug problem - netdev_add failed"}
