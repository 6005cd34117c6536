"""Storage and volume endpoints of the simulated PVE API: storage status, image allocation and deletion
through the storage, ``unlink``, and ``move_disk`` (reassign to another VM, or move to another storage).

Behaviour follows docs/dev/proxmox-behaviour.md#volumes (#volume-allocation, #volume-ownership, #detach-disk,
#reassign-disk) and the simulator's decisions in #simulator-wave2. Routes register on import
(``apps.pvesim.server`` imports this module).
"""

from __future__ import annotations

import re
from typing import Any

from apps.pvesim.handlers import Call, ParamTaskError, _apply_update, _live, _option_exists, _task, route
from apps.pvesim.state import (
    FILE_STORAGES,
    MIB,
    PveHttpError,
    SimCluster,
    SimTask,
    SimVm,
    TaskError,
    disk_option,
    drive_volume,
    format_size,
    is_disk_key,
    param_error,
    volume_owner,
)

# Plugins whose images must be named ``vm-<vmid>-*`` (pve-storage LVM, LvmThin, ZFSPool, RBD plugins).
BLOCK_STORAGES = ("rbd", "lvm", "lvmthin", "zfspool", "iscsidirect")
# Plugins with ``rename_volume`` (reassigning a disk to another VM needs it).
RENAME_STORAGES = ("rbd", "lvm", "lvmthin", "zfspool", "dir", "nfs", "cifs", "btrfs")


@route("GET", "/nodes/{node}/storage/{storage}/status")
def storage_status(call: Call) -> Any:
    c = call.cluster
    c.node(call.node)
    spec = c.storage_spec(call.path_params["storage"], call.node)
    total = spec.size_gb * 1024**3
    used = c.storage_used(spec.name, call.node)
    return {
        "total": total,
        "used": used,
        "avail": total - used,
        "active": 1,
        "enabled": 1,
        "content": ",".join(spec.content),
        "type": spec.type,
        "shared": int(spec.shared),
    }


def _size_bytes(text: str) -> int:
    """``size`` of a content POST: KiB without a suffix, ``M``/``G`` allowed (pve-storage Content.pm)."""
    match = re.fullmatch(r"(\d+)([MG]?)", text)
    if match is None:
        raise param_error({"size": f"unable to parse size '{text}'"})
    factor = {"": 1024, "M": MIB, "G": 1024 * MIB}[match.group(2)]
    return int(match.group(1)) * factor


@route("POST", "/nodes/{node}/storage/{storage}/content")
def storage_alloc(call: Call) -> Any:
    """Allocate an image; synchronous, returns the volume id, attaches nothing, needs no existing VM."""
    c = call.cluster
    c.node(call.node)
    storage = call.path_params["storage"]
    vmid = int(call.params["vmid"])
    name = str(call.params["filename"])
    size = _size_bytes(str(call.params["size"]))
    fmt = call.params.get("format")
    suffix = re.search(r"\.(raw|qcow2|vmdk|subvol)$", name)
    if suffix:
        if fmt and fmt != suffix.group(1):
            raise param_error({"format": f"different storage formats ({fmt} != {suffix.group(1)})"})
        fmt = suffix.group(1)
    spec = c.storage_spec(storage, call.node)
    if spec.type in BLOCK_STORAGES and not name.startswith(f"vm-{vmid}-"):
        raise PveHttpError(500, f"illegal name '{name}' - should be 'vm-{vmid}-*'")
    if spec.type in FILE_STORAGES:
        if not suffix:
            raise PveHttpError(500, f"illegal name '{name}' - should be 'vm-{vmid}-*.(raw|qcow2|vmdk)'")
        name = f"{vmid}/{name}"
    if fmt and spec.type in BLOCK_STORAGES and fmt != "raw":
        raise PveHttpError(500, f"unsupported format '{fmt}'")
    vol = c.alloc_volume(storage, call.node, vmid, size, name=name, fmt=str(fmt or "raw"))
    return vol.volid


def _volid(call: Call) -> str:
    storage = call.path_params["storage"]
    volume = call.path_params["volume"]
    if ":" in volume:
        if volume.partition(":")[0] != storage:
            raise PveHttpError(500, f"volume '{volume}' is not on storage '{storage}'")
        return volume
    return f"{storage}:{volume}"


@route("GET", "/nodes/{node}/storage/{storage}/content/{volume}")
def storage_volume(call: Call) -> Any:
    c = call.cluster
    volid = _volid(call)
    c.storage_spec(volid.partition(":")[0], call.node)
    vol = c.volume(volid, call.node)
    if vol is None:
        raise PveHttpError(500, f"volume '{volid}' does not exist")
    return {"path": f"/dev/{vol.storage}/{vol.name}", "size": vol.size, "used": vol.size, "format": vol.format}


@route("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}")
def storage_free(call: Call) -> Any:
    """``imgdel`` task (id ``<owner>@<storage>``). Nothing checks whether a VM config still uses the volume
    (docs/dev/proxmox-behaviour.md#volume-ownership)."""
    c = call.cluster
    volid = _volid(call)
    storage = volid.partition(":")[0]
    c.storage_spec(storage, call.node)
    owner = volume_owner(volid)
    node = call.node

    def free(task: SimTask) -> None:
        if c.volume(volid, node) is None:
            raise TaskError(f"volume '{volid}' does not exist")
        c.free_volume(volid)
        task.log.append(f"Removed volume '{volid}'")

    upid = _task(call, "imgdel", f"{owner}@{storage}" if owner is not None else storage, effect=free)
    if "delay" in call.params:
        c.tick()
        task = c.tasks[upid]
        if task.status == "stopped":
            if task.exitstatus == "OK":
                return None
            raise PveHttpError(500, str(task.exitstatus))
    return upid


# ------------------------------------------------------------------------------------------------ unlink


@route("PUT", "/nodes/{node}/qemu/{vmid}/unlink")
def qemu_unlink(call: Call) -> Any:
    """``delete=<idlist>`` plus ``force`` through the synchronous config path
    (docs/dev/proxmox-behaviour.md#detach-disk, #lock-placement: flock in the request, failures are HTTP 500)."""
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    ids = [d for d in re.split(r"[,;\s]+", str(call.params["idlist"])) if d]
    for key in ids:
        if not _option_exists(key):
            raise param_error({"delete": f"unknown option '{key}'"})
    c.flock(vm.vmid)
    if vm.lock:
        raise PveHttpError(500, f"VM is locked ({vm.lock})")
    try:
        _apply_update(c, vm, {}, ids, force=call.flag("force"))
    except ParamTaskError as exc:
        raise param_error(exc.errors) from exc
    except TaskError as exc:
        raise PveHttpError(500, str(exc)) from exc
    return None


# --------------------------------------------------------------------------------------------- move_disk


def _reassign_checks(
    c: SimCluster, source: SimVm, target_vmid: int, disk: str, target_disk: str, params: dict[str, Any]
) -> SimVm:
    """The checks ``move_vm_disk`` runs before forking and again in the worker
    (docs/dev/proxmox-behaviour.md#reassign-disk); the messages are qemu-server's."""
    target = c.vms.get(target_vmid)
    if source.vmid not in c.vms:
        raise PveHttpError(500, f"could not find VM {source.vmid}")
    if target is None:
        raise PveHttpError(500, f"could not find target VM {target_vmid}")
    if source.node != target.node:
        raise PveHttpError(500, f"Both VMs need to be on the same node ({source.node} != {target.node})")
    for vm in (source, target):
        if vm.lock:
            raise PveHttpError(500, f"VM is locked ({vm.lock})")
    if source.template or target.template:
        raise PveHttpError(500, "Can't move disks from or to template VMs")
    for vm, key in ((source, "digest"), (target, "target-digest")):
        if params.get(key) and params[key] != vm.digest():
            raise PveHttpError(
                500, f"VM {vm.vmid}: detected modified configuration - file changed by other user? Try again."
            )
    value = source.config.get(disk)
    if value is None:
        raise PveHttpError(500, f"Disk '{disk}' for VM '{source.vmid}' does not exist")
    if target_disk in target.config:
        raise PveHttpError(500, f"Target disk key '{target_disk}' is already in use for VM '{target.vmid}'")
    if "media=cdrom" in str(value):
        raise PveHttpError(500, "CD drive contents can't be moved to another VM")
    volid = drive_volume(str(value))
    if ":" not in volid or volid.startswith("/"):
        raise PveHttpError(500, f"Volume '{volid}' not managed by PVE")
    if c.volume_in_snapshot(source, volid):
        raise PveHttpError(500, "Can't move disk used by a snapshot to another VM")
    spec = c.storage_spec(volid.partition(":")[0], source.node)
    if spec.type not in RENAME_STORAGES or volid.partition(":")[2].startswith("base-"):
        raise PveHttpError(500, "Storage does not support moving of this disk to another VM")
    if source.running and not disk.startswith("unused"):
        raise PveHttpError(500, "Cannot move disk to another VM while the source VM is running - detach first")
    return target


def _drop_from_boot(vm: SimVm, key: str) -> None:
    boot = str(vm.config.get("boot", ""))
    if boot.startswith("order="):
        order = [k for k in boot[len("order=") :].split(";") if k and k != key]
        if order:
            vm.config["boot"] = "order=" + ";".join(order)
        else:
            vm.config.pop("boot", None)


@route("POST", "/nodes/{node}/qemu/{vmid}/move_disk")
def qemu_move_disk(call: Call) -> Any:
    c = call.cluster
    source = c.vm(call.node, call.vmid)
    disk = str(call.params["disk"])
    storage = call.params.get("storage")
    target_vmid = call.params.get("target-vmid")
    if storage is not None and target_vmid is not None:
        raise param_error({"storage": "either set 'storage' or 'target-vmid', but not both"})
    if storage is None and target_vmid is None:
        raise PveHttpError(400, "both 'storage' and 'target-vmid' missing, either needs to be set")
    if target_vmid is None:
        return _move_to_storage(call, source, disk, str(storage))
    target_vmid = int(target_vmid)
    if target_vmid == source.vmid:
        raise param_error({"target-vmid": "must be different than source VMID to reassign disk"})
    target_disk = str(call.params.get("target-disk", disk))
    params = dict(call.params)
    _reassign_checks(c, source, target_vmid, disk, target_disk, params)

    def begin(task: SimTask) -> None:
        # Again in the worker, under both flocks (the source's, then the target's).
        if c._flock_held(target_vmid, exclude=task):
            raise TaskError(f"can't lock file '/var/lock/qemu-server/lock-{target_vmid}.conf' - got timeout")
        try:
            _reassign_checks(c, source, target_vmid, disk, target_disk, params)
        except PveHttpError as exc:
            raise TaskError(exc.message) from exc

    def reassign(task: SimTask) -> None:
        target = c.vms[target_vmid]
        value = str(source.config.pop(disk))
        _drop_from_boot(source, disk)
        old_volid = drive_volume(value)
        vol = c.volumes.pop(old_volid)
        vol.name = c.next_disk_name(vol.storage, source.node, target_vmid, vol.format)
        c.volumes[vol.volid] = vol
        task.log.append(f"rename volume '{old_volid}' to '{vol.volid}'")
        if target_disk.startswith("unused"):
            target.config[target_disk] = vol.volid
            return
        options = [p for p in value.split(",")[1:] if not p.startswith("size=")]
        new_value = ",".join([vol.volid, *options, f"size={format_size(vol.size)}"])
        if _live(target, target_disk, new_value):
            target.config[target_disk] = new_value
        else:
            target.pending[target_disk] = new_value

    task_id = f"{source.vmid}-{disk}>{target_vmid}-{target_disk}"
    return _task(call, "qmmove", task_id, vmid=source.vmid, effect=reassign, flock=True, on_begin=begin)


def _move_to_storage(call: Call, vm: SimVm, disk: str, storage: str) -> Any:
    """Storage move: copy the image to ``storage``; the old one becomes ``unusedN`` unless ``delete=1``."""
    c = call.cluster
    if vm.lock:
        raise PveHttpError(500, f"VM is locked ({vm.lock})")
    value = vm.config.get(disk)
    if value is None or not is_disk_key(disk):
        raise PveHttpError(500, f"disk '{disk}' does not exist")
    old_volid = drive_volume(str(value))
    if old_volid.partition(":")[0] == storage:
        raise PveHttpError(500, "you can't move to the same storage with same format")
    c.storage_spec(storage, vm.node)
    delete = call.flag("delete")

    def begin(task: SimTask) -> None:
        c.check_lock(vm)

    def move(task: SimTask) -> None:
        old = c.volume(old_volid, vm.node)
        size = old.size if old is not None else int(disk_option(str(value), "size") or 0)
        try:
            new = c.alloc_volume(storage, vm.node, vm.vmid, size)
        except PveHttpError as exc:
            raise TaskError(exc.message) from exc
        options = str(value).split(",")[1:]
        vm.config[disk] = ",".join([new.volid, *options])
        task.log.append(f"moving disk '{old_volid}' to '{new.volid}'")
        if delete or volume_owner(old_volid) != vm.vmid:
            if delete and volume_owner(old_volid) == vm.vmid:
                c.free_volume(old_volid)
        else:
            vm.config[c.next_unused_key(vm)] = old_volid

    return _task(call, "qmmove", vm.vmid, vmid=vm.vmid, effect=move, flock=True, on_begin=begin)
