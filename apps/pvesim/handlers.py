"""Endpoint handlers of the simulated PVE API (docs/dev/proxmox-behaviour.md#simulator-endpoints), with real response
shapes.

Each handler takes a ``Call`` (the cluster, path parameters, request parameters
and the calling token) and returns the ``data`` of the answer, or an
``Envelope`` when PVE adds ``total``. Errors are ``PveHttpError`` (an HTTP error
with PVE's message) or, inside a task effect, ``TaskError`` (the task's
exitstatus). Synchronous checks and task-time checks are split as PVE splits
them (docs/dev/proxmox-behaviour.md#endpoints, #sync-or-async).
"""

from __future__ import annotations

import copy
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from apps.pvesim.load import cpu_load
from apps.pvesim.netstate import bridge_error, ipam_dhcp, ipam_forget_vm, sdn_state
from apps.pvesim.schema import _expand_indexed, _schema_for, load_schema
from apps.pvesim.state import (
    CLOUDINIT_KEYS,
    FILE_STORAGES,
    GIB,
    MIB,
    PveHttpError,
    SimCluster,
    SimMapping,
    SimTask,
    SimVm,
    TaskError,
    disk_option,
    drive_volume,
    format_size,
    is_disk_key,
    param_error,
    parse_size,
    random_mac,
    volume_owner,
)
from apps.pvesim.vnc import TICKET_SECONDS, VncGrant, grant_register

PVE_VERSION = {"version": "8.4.1", "release": "8.4", "repoid": "2a5fa54a"}
# Parameters of POST/PUT config that are not VM options.
CONFIG_CONTROL = {"node", "vmid", "delete", "digest", "skiplock", "force", "background_delay", "revert"}
# Options a running VM cannot take at once: they wait in ``pending`` until the next start
# (docs/dev/proxmox-behaviour.md#vm-config).
NOT_HOTPLUG = ("hostpci", "machine", "bios", "cpu", "cores", "sockets", "memory", "efidisk", "vga", "ostype", "args")
SSH_KEY_RE = re.compile(
    r"^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) \S+"
)


@dataclass
class Call:
    cluster: SimCluster
    method: str
    path: str
    path_params: dict[str, str]
    params: dict[str, Any]
    token: str  # "portal@pve!celery"

    @property
    def node(self) -> str:
        return self.path_params["node"]

    @property
    def vmid(self) -> int:
        return int(self.path_params["vmid"])

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        return str(value).lower() in ("1", "true", "on", "yes")


@dataclass
class Envelope:
    data: Any
    total: int | None = None


Handler = Callable[[Call], Any]
ROUTES: dict[tuple[str, str], Handler] = {}


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        ROUTES[(method, template)] = func
        return func

    return register


_TEMPLATE_RES: list[tuple[str, str, re.Pattern[str]]] = []


def match_route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """Match a path against the handled templates (used when the schema file is absent)."""
    if not _TEMPLATE_RES:
        compiled = []
        for m, template in ROUTES:
            pattern = re.sub(
                r"\\\{([a-z_-]+)\\\}", lambda g: f"(?P<{g.group(1).replace('-', '_')}>[^/]+)", re.escape(template)
            )
            compiled.append((m, template, re.compile(f"^{pattern}$")))
        _TEMPLATE_RES[:] = compiled
    candidates = []
    for m, template, regex in _TEMPLATE_RES:
        match = regex.match(path.rstrip("/") or "/")
        if match and m == method:
            candidates.append((template.count("{"), template, {k: unquote(v) for k, v in match.groupdict().items()}))
    if not candidates:
        return None
    _, template, params = min(candidates)
    return template, params


def _task(call: Call, task_type: str, task_id: Any, **kwargs: Any) -> str:
    task = call.cluster.start_task(
        node=call.node, task_type=task_type, task_id=str(task_id), token=call.token, **kwargs
    )
    return task.upid


# ----------------------------------------------------------------- discovery


@route("GET", "/version")
def version(call: Call) -> Any:
    return dict(PVE_VERSION)


@route("GET", "/cluster/status")
def cluster_status(call: Call) -> Any:
    c = call.cluster
    online = sum(1 for n in c.nodes.values() if n.online)
    rows: list[dict[str, Any]] = [
        {
            "type": "cluster",
            "id": "cluster",
            "name": c.name,
            "nodes": len(c.nodes),
            "quorate": int(online * 2 > len(c.nodes)),
            "version": 7,
        }
    ]
    for index, node in enumerate(c.nodes.values(), start=1):
        rows.append(
            {
                "type": "node",
                "id": f"node/{node.name}",
                "name": node.name,
                "nodeid": index,
                "ip": node.spec.ip or f"10.0.{index // 250}.{index % 250 + 1}",
                "local": int(index == 1),
                "online": int(node.online),
                "level": "",
            }
        )
    return rows


def _vm_row(c: SimCluster, vm: SimVm, *, cluster_view: bool = True) -> dict[str, Any]:
    node = c.nodes[vm.node]
    node_online = node.online
    if cluster_view and (not node.online or node.stale):
        # No fresh pvestatd data from the node: the row has only what the cluster config knows, with
        # status "unknown" (pve-manager API2Tools extract_vm_stats; docs/dev/proxmox-behaviour.md#status-unknown).
        bare: dict[str, Any] = {
            "id": f"qemu/{vm.vmid}",
            "type": "qemu",
            "vmid": vm.vmid,
            "node": vm.node,
            "status": "unknown",
        }
        if vm.config.get("lock"):
            bare["lock"] = vm.config["lock"]
        if vm.pool:
            bare["pool"] = vm.pool
        return bare
    row: dict[str, Any] = {
        "id": f"qemu/{vm.vmid}",
        "type": "qemu",
        "vmid": vm.vmid,
        "name": vm.config.get("name", f"VM {vm.vmid}"),
        "node": vm.node,
        "status": ("running" if vm.running else "stopped") if node_online else "unknown",
        "template": int(vm.template),
        "cpu": 0.02 if vm.running else 0,
        "maxcpu": int(vm.config.get("cores", 1)) * int(vm.config.get("sockets", 1)),
        "mem": vm.memory_mb() * MIB // 3 if vm.running else 0,
        "maxmem": vm.memory_mb() * MIB,
        "disk": 0,
        "maxdisk": vm.disk_size_bytes(),
        "netin": 0,
        "netout": 0,
        "diskread": 0,
        "diskwrite": 0,
        "uptime": int(time.time() - vm.started_at) if vm.running else 0,
    }
    for key in ("lock", "tags"):
        if vm.config.get(key):
            row[key] = vm.config[key]
    if vm.pool:
        row["pool"] = vm.pool
    return row


def _storage_rows(c: SimCluster, node_name: str) -> list[dict[str, Any]]:
    rows = []
    for storage in c.spec.storages:
        if storage.nodes is not None and node_name not in storage.nodes:
            continue
        used = c.storage_used(storage.name, node_name)
        total = storage.size_gb * GIB
        rows.append(
            {
                "storage": storage.name,
                "type": storage.type,
                "content": ",".join(storage.content),
                "shared": int(storage.shared),
                "total": total,
                "used": used,
                "avail": total - used,
                "used_fraction": round(used / total, 6) if total else 0,
                "active": 1,
                "enabled": 1,
            }
        )
    return rows


@route("GET", "/cluster/resources")
def cluster_resources(call: Call) -> Any:
    c = call.cluster
    kind = call.params.get("type")
    rows: list[dict[str, Any]] = []
    if kind in (None, "node"):
        for node in c.nodes.values():
            rows.append(
                {
                    "id": f"node/{node.name}",
                    "type": "node",
                    "node": node.name,
                    "status": _node_status(node),
                    "cpu": 0.05 if node.online else 0,
                    "maxcpu": node.spec.cpus,
                    "mem": _node_mem_used(c, node.name) if node.online else 0,
                    "maxmem": node.spec.memory_gb * GIB,
                    "disk": 2983723008,
                    "maxdisk": 482713534464,
                    "uptime": int(time.time() - node.boot_time) if node.online else 0,
                    "level": "",
                    "cgroup-mode": 2,
                }
            )
    if kind in (None, "vm"):
        rows.extend(_vm_row(c, vm) for vm in sorted(c.vms.values(), key=lambda v: v.vmid))
    if kind in (None, "sdn"):
        # One row per zone a node's last network reload put in place (docs/dev/proxmox-behaviour.md#sdn-apply).
        state = sdn_state(c)
        for node in c.nodes.values():
            for zone in sorted((state.on_node.get(node.name) or {"zones": {}})["zones"]):
                rows.append(
                    {
                        "id": f"sdn/{node.name}/{zone}",
                        "type": "sdn",
                        "sdn": zone,
                        "node": node.name,
                        "status": "ok" if node.online else "unknown",
                    }
                )
    if kind in (None, "storage"):
        for node in c.nodes.values():
            for s in _storage_rows(c, node.name):
                rows.append(
                    {
                        "id": f"storage/{node.name}/{s['storage']}",
                        "type": "storage",
                        "storage": s["storage"],
                        "node": node.name,
                        "status": "available" if node.online else "unknown",
                        "plugintype": s["type"],
                        "content": s["content"],
                        "shared": s["shared"],
                        "disk": s["used"],
                        "maxdisk": s["total"],
                    }
                )
    return rows


def _node_status(node: Any) -> str:
    """``offline`` when corosync lost it; ``unknown`` when it is a member but its pvestatd is silent."""
    if not node.online:
        return "offline"
    return "unknown" if node.stale else "online"


def _node_mem_used(c: SimCluster, node: str) -> int:
    base = 6 * GIB
    return base + sum(vm.memory_mb() * MIB for vm in c.vms.values() if vm.node == node and vm.running)


@route("GET", "/cluster/nextid")
def cluster_nextid(call: Call) -> Any:
    c = call.cluster
    if "vmid" in call.params:
        vmid = int(call.params["vmid"])
        if vmid in c.vms:
            raise param_error({"vmid": f"VM {vmid} already exists"})
        return str(vmid)  # a string, as real servers answer (docs/dev/proxmox-behaviour.md#return-types)
    return str(c.next_free_vmid())


def _task_row(task: SimTask) -> dict[str, Any]:
    row = {k: v for k, v in task.as_status().items() if k != "exitstatus"}
    if task.status == "stopped":
        row["status"] = task.exitstatus
        row["endtime"] = task.endtime
    else:
        row.pop("status")
    return row


@route("GET", "/cluster/tasks")
def cluster_tasks(call: Call) -> Any:
    tasks = list(call.cluster.tasks.values())[-50:]
    return [_task_row(t) for t in reversed(tasks)]


@route("GET", "/nodes")
def nodes(call: Call) -> Any:
    c = call.cluster
    rows = []
    for node in c.nodes.values():
        row: dict[str, Any] = {
            "node": node.name,
            "status": _node_status(node),
            "id": f"node/{node.name}",
            "type": "node",
            "ssl_fingerprint": ":".join(f"{b:02X}" for b in node.name.encode().ljust(32, b"\0")[:32]),
        }
        if node.online:
            row.update(
                {
                    "cpu": 0.05,
                    "maxcpu": node.spec.cpus,
                    "mem": _node_mem_used(c, node.name),
                    "maxmem": node.spec.memory_gb * GIB,
                    "uptime": int(time.time() - node.boot_time),
                    "level": "",
                    "disk": 2983723008,
                    "maxdisk": 482713534464,
                }
            )
        rows.append(row)
    return rows


@route("GET", "/nodes/{node}/status")
def node_status(call: Call) -> Any:
    c = call.cluster
    node = c.node(call.node)
    spec = node.spec
    total = spec.memory_gb * GIB
    used = _node_mem_used(c, node.name)
    return {
        "cpu": 0.05,
        "wait": 0.0,
        "idle": 0,
        "uptime": int(time.time() - node.boot_time),
        "loadavg": ["0.15", "0.25", "0.30"],
        "memory": {"total": total, "used": used, "free": total - used},
        "swap": {"total": 8 * GIB, "used": 0, "free": 8 * GIB},
        "rootfs": {"total": 482713534464, "used": 2983723008, "avail": 479729811456, "free": 479729811456},
        "ksm": {"shared": 0},
        "cpuinfo": {
            "model": spec.cpu_model,
            "cores": spec.cores,
            "cpus": spec.cpus,
            "sockets": spec.sockets,
            "mhz": "2800.000",
            "hvm": "1",
            "flags": "fpu vme de pse tsc msr pae mce cx8 apic sep svm",
            "user_hz": 100,
        },
        "kversion": "Linux 6.8.12-9-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-9",
        "pveversion": "pve-manager/8.4.1/2a5fa54a8503f96d",
        "current-kernel": {"sysname": "Linux", "release": "6.8.12-9-pve", "version": "#1 SMP", "machine": "x86_64"},
        "boot-info": {"mode": "efi", "secureboot": 0},
    }


def _timeframe_step(timeframe: str) -> int:
    return {"hour": 60, "day": 1800, "week": 10800, "month": 43200, "year": 604800}.get(timeframe, 60)


@route("GET", "/nodes/{node}/rrddata")
def node_rrddata(call: Call) -> Any:
    node = call.cluster.node(call.node)
    step = _timeframe_step(str(call.params.get("timeframe", "hour")))
    now = int(time.time()) // step * step
    total = node.spec.memory_gb * GIB
    return [
        {
            "time": now - (69 - i) * step,
            "loadavg": round(0.3 + 0.2 * math.sin(i / 7), 3),
            "maxcpu": node.spec.cpus,
            "cpu": round(0.05 + 0.03 * math.sin(i / 5), 4),
            "iowait": 0.001,
            "memtotal": total,
            "memused": _node_mem_used(call.cluster, node.name),
            "swaptotal": 8 * GIB,
            "swapused": 0,
            "roottotal": 482713534464,
            "rootused": 2983723008,
            "netin": 1200.0 + 100 * i,
            "netout": 800.0 + 50 * i,
        }
        for i in range(70)
    ]


@route("GET", "/nodes/{node}/storage")
def node_storage(call: Call) -> Any:
    call.cluster.node(call.node)
    rows = _storage_rows(call.cluster, call.node)
    wanted = {c for c in re.split(r"[,;\s]+", str(call.params.get("content", ""))) if c}
    if wanted:
        rows = [r for r in rows if wanted & set(str(r["content"]).split(","))]
    if "storage" in call.params:
        rows = [r for r in rows if r["storage"] == call.params["storage"]]
    return rows


@route("GET", "/nodes/{node}/storage/{storage}/content")
def node_storage_content(call: Call) -> Any:
    """The volumes the node sees on a storage (pve-storage ``API2/Storage/Content.pm`` ``index``)."""
    c = call.cluster
    c.node(call.node)
    name = call.path_params["storage"]
    spec = c.storage_spec(name, call.node)
    wanted = call.params.get("content")
    vmid_filter = int(call.params["vmid"]) if "vmid" in call.params else None
    rows: list[dict[str, Any]] = []
    if "images" in spec.content and wanted in (None, "images"):
        scope = None if spec.shared else call.node
        for vol in sorted(c.volumes.values(), key=lambda v: v.name):
            if vol.storage != name or vol.node != scope:
                continue
            if vmid_filter is not None and vol.owner != vmid_filter:
                continue
            row: dict[str, Any] = {
                "volid": vol.volid,
                "format": vol.format,
                "size": vol.size,
                "used": vol.size if spec.type in FILE_STORAGES else 0,
                "content": "images",
                "ctime": vol.ctime,
            }
            if vol.owner is not None:
                row["vmid"] = vol.owner
            rows.append(row)
    if "snippets" in spec.content and wanted in (None, "snippets") and spec.path and vmid_filter is None:
        folder = Path(spec.path) / "snippets"
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.is_file():
                stat = path.stat()
                rows.append(
                    {
                        "volid": f"{name}:snippets/{path.name}",
                        "format": "snippet",
                        "size": stat.st_size,
                        "content": "snippets",
                        "ctime": int(stat.st_mtime),
                    }
                )
    return rows


@route("GET", "/nodes/{node}/hardware/pci")
def node_pci(call: Call) -> Any:
    node = call.cluster.node(call.node)
    rows: list[dict[str, Any]] = [
        {
            "id": "0000:00:14.0",
            "class": "0x0c0330",
            "vendor": "0x1022",
            "device": "0x148c",
            "vendor_name": "Advanced Micro Devices, Inc. [AMD]",
            "device_name": "Starship USB 3.0 Host Controller",
            "iommugroup": 3,
            "subsystem_vendor": "0x1022",
            "subsystem_device": "0x148c",
        },
        {
            "id": "0000:c1:00.0",
            "class": "0x020000",
            "vendor": "0x8086",
            "device": "0x1593",
            "vendor_name": "Intel Corporation",
            "device_name": "Ethernet Controller E810-C for SFP",
            "iommugroup": 8,
            "subsystem_vendor": "0x8086",
            "subsystem_device": "0x0002",
        },
    ]
    for gpu in node.gpus:
        if not gpu.present:
            continue
        for func in gpu.functions():
            vendor, device = func.vendor_device.split(":")
            rows.append(
                {
                    "id": func.id,
                    "class": func.pci_class,
                    "vendor": f"0x{vendor}",
                    "vendor_name": "NVIDIA Corporation",
                    "device": f"0x{device}",
                    "device_name": func.name,
                    "subsystem_vendor": f"0x{vendor}",
                    "subsystem_device": "0x1533",
                    "iommugroup": func.iommugroup,
                }
            )
    return sorted(rows, key=lambda r: r["id"])


# ----------------------------------------------------------------- PCI mappings


def _parse_map(entry: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in entry.split(",") if part)


def _map_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@route("GET", "/cluster/mapping/pci")
def mapping_list(call: Call) -> Any:
    check_node = call.params.get("check-node")
    rows = []
    for mapping in call.cluster.mappings.values():
        row: dict[str, Any] = {"id": mapping.id, "description": mapping.description, "map": mapping.map_strings()}
        if check_node:
            checks = []
            if not any(e["node"] == check_node for e in mapping.entries):
                checks.append({"severity": "warning", "message": f"No mapping for node '{check_node}'"})
            for entry in mapping.entries:
                if entry["node"] == check_node:
                    gpu = call.cluster.gpu_by_path(check_node, entry["path"])
                    if gpu is None or not gpu.present:
                        checks.append({"severity": "error", "message": f"pci device '{entry['path']}' not found"})
            row["checks"] = checks
        rows.append(row)
    return rows


@route("POST", "/cluster/mapping/pci")
def mapping_create(call: Call) -> Any:
    mapping_id = str(call.params["id"])
    if mapping_id in call.cluster.mappings:
        raise PveHttpError(500, f"pci ID '{mapping_id}' already defined")
    call.cluster.mappings[mapping_id] = SimMapping(
        id=mapping_id,
        description=str(call.params.get("description", "")),
        entries=[_parse_map(e) for e in _map_list(call.params.get("map"))],
    )
    return None


def _mapping(call: Call) -> Any:
    mapping = call.cluster.mappings.get(call.path_params["id"])
    if mapping is None:
        raise PveHttpError(500, f"PCI mapping '{call.path_params['id']}' does not exist")
    return mapping


@route("GET", "/cluster/mapping/pci/{id}")
def mapping_get(call: Call) -> Any:
    mapping = _mapping(call)
    return {"id": mapping.id, "description": mapping.description, "map": mapping.map_strings(), "digest": "0" * 40}


@route("PUT", "/cluster/mapping/pci/{id}")
def mapping_update(call: Call) -> Any:
    mapping = _mapping(call)
    if "map" in call.params:
        mapping.entries = [_parse_map(e) for e in _map_list(call.params["map"])]
    if "description" in call.params:
        mapping.description = str(call.params["description"])
    return None


@route("DELETE", "/cluster/mapping/pci/{id}")
def mapping_delete(call: Call) -> Any:
    mapping = _mapping(call)
    del call.cluster.mappings[mapping.id]
    return None


# ----------------------------------------------------------------------- pools


@route("GET", "/pools")
def pools(call: Call) -> Any:
    return [{"poolid": name} for name in sorted(call.cluster.pools)]


@route("POST", "/pools")
def pool_create(call: Call) -> Any:
    poolid = str(call.params["poolid"])
    if poolid in call.cluster.pools:
        raise PveHttpError(500, f"create pool failed: pool '{poolid}' already exists")
    call.cluster.pools[poolid] = set()
    return None


# ------------------------------------------------------------------------- VMs


@route("GET", "/nodes/{node}/qemu")
def qemu_list(call: Call) -> Any:
    c = call.cluster
    c.node(call.node)
    rows = []
    for vm in sorted(c.vms.values(), key=lambda v: v.vmid):
        if vm.node != call.node:
            continue
        row = {
            k: v for k, v in _vm_row(c, vm, cluster_view=False).items() if k not in ("id", "type", "node", "template")
        }
        row["cpus"] = row.pop("maxcpu")
        if vm.template:
            row["template"] = 1
        if vm.running:
            row["pid"] = vm.pid
        rows.append(row)
    return rows


def _check_root_only(call: Call, *names: str) -> None:
    for name in names:
        if name in call.params:
            # Tokens are never root@pam (docs/dev/proxmox-behaviour.md#authentication).
            raise param_error({name: "Only root may use this option."})


@route("POST", "/nodes/{node}/qemu/{vmid}/clone")
def qemu_clone(call: Call) -> Any:
    c = call.cluster
    source = c.vm(call.node, call.vmid)
    newid = int(call.params["newid"])
    full = call.flag("full", default=not source.template)
    storage = call.params.get("storage")
    target = str(call.params.get("target", call.node))
    pool = call.params.get("pool")
    if pool is not None and pool not in c.pools:
        raise PveHttpError(500, f"pool '{pool}' does not exist")
    c.node(target)
    if not c.nodes[target].online:
        raise PveHttpError(500, f"target node '{target}' is not online")
    specs = {s.name: s for s in c.spec.storages}
    if storage is not None:
        if not full:
            raise PveHttpError(500, "parameter 'storage' not allowed for linked clones")
        if storage not in specs:
            raise PveHttpError(500, f"storage '{storage}' does not exist")
        if "images" not in specs[storage].content:
            raise param_error({"storage": f"storage '{storage}' does not support vm images"})
    disks = {k: str(v) for k, v in source.config.items() if is_disk_key(k) and "media=cdrom" not in str(v)}
    if target != call.node:
        for value in disks.values():
            spec = specs.get(value.split(":")[0])
            if spec is None or not spec.shared or (storage and not specs[storage].shared):
                raise PveHttpError(500, f"can't clone VM to node '{target}' (VM uses local storage)")
    if source.lock:
        raise PveHttpError(500, f"VM is locked ({source.lock})")
    if newid in c.vms:
        raise PveHttpError(500, f"unable to create VM {newid}: config file already exists")
    if not source.template:
        # a running or stopped VM source is locked; a template is shared (docs/dev/proxmox-behaviour.md#clone)
        c.flock(source.vmid)

    config: dict[str, Any] = {}
    log = []
    for key, value in source.config.items():
        if key in ("template", "lock", "digest"):
            continue
        value_s = str(value)
        if is_disk_key(key) or key.startswith("ide"):
            volume, _, rest = value_s.partition(",")
            src_storage, _, volname = volume.partition(":")
            dst_storage = storage or src_storage
            if "cloudinit" in volname:
                value = f"{dst_storage}:vm-{newid}-cloudinit,{rest}"
            else:
                index = len([k for k in config if is_disk_key(k)])
                value = f"{dst_storage}:vm-{newid}-disk-{index},{rest}"
                size = disk_option(value_s, "size") or "0"
                mode = "full" if full else "linked"
                log.append(f"create {mode} clone of drive {key} ({volume})")
                log.append(f"transferred 0.0 B of {size} (0.00%)")
                log.append(f"transferred {size} of {size} (100.00%)")
        elif key.startswith("net"):
            parts = value_s.split(",")
            model = parts[0].partition("=")[0]
            value = ",".join([f"{model}={random_mac(c.rng)}", *parts[1:]])
        config[key] = value
    config["name"] = call.params.get("name") or f"Copy-of-VM-{source.config.get('name', source.vmid)}"
    if "description" in call.params:
        config["description"] = call.params["description"]
    config["smbios1"] = f"uuid={c._uuid()}"
    config["vmgenid"] = c._uuid()
    config["lock"] = "clone"
    vm = SimVm(vmid=newid, node=call.node, config=config)
    c.vms[newid] = vm
    created: list[str] = []

    def finish(task: SimTask) -> None:
        vm.config.pop("lock", None)
        vm.node = target
        # The copies exist once the clone is done (docs/dev/proxmox-behaviour.md#volumes); a full storage fails it.
        for key, value in list(vm.config.items()):
            if not is_disk_key(key) or ("media=cdrom" in str(value) and "cloudinit" not in str(value)):
                continue
            volid = drive_volume(str(value))
            size = 4 * MIB if "cloudinit" in volid else parse_size(disk_option(str(value), "size") or "0")
            try:
                c.check_space(volid.partition(":")[0], target, size)
            except PveHttpError as exc:
                raise TaskError(exc.message) from exc
            created.append(c.register_volume(volid, node=target, size=size).volid)
        if c.firewall is not None and source.vmid in c.firewall.vms:
            # The clone gets a copy of the source's firewall config (qemu-server clone_vm: clone_vmfw_conf).
            c.firewall.vms[newid] = copy.deepcopy(c.firewall.vms[source.vmid])
        if pool:
            c.pools[str(pool)].add(newid)
            vm.pool = str(pool)

    def failed(task: SimTask) -> None:
        c.vms.pop(newid, None)
        for volid in created:
            c.free_volume(volid)
        task.log.append(f"clone failed: {task.exitstatus}")

    return _task(call, "qmclone", source.vmid, vmid=newid, effect=finish, on_fail=failed, log=log)


def _config_view(vm: SimVm, *, current: bool) -> dict[str, Any]:
    config = dict(vm.config)
    if not current:
        config.update(vm.pending)
        for key in vm.pending_delete:
            config.pop(key, None)
    config["digest"] = vm.digest()
    return config


@route("GET", "/nodes/{node}/qemu/{vmid}/config")
def qemu_config_get(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    snapname = call.params.get("snapshot")
    if snapname:
        snap = vm.snapshots.get(str(snapname))
        if snap is None:
            raise PveHttpError(500, f"snapshot '{snapname}' does not exist")
        return dict(snap["config"])
    return _config_view(vm, current=call.flag("current"))


@route("GET", "/nodes/{node}/qemu/{vmid}/pending")
def qemu_pending(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    rows = []
    for key in sorted(set(vm.config) | set(vm.pending) | vm.pending_delete):
        row: dict[str, Any] = {"key": key}
        if key in vm.config:
            row["value"] = vm.config[key]
        if key in vm.pending:
            row["pending"] = vm.pending[key]
        if key in vm.pending_delete:
            row["delete"] = 1
        rows.append(row)
    return rows


def _prepare_update(call: Call, vm: SimVm) -> tuple[dict[str, Any], list[str]]:
    """The synchronous part of ``$update_vm_api`` (docs/dev/proxmox-behaviour.md#vm-config): checks before the worker
    starts."""
    _check_root_only(call, "skiplock")
    options = {k: v for k, v in call.params.items() if k not in CONFIG_CONTROL}
    delete = [d for d in re.split(r"[,;\s]+", str(call.params.get("delete", ""))) if d]
    if not options and not delete and not call.params.get("revert"):
        raise PveHttpError(500, "no options specified")
    for key in delete:
        if key in options:
            raise param_error({"delete": f"you can't use '-{key}' and -delete {key}' at the same time"})
        if not _option_exists(key):
            raise param_error({"delete": f"unknown option '{key}'"})
    for key, value in options.items():
        if is_disk_key(key) and not _drive_options_ok(str(value)):
            # parse_drive returns undef (docs/dev/proxmox-behaviour.md#io-limits).
            raise param_error({key: "unable to parse drive options"})
        if key.startswith("net") and key[3:].isdigit():
            problem = bridge_error(call.cluster, vm.node, _net_options(str(value)))
            if problem:
                raise param_error({key: problem})
    if "sshkeys" in options:
        decoded = unquote(str(options["sshkeys"]))
        for line in decoded.splitlines():
            if line.strip() and not SSH_KEY_RE.match(line.strip()):
                raise PveHttpError(500, "SSH public key validation error")
    call.cluster.flock(vm.vmid)
    digest = call.params.get("digest")
    if digest and digest != vm.digest():
        raise PveHttpError(500, "checksum mismatch (file change by other user?)")
    if vm.lock:
        raise PveHttpError(500, f"VM is locked ({vm.lock})")
    if "balloon" in options and int(options["balloon"]) > int(str(options.get("memory", vm.memory_mb()))):
        raise PveHttpError(500, "balloon value too large (must be smaller than assigned memory)")
    return options, delete


def _option_exists(key: str) -> bool:
    """``PVE::QemuServer::option_exists``: a VM option PVE knows (from the schema; anything without it)."""
    schema = load_schema()
    route = schema.route("POST", "/nodes/n/qemu/100/config") if schema else None
    if route is None or route.info is None:
        return True
    properties = route.info.get("parameters", {}).get("properties", {})
    plain, indexed = _expand_indexed(properties)
    return key not in CONFIG_CONTROL and _schema_for(key, plain, indexed) is not None


class ParamTaskError(TaskError):
    """``raise_param_exc`` in the worker: a task error for POST, a 400 for the synchronous PUT."""

    def __init__(self, errors: dict[str, str]) -> None:
        # How a PVE::Exception with errors reads as a task's exitstatus (code, message, errors; one line).
        super().__init__("400 Parameter verification failed. " + " ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# Throttle keys that exclude each other or need a base (qemu-server Drive.pm ``parse_drive``).
_THROTTLE_GROUPS = (("mbps", "mbps_rd", "mbps_wr"), ("iops", "iops_rd", "iops_wr"), ("bps", "bps_rd", "bps_wr"))


def _drive_options_ok(value: str) -> bool:
    keys = {part.partition("=")[0] for part in value.split(",")[1:] if "=" in part}
    if re.fullmatch(r"[^/:\s]+:0+(\.0+)?", drive_volume(value)) and "import-from" not in keys:
        return False  # ``<storage>:0`` only means something with import-from

    for total, read, write in _THROTTLE_GROUPS:
        for suffix in ("", "_max"):
            if f"{total}{suffix}" in keys and ({f"{read}{suffix}", f"{write}{suffix}"} & keys):
                return False
    for key in keys:
        if key.endswith("_max") and key[: -len("_max")] not in keys:
            return False
        if key.endswith("_max_length"):
            base = key[: -len("_length")]
            burst = {"bps_max": "mbps_max", "bps_rd_max": "mbps_rd_max", "bps_wr_max": "mbps_wr_max"}.get(base, base)
            if burst not in keys and base not in keys:
                return False
    return True


def _net_options(value: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for index, part in enumerate(value.split(",")):
        key, sep, val = part.partition("=")
        if index == 0 and (not sep or key in _NIC_MODELS):
            options["model"] = key
            if sep:
                options["macaddr"] = val
            continue
        options[key] = val
    return options


_NIC_MODELS = (
    "virtio",
    "e1000",
    "e1000e",
    "rtl8139",
    "vmxnet3",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
)


def _hotplug(vm: SimVm) -> set[str]:
    value = str(vm.config.get("hotplug", "network,disk,usb"))
    if value == "1":
        value = "network,disk,usb"
    return {item for item in value.split(",") if item and item != "0"}


def _live(vm: SimVm, key: str, value: Any = None) -> bool:
    """Whether a change of ``key`` applies now on a running VM or waits in ``pending``
    (docs/dev/proxmox-behaviour.md#hotplug)."""
    if not vm.running:
        return True
    if is_disk_key(key):
        old = vm.config.get(key)
        if old is not None and value is not None and drive_volume(str(old)) == drive_volume(str(value)):
            return True  # only options such as I/O limits change: applied live
        return key.startswith(("scsi", "virtio")) and "disk" in _hotplug(vm)
    if key.startswith("unused"):
        return True
    if key.startswith("net") and key[3:].isdigit():
        old = vm.config.get(key)
        if old is not None and value is not None:
            before, after = _net_options(str(old)), _net_options(str(value))
            if all(before.get(k) == after.get(k) for k in ("model", "macaddr", "queues", "mtu")):
                return True  # bridge, tag, firewall, rate: the tap is re-plugged live
        return "network" in _hotplug(vm)
    return not key.startswith(NOT_HOTPLUG)


def _is_new_device(vm: SimVm, key: str, value: Any) -> bool:
    """A disk or NIC that a running VM gets through QEMU hot-plug (not a live option change)."""
    if not (is_disk_key(key) or (key.startswith("net") and key[3:].isdigit())):
        return False
    old = vm.config.get(key)
    if old is None:
        return True
    if is_disk_key(key):
        return drive_volume(str(old)) != drive_volume(str(value))
    before, after = _net_options(str(old)), _net_options(str(value))
    return any(before.get(k) != after.get(k) for k in ("model", "macaddr", "queues", "mtu"))


def _allocate_drives(c: SimCluster, vm: SimVm, options: dict[str, Any], allocated: list[str]) -> None:
    """``create_disks``: allocate ``<storage>:<GiB>`` volumes and check named volumes exist
    (docs/dev/proxmox-behaviour.md#volume-allocation)."""
    for key, value in list(options.items()):
        text = str(value)
        if not is_disk_key(key) or ("media=cdrom" in text and ":cloudinit" not in text):
            continue
        volume = drive_volume(text)
        rest = [p for p in text.split(",")[1:] if not p.startswith("size=")]
        new_size = re.fullmatch(r"([^/:\s]+):(\d+(?:\.\d+)?)", volume)
        try:
            if new_size or volume.endswith(":cloudinit"):
                storage = volume.partition(":")[0]
                if volume.endswith(":cloudinit"):
                    size, name = 4 * MIB, f"vm-{vm.vmid}-cloudinit"
                elif key in ("efidisk0", "tpmstate0"):
                    size, name = 4 * MIB, None  # the size is ignored: the OVMF vars template is copied
                else:
                    size, name = int(float(new_size.group(2)) * GIB) if new_size else 0, None
                vol = c.alloc_volume(storage, vm.node, vm.vmid, size, name=name)
                allocated.append(vol.volid)
                options[key] = ",".join([vol.volid, *rest, f"size={format_size(size)}"])
            elif ":" in volume and not volume.startswith("/"):
                c.storage_spec(volume.partition(":")[0], vm.node)
                found = c.volume(volume, vm.node)
                if found is None:
                    raise PveHttpError(500, f"volume '{volume}' does not exist")
                user = _volume_user(c, volume, vm, key)
                if user is not None and "cloudinit" not in volume:
                    # Proxmox may not refuse this (unverified); the simulator does, so a platform that attaches
                    # one volume twice fails in tests (docs/dev/proxmox-behaviour.md#simulator-wave2).
                    raise PveHttpError(500, f"volume '{volume}' is already in use by VM {user}")
                if "cloudinit" not in volume:
                    options[key] = ",".join([volume, *rest, f"size={format_size(found.size)}"])
        except PveHttpError as exc:
            for volid in allocated:  # an allocation failure writes nothing
                c.free_volume(volid)
            raise TaskError(exc.message) from exc


def _volume_user(c: SimCluster, volid: str, vm: SimVm, key: str) -> int | None:
    """Another VM (or another key of this one) whose config, pending changes or snapshots name ``volid``."""
    for other in c.vms.values():
        for other_key, value in {**other.config, **other.pending}.items():
            if other is vm and (other_key == key or other_key.startswith("unused")):
                continue  # re-attaching this VM's own unused disk is how the GUI does it
            if (is_disk_key(other_key) or other_key.startswith("unused")) and drive_volume(str(value)) == volid:
                return other.vmid
    return None


def _apply_update(
    c: SimCluster,
    vm: SimVm,
    options: dict[str, Any],
    delete: list[str],
    task: SimTask | None = None,
    *,
    force: bool = False,
) -> None:
    for key, value in options.items():
        if key.startswith("hostpci") and "mapping=" not in str(value):
            # check_hostpci_perm: tokens are never root@pam (docs/dev/proxmox-behaviour.md#hostpci).
            raise TaskError(f"only root can set '{key}' config for non-mapped devices")
        if key.startswith("hostpci") and any(p.startswith("romfile=") for p in str(value).split(",")):
            raise ParamTaskError({key: "only root@pam can set 'romfile' option"})
    for key in list(delete):
        if key not in vm.config and key not in vm.pending:
            # update_vm_api: a ``warn`` (not log_warn), so the task still ends OK.
            if task is not None:
                task.log.append(f"cannot delete '{key}' - not set in current configuration!")
            delete.remove(key)
    protected = str(vm.config.get("protection", "0")) == "1"
    for key in delete:
        # check_protection (docs/dev/proxmox-behaviour.md#detach-disk).
        if protected and key.startswith("unused"):
            raise TaskError(f"can't remove unused disk '{drive_volume(str(vm.config.get(key, '')))}'")
        if protected and is_disk_key(key):
            raise TaskError(f"can't remove drive '{key}'")
    for key, value in list(options.items()):
        if key.startswith("net") and key[3:].isdigit():
            parts = str(value).split(",")
            if "=" not in parts[0] and not any(p.startswith("macaddr=") for p in parts):
                parts[0] = f"{parts[0]}={random_mac(c.rng)}"
                options[key] = ",".join(parts)
    # Deletes first, then new values (update_vm_api); a disk's volume is allocated before anything is written.
    _allocate_drives(c, vm, options, [])
    for key in delete:
        if not _live(vm, key):
            vm.pending_delete.add(key)
        elif is_disk_key(key) or key.startswith("unused"):
            c.detach_drive(vm, key, force=force or key.startswith("unused"), task=task)
        else:
            vm.config.pop(key, None)
    for key, value in options.items():
        if not _live(vm, key, value):
            vm.pending[key] = value
            continue
        if vm.running and _is_new_device(vm, key, value) and c.hotplug_failures.get(vm.vmid):
            # QEMU refused the device: it stays pending (allocated) and the update reports it.
            vm.pending[key] = value
            raise ParamTaskError({key: f"hotplug problem - {c.hotplug_failures[vm.vmid].popleft()}"})
        old = vm.config.get(key)
        if is_disk_key(key) and old is not None and drive_volume(str(old)) != drive_volume(str(value)):
            c.detach_drive(vm, key, force=False, task=task)  # the replaced volume becomes unusedN
        if key.startswith("net") and key[3:].isdigit():
            try:
                ipam_dhcp(c, vmid=vm.vmid, node=vm.node, net=_net_options(str(value)))
            except PveHttpError as exc:
                raise TaskError(exc.message) from exc
        if is_disk_key(key):
            for unused in [
                k for k, v in vm.config.items() if k.startswith("unused") and str(v) == drive_volume(str(value))
            ]:
                del vm.config[unused]  # an unused disk attached again leaves its unusedN line
        vm.config[key] = value


@route("POST", "/nodes/{node}/qemu/{vmid}/config")
def qemu_config_post(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    options, delete = _prepare_update(call, vm)
    force = call.flag("force")
    return _task(
        call,
        "qmconfig",
        vm.vmid,
        vmid=vm.vmid,
        effect=lambda task: _apply_update(c, vm, dict(options), list(delete), task, force=force),
    )


@route("PUT", "/nodes/{node}/qemu/{vmid}/config")
def qemu_config_put(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    options, delete = _prepare_update(call, vm)
    try:
        _apply_update(c, vm, dict(options), list(delete), force=call.flag("force"))
    except ParamTaskError as exc:
        raise param_error(exc.errors) from exc
    except TaskError as exc:
        raise PveHttpError(500, str(exc)) from exc
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/cloudinit")
def qemu_cloudinit_get(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    rows = []
    for key in sorted(k for k in {**vm.config, **vm.pending} if k in CLOUDINIT_KEYS or k.startswith("ipconfig")):
        value = vm.pending.get(key, vm.config.get(key))
        row: dict[str, Any] = {"key": key, "value": value}
        if vm.cloudinit_applied.get(key) != value:
            row["pending"] = value
        rows.append(row)
    return rows


@route("PUT", "/nodes/{node}/qemu/{vmid}/cloudinit")
def qemu_cloudinit_put(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    vm.cloudinit_applied = {k: v for k, v in vm.config.items() if k in CLOUDINIT_KEYS or k.startswith("ipconfig")}
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/cloudinit/dump")
def qemu_cloudinit_dump(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    kind = call.params.get("type")
    if kind == "user":
        keys = [k for k in unquote(str(vm.config.get("sshkeys", ""))).splitlines() if k]
        lines = ["#cloud-config", f"hostname: {vm.config.get('name', '')}", "manage_etc_hosts: true"]
        if vm.config.get("ciuser"):
            lines.append(f"user: {vm.config['ciuser']}")
        if keys:
            lines.append("ssh_authorized_keys:")
            lines.extend(f"  - {key}" for key in keys)
        lines += ["chpasswd:", "  expire: False", "users:", "  - default", "package_upgrade: true"]
        return "\n".join(lines) + "\n"
    if kind == "network":
        custom = _cicustom_file(call.cluster, str(vm.config.get("cicustom") or ""), "network")
        if custom is not None:
            # PVE serves a ``cicustom network=`` snippet as the network-config, in place of its own.
            return custom
        lines = ["version: 1", "config:"]
        for key in sorted(k for k in vm.config if k.startswith("ipconfig")):
            index = key[len("ipconfig") :]
            net = str(vm.config.get(f"net{index}", ""))
            mac = net.split(",")[0].partition("=")[2].lower()
            ip = _parse_kv(str(vm.config[key]))
            lines += [
                "    - type: physical",
                f"      name: eth{index}",
                f"      mac_address: '{mac}'",
                "      subnets:",
            ]
            if ip.get("ip") in (None, "dhcp"):
                lines.append("      - type: dhcp4")
            else:
                lines += ["      - type: static", f"        address: '{ip['ip']}'"]
                if ip.get("gw"):
                    lines.append(f"        gateway: '{ip['gw']}'")
        return "\n".join(lines) + "\n"
    return f"instance-id: {vm.digest()}\n"


def _cicustom_file(cluster: Any, cicustom: str, kind: str) -> str | None:
    """The content of the ``cicustom`` ``kind=`` snippet, on a storage with a ``path`` (None: no such part/file)."""
    specs = {spec.name: spec for spec in cluster.spec.storages}
    for part in cicustom.split(","):
        key, _sep, volume = part.partition("=")
        if key != kind:
            continue
        storage, _colon, volname = volume.partition(":")
        spec = specs.get(storage)
        name = volname.removeprefix("snippets/")
        if spec is None or spec.path is None or "/" in name:
            return None
        path = Path(spec.path) / "snippets" / name
        return path.read_text(encoding="utf-8") if path.is_file() else None
    return None


def _parse_kv(text: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in text.split(",") if "=" in part)


@route("PUT", "/nodes/{node}/qemu/{vmid}/resize")
def qemu_resize(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    _check_root_only(call, "skiplock")
    disk = str(call.params["disk"])
    size = str(call.params["size"])
    digest = call.params.get("digest")

    def begin(task: SimTask) -> None:
        # PVE >= 8 runs every check of a resize in the worker, under the flock (docs/dev/proxmox-behaviour.md#resize,
        # docs/dev/proxmox-behaviour.md#lock-placement).
        if digest and digest != vm.digest():
            raise TaskError("checksum mismatch (file change by other user?)")
        c.check_lock(vm)

    def resize(task: SimTask) -> None:
        value = vm.config.get(disk)
        if value is None:
            raise TaskError(f"disk '{disk}' does not exist")
        if "media=cdrom" in str(value):
            raise TaskError("you can't resize a cdrom")
        volid = drive_volume(str(value))
        volume = c.volume(volid, vm.node)
        old = volume.size if volume is not None else parse_size(disk_option(str(value), "size") or "0")
        new = old + parse_size(size[1:]) if size.startswith("+") else parse_size(size)
        if new < old:
            # Proxmox never shrinks a disk (docs/dev/proxmox-behaviour.md#resize).
            raise TaskError("shrinking disks is not supported")
        if new == old:
            return  # resizing to the current size is a no-op that ends OK
        if volume is not None:
            try:
                c.check_space(volume.storage, vm.node, new - old)
            except PveHttpError as exc:
                raise TaskError(exc.message) from exc
            volume.size = new
        parts = [p for p in str(value).split(",") if not p.startswith("size=")]
        vm.config[disk] = ",".join([*parts, f"size={format_size(new)}"])
        task.log.append(f"Image resized to {format_size(new)}.")

    return _task(call, "resize", vm.vmid, vmid=vm.vmid, effect=resize, flock=True, on_begin=begin)


@route("GET", "/nodes/{node}/qemu/{vmid}/status/current")
def qemu_status(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    cores = int(vm.config.get("cores", 1)) * int(vm.config.get("sockets", 1))
    data: dict[str, Any] = {
        "vmid": vm.vmid,
        "name": vm.config.get("name", f"VM {vm.vmid}"),
        "status": "running" if vm.running else "stopped",
        "cpus": cores,
        "cpu": 0.0113 if vm.running else 0,
        "maxmem": vm.memory_mb() * MIB,
        "mem": vm.memory_mb() * MIB // 3 if vm.running else 0,
        "maxdisk": vm.disk_size_bytes(),
        "disk": 0,
        "netin": 0,
        "netout": 0,
        "diskread": 0,
        "diskwrite": 0,
        "uptime": int(time.time() - vm.started_at) if vm.running else 0,
        "ha": {"managed": 0},
        "agent": 1 if str(vm.config.get("agent", "0")).split(",")[0] in ("1", "enabled=1") else 0,
    }
    if vm.running:
        data.update(
            {
                "pid": vm.pid,
                "qmpstatus": "paused" if vm.paused else "running",
                "running-machine": "pc-q35-9.2+pve1"
                if "q35" in str(vm.config.get("machine", ""))
                else "pc-i440fx-9.2+pve1",
                "running-qemu": "9.2.0",
            }
        )
    for key in ("lock", "tags"):
        if vm.config.get(key):
            data[key] = vm.config[key]
    if vm.template:
        data["template"] = 1
    return data


def _power_task(
    call: Call,
    action: str,
    effect: Callable[[SimTask], None],
    *,
    on_begin: Callable[[SimTask], None] | None = None,
    on_fail: Callable[[SimTask], None] | None = None,
    allow_locks: tuple[str, ...] = (),
) -> str:
    """A power task: the worker takes the flock, then ``check_lock`` (docs/dev/proxmox-behaviour.md#lock-placement),
    then ``on_begin``."""
    c = call.cluster
    vm = c.vm(call.node, call.vmid)

    def begin(task: SimTask) -> None:
        c.check_lock(vm, allow=allow_locks)
        if on_begin is not None:
            on_begin(task)

    types = {
        "start": "qmstart",
        "stop": "qmstop",
        "shutdown": "qmshutdown",
        "reboot": "qmreboot",
        "reset": "qmreset",
        "suspend": "qmpause",
        "resume": "qmresume",
    }
    return _task(call, types[action], vm.vmid, vmid=vm.vmid, effect=effect, on_fail=on_fail, flock=True, on_begin=begin)


@route("POST", "/nodes/{node}/qemu/{vmid}/status/start")
def qemu_start(call: Call) -> Any:
    c = call.cluster
    _check_root_only(call, "skiplock", "stateuri", "migratedfrom", "force-cpu")
    vm = c.vm(call.node, call.vmid)
    chosen: list[tuple[str, str]] = []

    def begin(task: SimTask) -> None:
        # The worker checks, under the flock, then reserves PCI devices (reserve_pci_usage) before QEMU
        # starts: picking them now keeps two concurrent starts from taking the same GPU
        # (docs/dev/proxmox-behaviour.md#gpu-allocation).
        if vm.running:
            raise TaskError(f"VM {vm.vmid} already running")
        if vm.template:
            raise TaskError("you can't start a vm if it's a template")
        chosen.extend(c.choose_gpus(vm))

    def start(task: SimTask) -> None:
        # PVE builds the cloud-init drive now, reading every cicustom snippet (qm(1) "cicustom"):
        # a missing file fails the start task.
        if "cicustom" in vm.pending:
            cicustom = vm.pending["cicustom"]
        else:
            cicustom = None if "cicustom" in vm.pending_delete else vm.config.get("cicustom")
        snippet_error = c.snippet_error(str(cicustom)) if cicustom else None
        if snippet_error:
            raise TaskError(snippet_error)
        # Each NIC's tap is plugged into its bridge: a vnet removed (and applied) since fails the start
        # (docs/dev/proxmox-behaviour.md#sdn-apply).
        for key, value in sorted({**vm.config, **vm.pending}.items()):
            if key.startswith("net") and key[3:].isdigit():
                problem = bridge_error(c, vm.node, _net_options(str(value)))
                if problem:
                    raise TaskError(problem)
                try:  # a DHCP zone hands out (or keeps) the NIC's address at start
                    ipam_dhcp(c, vmid=vm.vmid, node=vm.node, net=_net_options(str(value)))
                except PveHttpError as exc:
                    raise TaskError(exc.message) from exc
        c.power_on(vm)
        vm.gpus = list(chosen)
        _efi_vars_warning(vm, task)
        for node, path in chosen:
            task.log.append(f"reserved PCI device {path} on {node}")

    def failed(task: SimTask) -> None:
        c._release(chosen)

    # A suspended-to-disk VM is started (resumed) despite its lock (docs/dev/proxmox-behaviour.md#lock-placement).
    return _power_task(call, "start", start, on_begin=begin, on_fail=failed, allow_locks=("suspended",))


def _efi_vars_warning(vm: SimVm, task: SimTask) -> None:
    """OVMF without ``efidisk0``: QEMU gets a throw-away copy of the vars template
    (docs/dev/proxmox-behaviour.md#efi)."""
    if str(vm.config.get("bios", "seabios")) == "ovmf" and not vm.config.get("efidisk0"):
        task.warn("no efidisk configured! Using temporary efivars disk.")


@route("POST", "/nodes/{node}/qemu/{vmid}/status/stop")
def qemu_stop(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    return _power_task(call, "stop", lambda task: c.power_off(vm))


@route("POST", "/nodes/{node}/qemu/{vmid}/status/shutdown")
def qemu_shutdown(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    if vm.paused and not call.flag("forceStop"):
        raise PveHttpError(500, "VM is paused - cannot shutdown")
    force = call.flag("forceStop")

    def shutdown(task: SimTask) -> None:
        # A guest that ignores the ACPI power button (``SimVm.acpi``) is still up after ``timeout``:
        # with forceStop PVE kills it, else the task fails (qemu-server ``_do_vm_stop``).
        if vm.running and not vm.acpi:
            if not force:
                raise TaskError("VM quit/powerdown failed - got timeout")
            task.log.append("VM still running - terminating now with SIGTERM")
        c.power_off(vm)

    return _power_task(call, "shutdown", shutdown)


def _require_running(vm: SimVm) -> None:
    if not vm.running:
        raise PveHttpError(500, f"VM {vm.vmid} not running")


@route("POST", "/nodes/{node}/qemu/{vmid}/status/reboot")
def qemu_reboot(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    _require_running(vm)
    if vm.paused:
        raise PveHttpError(500, "VM is paused - cannot shutdown")

    def reboot(task: SimTask) -> None:
        gpus = list(vm.gpus)
        c.power_on(vm)  # applies pending changes, keeps the reserved devices
        vm.gpus = gpus
        _efi_vars_warning(vm, task)

    return _power_task(call, "reboot", reboot)


@route("POST", "/nodes/{node}/qemu/{vmid}/status/reset")
def qemu_reset(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    _check_root_only(call, "skiplock")
    _require_running(vm)

    def reset(task: SimTask) -> None:
        vm.started_at = time.time()
        vm.booted_ipconfig = {k: v for k, v in vm.cloudinit_applied.items() if k.startswith("ipconfig")}

    return _power_task(call, "reset", reset)


@route("POST", "/nodes/{node}/qemu/{vmid}/status/suspend")
def qemu_suspend(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    _require_running(vm)
    if call.flag("todisk") and any(k.startswith("hostpci") for k in vm.config):
        raise PveHttpError(
            500,
            "cannot suspend VM to disk due to passed-through PCI device(s), which lack the possibility to "
            "save/restore their internal state",
        )

    def suspend(task: SimTask) -> None:
        vm.paused = True

    return _power_task(call, "suspend", suspend, allow_locks=("backup",))


@route("POST", "/nodes/{node}/qemu/{vmid}/status/resume")
def qemu_resume(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    _require_running(vm)

    def resume(task: SimTask) -> None:
        vm.paused = False

    return _power_task(call, "resume", resume, allow_locks=("backup",))


# ------------------------------------------------------------------- snapshots


@route("GET", "/nodes/{node}/qemu/{vmid}/snapshot")
def snapshot_list(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    rows: list[dict[str, Any]] = []
    for snap in vm.snapshots.values():
        row = {k: snap[k] for k in ("name", "description", "snaptime") if snap.get(k) is not None}
        if snap.get("vmstate"):
            row["vmstate"] = 1
        if snap.get("parent"):
            row["parent"] = snap["parent"]
        rows.append(row)
    current: dict[str, Any] = {"name": "current", "description": "You are here!", "digest": vm.digest()}
    if vm.running:
        current["running"] = 1
    if vm.parent:
        current["parent"] = vm.parent
    rows.append(current)
    return rows


@route("POST", "/nodes/{node}/qemu/{vmid}/snapshot")
def snapshot_create(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    name = str(call.params["snapname"])
    if name in ("current", "pending"):
        raise param_error({"snapname": f"invalid snapshot name '{name}'"})
    vmstate = call.flag("vmstate")

    def begin(task: SimTask) -> None:
        # AbstractConfig::snapshot_create runs in the worker, under the flock
        # (docs/dev/proxmox-behaviour.md#lock-placement).
        if vm.template:
            raise TaskError("you can't take a snapshot if it's a template")
        c.check_lock(vm)
        if name in vm.snapshots:
            raise TaskError(f"snapshot name '{name}' already used")
        vm.config["lock"] = "snapshot"

    def take(task: SimTask) -> None:
        vm.config.pop("lock", None)
        if vmstate and any(k.startswith("hostpci") for k in vm.config):
            raise TaskError("cannot save VM state: VFIO device state cannot be migrated")
        vm.snapshots[name] = {
            "name": name,
            "description": str(call.params.get("description", "")),
            "snaptime": int(time.time()),
            "vmstate": int(vmstate and vm.running),
            "parent": vm.parent,
            "config": {k: v for k, v in vm.config.items() if k != "lock"},
        }
        vm.parent = name

    def failed(task: SimTask) -> None:
        if vm.config.get("lock") == "snapshot":
            vm.config.pop("lock", None)

    return _task(call, "qmsnapshot", vm.vmid, vmid=vm.vmid, effect=take, on_fail=failed, flock=True, on_begin=begin)


@route("POST", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback")
def snapshot_rollback(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    name = call.path_params["snapname"]
    start = call.flag("start")

    def begin(task: SimTask) -> None:
        if name not in vm.snapshots:
            raise TaskError(f"snapshot '{name}' does not exist")
        c.check_lock(vm)

    def rollback(task: SimTask) -> None:
        snap = vm.snapshots[name]
        if vm.running:
            c.power_off(vm)
        vm.config = dict(snap["config"])
        vm.parent = name
        if start:
            c.power_on(vm)

    return _task(call, "qmrollback", vm.vmid, vmid=vm.vmid, effect=rollback, flock=True, on_begin=begin)


@route("DELETE", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}")
def snapshot_delete(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    name = call.path_params["snapname"]

    def begin(task: SimTask) -> None:
        if name not in vm.snapshots:
            raise TaskError(f"snapshot '{name}' does not exist")
        c.check_lock(vm)

    def delete(task: SimTask) -> None:
        snap = vm.snapshots.pop(name)
        for other in vm.snapshots.values():
            if other.get("parent") == name:
                other["parent"] = snap.get("parent")
        if vm.parent == name:
            vm.parent = snap.get("parent")

    return _task(call, "qmdelsnapshot", vm.vmid, vmid=vm.vmid, effect=delete, flock=True, on_begin=begin)


@route("GET", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config")
def snapshot_config(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    snap = vm.snapshots.get(call.path_params["snapname"])
    if snap is None:
        raise PveHttpError(500, f"snapshot '{call.path_params['snapname']}' does not exist")
    return dict(snap["config"])


# ---------------------------------------------------------------------- delete


@route("DELETE", "/nodes/{node}/qemu/{vmid}")
def qemu_delete(call: Call) -> Any:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    _check_root_only(call, "skiplock")
    if str(vm.config.get("protection", "0")) == "1":
        raise PveHttpError(500, f"can't remove VM {vm.vmid} - protection mode enabled")
    if vm.running:
        raise PveHttpError(500, f"VM {vm.vmid} is running - destroy failed")

    unreferenced = call.flag("destroy-unreferenced-disks")
    saved: dict[str, Any] = {}

    def begin(task: SimTask) -> None:
        # destroy_vm runs check_lock in the worker, under the flock (docs/dev/proxmox-behaviour.md#lock-placement).
        c.check_lock(vm)
        if vm.running:
            raise TaskError(f"VM {vm.vmid} is running - destroy failed")
        # While the worker runs the config holds only ``lock: destroyed``
        # (docs/dev/proxmox-behaviour.md#destroy-volumes).
        saved.update(vm.config)
        saved.update({f"pending:{k}": v for k, v in vm.pending.items()})
        vm.config = {"lock": "destroyed"}

    def destroy(task: SimTask) -> None:
        # Only volumes the VM owns (by name) are freed: unusedN and pending drives too; another VM's
        # volume attached here survives (docs/dev/proxmox-behaviour.md#volume-ownership, #destroy-volumes).
        referenced: set[str] = set()
        for key, value in saved.items():
            key = key.removeprefix("pending:")
            if not (is_disk_key(key) or key.startswith("unused")):
                continue
            volid = drive_volume(str(value))
            referenced.add(volid)
            if volume_owner(volid) != vm.vmid or ("media=cdrom" in str(value) and "cloudinit" not in volid):
                continue
            if c.free_volume(volid):
                task.log.append(f'  Logical volume "{volid.partition(":")[2]}" successfully removed.')
        if unreferenced:
            for volid, vol in sorted(c.volumes.items()):
                if vol.owner == vm.vmid and volid not in referenced and vol.node in (None, vm.node):
                    c.free_volume(volid)
                    task.log.append(f"found unreferenced disk '{volid}' - removing")
        for members in c.pools.values():
            members.discard(vm.vmid)
        c.release_gpus(vm)
        if c.firewall is not None:
            c.firewall.vms.pop(vm.vmid, None)
        ipam_forget_vm(c, vm.vmid)
        # the config goes last: the VMID is free once the task ends (docs/dev/proxmox-behaviour.md#destroy)
        c.vms.pop(vm.vmid, None)

    return _task(call, "qmdestroy", vm.vmid, vmid=vm.vmid, effect=destroy, flock=True, on_begin=begin)


# ----------------------------------------------------------------------- tasks


@route("GET", "/nodes/{node}/tasks")
def task_list(call: Call) -> Any:
    c = call.cluster
    c.node(call.node)
    source = str(call.params.get("source", "archive"))
    vmid = call.params.get("vmid")
    typefilter = call.params.get("typefilter")
    rows = []
    for task in reversed(list(c.tasks.values())):
        if task.node != call.node:
            continue
        if source == "archive" and task.status == "running":
            continue
        if source == "active" and task.status != "running":
            continue
        if vmid is not None and task.id != str(vmid):
            continue
        if typefilter and task.type != typefilter:
            continue
        if call.flag("errors") and task.exitstatus == "OK":
            continue
        rows.append(_task_row(task))
    start = int(call.params.get("start", 0))
    limit = int(call.params.get("limit", 50))
    return Envelope(rows[start : start + limit], total=len(rows))


def _find_task(call: Call) -> SimTask:
    task = call.cluster.tasks.get(call.path_params["upid"])
    if task is None or task.node != call.node:
        raise param_error({"upid": "no such task"})
    return task


@route("GET", "/nodes/{node}/tasks/{upid}")
def task_index(call: Call) -> Any:
    _find_task(call)
    return [{"name": "log"}, {"name": "status"}]


@route("GET", "/nodes/{node}/tasks/{upid}/status")
def task_status(call: Call) -> Any:
    return _find_task(call).as_status()


@route("GET", "/nodes/{node}/tasks/{upid}/log")
def task_log(call: Call) -> Any:
    task = _find_task(call)
    start = int(call.params.get("start", 0))
    limit = int(call.params.get("limit", 50))
    lines = [{"n": i + 1, "t": text} for i, text in enumerate(task.log)]
    return Envelope(lines[start : start + limit], total=len(lines))


@route("DELETE", "/nodes/{node}/tasks/{upid}")
def task_stop(call: Call) -> Any:
    task = _find_task(call)
    call.cluster.finish_task(task, interrupted=True)
    return None


# ----------------------------------------------------------- metrics, console


@route("GET", "/nodes/{node}/qemu/{vmid}/rrddata")
def qemu_rrddata(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    step = _timeframe_step(str(call.params.get("timeframe", "hour")))
    now = int(time.time()) // step * step
    cpus = int(vm.config.get("cores", 1)) * int(vm.config.get("sockets", 1))
    pinned = cpu_load(call.cluster, vm.vmid)  # a test's pinned load (apps.pvesim.load)
    points = []
    for i in range(70):
        point: dict[str, Any] = {
            "time": now - (69 - i) * step,
            "maxcpu": cpus,
            "maxmem": vm.memory_mb() * MIB,
            "maxdisk": vm.disk_size_bytes(),
            "disk": 0,
        }
        if vm.running and point["time"] >= vm.started_at - step:
            # Keys with no value are omitted for a stopped VM (docs/dev/proxmox-behaviour.md#metrics).
            point.update(
                {
                    "cpu": pinned if pinned is not None else round(0.2 + 0.15 * math.sin((vm.vmid + i) / 6), 4),
                    "mem": vm.memory_mb() * MIB * (0.35 + 0.05 * math.sin(i / 9)),
                    "netin": 15000.0 + 4000 * math.sin(i / 4),
                    "netout": 9000.0 + 3000 * math.cos(i / 5),
                    "diskread": 20000.0 + 5000 * math.sin(i / 3),
                    "diskwrite": 40000.0 + 8000 * math.cos(i / 7),
                }
            )
        points.append(point)
    return points


def _console(call: Call, kind: str) -> dict[str, Any]:
    c = call.cluster
    vm = c.vm(call.node, call.vmid)
    port = 5900 + (vm.vmid % 100)
    user = call.token
    ticket = f"PVEVNC:{int(time.time()):08X}::{secrets.token_urlsafe(48)}"
    data: dict[str, Any] = {"user": user, "ticket": ticket, "port": port}
    upid = _task(call, kind, vm.vmid)
    data["upid"] = upid
    password = ""
    if kind == "vncproxy":
        data["cert"] = "-----BEGIN CERTIFICATE-----\nMIIB(simulated)\n-----END CERTIFICATE-----\n"
        if call.flag("generate-password"):
            password = secrets.token_urlsafe(6)[:8]
            data["password"] = password
            data["ticket"] = f"{password}:{ticket}"
    # The VNC password is the generated one (PVE 8.4), else the ticket itself (docs/dev/proxmox-behaviour.md#console).
    grant = VncGrant(
        node=call.node,
        vmid=vm.vmid,
        port=port,
        password=password or data["ticket"],
        token=call.token,
        expires=time.monotonic() + TICKET_SECONDS,
    )
    grant_register(c, ticket=data["ticket"], grant=grant)
    return data


@route("POST", "/nodes/{node}/qemu/{vmid}/vncproxy")
def qemu_vncproxy(call: Call) -> Any:
    return _console(call, "vncproxy")


@route("POST", "/nodes/{node}/qemu/{vmid}/termproxy")
def qemu_termproxy(call: Call) -> Any:
    vm = call.cluster.vm(call.node, call.vmid)
    serial = str(call.params.get("serial", "serial0"))
    if not str(vm.config.get(serial, "")).startswith("socket"):
        raise PveHttpError(500, f"serial interface '{serial}' is not configured")
    return _console(call, "vncproxy")


# ------------------------------------------------------------------ guest agent


def _agent_ready(call: Call) -> SimVm:
    vm = call.cluster.vm(call.node, call.vmid)
    if str(vm.config.get("agent", "0")).split(",")[0] not in ("1", "enabled=1"):
        raise PveHttpError(500, "No QEMU guest agent configured")
    if not vm.running:
        raise PveHttpError(500, f"VM {vm.vmid} is not running")
    # The guest needs as long as a task to boot and start its agent (0 s in tests).
    if time.time() - vm.started_at < call.cluster.task_seconds:
        raise PveHttpError(500, "QEMU guest agent is not running")
    return vm


@route("POST", "/nodes/{node}/qemu/{vmid}/agent/ping")
def agent_ping(call: Call) -> Any:
    _agent_ready(call)
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces")
def agent_network(call: Call) -> Any:
    vm = _agent_ready(call)
    interfaces: list[dict[str, Any]] = [
        {
            "name": "lo",
            "hardware-address": "00:00:00:00:00:00",
            "ip-addresses": [
                {"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8},
                {"ip-address": "::1", "ip-address-type": "ipv6", "prefix": 128},
            ],
            "statistics": {"rx-bytes": 0, "rx-packets": 0, "tx-bytes": 0, "tx-packets": 0},
        }
    ]
    for key in sorted(k for k in vm.config if k.startswith("net") and k[3:].isdigit()):
        index = key[3:]
        mac = str(vm.config[key]).split(",")[0].partition("=")[2].lower()
        ipconfig = _parse_kv(str(vm.config.get(f"ipconfig{index}", "")))
        addresses = []
        ip = ipconfig.get("ip", "dhcp")
        if ip == "dhcp":
            ip = f"10.{vm.vmid // 65536 % 256}.{vm.vmid // 256 % 256}.{vm.vmid % 256 or 1}/24"
        host, _, prefix = ip.partition("/")
        addresses.append({"ip-address": host, "ip-address-type": "ipv4", "prefix": int(prefix or 24)})
        ip6 = ipconfig.get("ip6")
        if ip6 and ip6 not in ("dhcp", "auto"):
            host6, _, prefix6 = ip6.partition("/")
            addresses.append({"ip-address": host6, "ip-address-type": "ipv6", "prefix": int(prefix6 or 64)})
        addresses.append(
            {
                "ip-address": f"fe80::be24:11ff:fe{mac[-8:-6]}:{mac[-5:-3]}{mac[-2:]}",
                "ip-address-type": "ipv6",
                "prefix": 64,
            }
        )
        interfaces.append(
            {
                "name": f"eth{index}",
                "hardware-address": mac,
                "ip-addresses": addresses,
                "statistics": {"rx-bytes": 1024, "rx-packets": 10, "tx-bytes": 2048, "tx-packets": 12},
            }
        )
    return {"result": interfaces}
