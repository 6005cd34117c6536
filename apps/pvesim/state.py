"""The in-memory state of one simulated Proxmox VE cluster.

Nodes, storages, VMs (config, pending changes, ``lock`` property, power state,
snapshots), worker tasks with real UPIDs, per-VM config flocks, PCI devices,
cluster PCI mappings and their reservations, and the fault-injection switches.

Everything is guarded by one re-entrant lock (``SimCluster.lock``); the HTTP
server holds it while a handler runs. Tasks finish lazily: each request first
calls ``tick()``, which ends every task whose time is up and applies its effect
(so a duration of 0 ends a task before the next request, and nothing runs in
the background). Behaviour follows docs/dev/proxmox-behaviour.md#tasks (tasks), #endpoints (endpoints), #locks
(locks) and #gpu-passthrough (GPU passthrough).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.pvesim.fleet import ClusterSpec, GpuModelSpec, NodeSpec

GIB = 1024**3
MIB = 1024**2
# docs/dev/proxmox-behaviour.md#error-responses: what pveproxy answers when the node it must proxy to is down.
NODE_UNREACHABLE = "Errors during connection establishment, proxy handshake: No route to host"


class PveHttpError(Exception):
    """An API error: status, the message (reason phrase and ``message``), and ``errors`` for a 400."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


class TaskError(Exception):
    """Raised inside a task effect: the task stops with this text as its exitstatus."""


def param_error(errors: dict[str, str]) -> PveHttpError:
    return PveHttpError(400, "Parameter verification failed.", errors)


@dataclass
class SimTask:
    upid: str
    node: str
    type: str
    id: str
    user: str  # "portal@pve"
    tokenid: str | None
    pid: int
    pstart: int
    starttime: int
    ends_at: float
    vmid: int | None = None  # the VM whose config flock the task holds (or waits for)
    effect: Callable[[SimTask], None] | None = None
    on_fail: Callable[[SimTask], None] | None = None
    fail_message: str | None = None
    status: str = "running"
    exitstatus: str | None = None
    endtime: int | None = None
    log: list[str] = field(default_factory=list)
    # The worker takes the VM's flock itself (docs/dev/proxmox-behaviour.md#lock-placement): until it has it the task
    # waits, and ``on_begin`` (check_lock and the other worker-side checks) runs once it holds it.
    wants_flock: bool = False
    holds_flock: bool = False
    lock_deadline: float | None = None
    on_begin: Callable[[SimTask], None] | None = None
    seconds: float = 0.0
    warnings: int = 0

    def warn(self, text: str) -> None:
        """``log_warn``: a ``WARN:`` line; the task then ends ``WARNINGS: n`` instead of ``OK``."""
        self.log.append(f"WARN: {text}")
        self.warnings += 1

    def as_status(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "upid": self.upid,
            "node": self.node,
            "pid": self.pid,
            "pstart": self.pstart,
            "starttime": self.starttime,
            "type": self.type,
            "id": self.id,
            "user": self.user,
            "status": self.status,
        }
        if self.tokenid:
            data["tokenid"] = self.tokenid
        if self.exitstatus is not None:
            data["exitstatus"] = self.exitstatus
        return data


@dataclass
class PciFunction:
    """One PCI function as ``hardware/pci`` lists it."""

    id: str  # "0000:41:00.0"
    pci_class: str
    vendor_device: str
    name: str
    iommugroup: int


@dataclass
class SimGpu:
    node: str
    address: str  # "0000:41:00"
    model: GpuModelSpec
    iommugroup: int
    nvlink_group: str | None
    present: bool = True

    @property
    def mapping_path(self) -> str:
        # Cards with an audio function are mapped whole (no function), others by function 0
        # (docs/dev/proxmox-behaviour.md#pci-mappings).
        return self.address if self.model.audio_vendor_device else f"{self.address}.0"

    def functions(self) -> list[PciFunction]:
        funcs = [
            PciFunction(
                f"{self.address}.0", self.model.pci_class, self.model.vendor_device, self.model.name, self.iommugroup
            )
        ]
        if self.model.audio_vendor_device:
            funcs.append(
                PciFunction(
                    f"{self.address}.1",
                    "0x040300",
                    self.model.audio_vendor_device,
                    self.model.audio_name,
                    self.iommugroup,
                )
            )
        return funcs


@dataclass
class SimNode:
    spec: NodeSpec
    online: bool
    boot_time: float
    gpus: list[SimGpu] = field(default_factory=list)
    # A member whose pvestatd stopped reporting (hung on a storage): the cluster shows it "unknown"
    # and its VMs "unknown", but the node itself still answers API calls (docs/dev/proxmox-behaviour.md#status-unknown).
    stale: bool = False

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class SimMapping:
    id: str
    description: str
    entries: list[dict[str, str]]  # parsed map entries: node, path, id, iommugroup?, description?

    def map_strings(self) -> list[str]:
        return [",".join(f"{k}={v}" for k, v in entry.items()) for entry in self.entries]


@dataclass
class SimVm:
    vmid: int
    node: str
    config: dict[str, Any]
    template: bool = False
    running: bool = False
    paused: bool = False
    started_at: float = 0.0
    pid: int | None = None
    pending: dict[str, Any] = field(default_factory=dict)
    pending_delete: set[str] = field(default_factory=set)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    parent: str | None = None
    gpus: list[tuple[str, str]] = field(default_factory=list)  # (node, mapping path) in use
    cloudinit_applied: dict[str, Any] = field(default_factory=dict)
    # The ``ipconfigN`` of the cloud-init drive the guest last booted from: the addresses its cards have
    # (a card added later is bare until the next boot, or until the guest configures it; apps.pvesim.agent).
    booted_ipconfig: dict[str, Any] = field(default_factory=dict)
    pool: str | None = None
    acpi: bool = True  # the guest powers off on an ACPI shutdown request (False: hung or no acpid)
    # What runs inside: files, agent exec processes, services (apps.pvesim.agent.Guest; created on first use).
    guest: Any = field(default=None, compare=False, repr=False)

    @property
    def lock(self) -> str | None:
        value = self.config.get("lock")
        return str(value) if value else None

    def digest(self) -> str:
        text = "\n".join(f"{k}: {v}" for k, v in sorted(self.config.items()))
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    def disk_size_bytes(self) -> int:
        total = 0
        for key, value in self.config.items():
            if is_disk_key(key) and "media=cdrom" not in str(value):
                total += parse_size(disk_option(str(value), "size") or "0")
        return total

    def memory_mb(self) -> int:
        return int(str(self.config.get("memory", "512")).split("=")[-1].split(",")[0])


DISK_PREFIXES = ("scsi", "virtio", "sata", "ide", "efidisk", "tpmstate")
# Storage plugins that keep images as files under ``images/<vmid>/`` (pve-storage Plugin.pm); the others
# (rbd, lvm, lvmthin, zfspool) name them ``vm-<vmid>-disk-<n>`` (docs/dev/proxmox-behaviour.md#volume-ownership).
FILE_STORAGES = ("dir", "nfs", "cifs", "btrfs", "glusterfs", "cephfs")
# Bridges every simulated node has (the fleet has no network list): anything else must be an applied
# SDN vnet (docs/dev/proxmox-behaviour.md#simulator-wave2).
NODE_BRIDGES = ("vmbr0",)
_OWNER_RE = re.compile(r"^(?:\d+/)?(?:base|vm)-(\d+)-")


@dataclass
class SimVolume:
    """One image on a storage. Its owner is read from the name, never from a config
    (docs/dev/proxmox-behaviour.md#volume-ownership)."""

    storage: str
    name: str  # "vm-106-disk-0", "base-9000-disk-0", "106/vm-106-disk-1.raw", "vm-106-cloudinit"
    size: int  # bytes
    node: str | None  # None on a shared storage
    ctime: int
    format: str = "raw"

    @property
    def volid(self) -> str:
        return f"{self.storage}:{self.name}"

    @property
    def owner(self) -> int | None:
        match = _OWNER_RE.match(self.name)
        return int(match.group(1)) if match else None


def volume_owner(volid: str) -> int | None:
    match = _OWNER_RE.match(volid.partition(":")[2])
    return int(match.group(1)) if match else None


def drive_volume(value: str) -> str:
    """The volume part of a drive string (``file=`` may name it explicitly)."""
    first = value.split(",")[0]
    return first.removeprefix("file=")


def is_disk_key(key: str) -> bool:
    return any(key.startswith(p) and key[len(p) :].isdigit() for p in DISK_PREFIXES)


def disk_option(value: str, option: str) -> str | None:
    for part in value.split(",")[1:]:
        key, _, val = part.partition("=")
        if key == option:
            return val
    return None


def parse_size(text: str) -> int:
    """``10G`` → bytes (PVE ``disk-size``; no unit means bytes)."""
    text = text.strip()
    units = {"K": 1024, "M": MIB, "G": GIB, "T": 1024 * GIB}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(float(text or 0))


def _drive_size(value: str) -> int:
    if "cloudinit" in drive_volume(value):
        return 4 * MIB
    return parse_size(disk_option(value, "size") or "0")


def format_size(size: int) -> str:
    for unit, factor in (("T", 1024 * GIB), ("G", GIB), ("M", MIB), ("K", 1024)):
        if size % factor == 0 and size >= factor:
            return f"{size // factor}{unit}"
    return str(size)


def random_mac(rng: random.Random) -> str:
    # Proxmox's default OUI BC:24:11 (docs/dev/proxmox-behaviour.md#clone; pve-cluster DataCenterConfig.pm).
    return "BC:24:11:" + ":".join(f"{rng.randrange(256):02X}" for _ in range(3))


class SimCluster:
    """One simulated PVE cluster (every node of one datacentre)."""

    def __init__(
        self,
        spec: ClusterSpec,
        *,
        task_seconds: float = 0.0,
        lock_wait_seconds: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rng = random.Random(seed)  # noqa: S311 - fake MACs and pids, not security
        self.task_seconds = task_seconds
        self.task_durations: dict[str, float] = {}
        # PVE waits up to 10 s for a config flock (docs/dev/proxmox-behaviour.md#locks); scaled down for tests.
        self.lock_wait_seconds = lock_wait_seconds
        self.latency_seconds = 0.0
        self.fail_next: dict[str, deque[str]] = {}
        self.held_flocks: dict[int, float] = {}  # vmid → monotonic deadline (fault injection)
        # vmid → (lock value, monotonic deadline): a ``lock:`` property set from outside, as vzdump sets
        # ``lock: backup`` for the whole backup run (fault injection; docs/dev/proxmox-behaviour.md#locks).
        self.config_locks: dict[int, tuple[str, float]] = {}
        self.pid_counter = itertools.count(0x0012A000)
        self.pstart = 0x0ABCDEF0
        self.nodes: dict[str, SimNode] = {}
        self.vms: dict[int, SimVm] = {}
        self.tasks: dict[str, SimTask] = {}
        self.running_tasks: list[SimTask] = []
        self.mappings: dict[str, SimMapping] = {}
        self.pci_usage: dict[tuple[str, str], int] = {}  # (node, mapping path) → vmid reserving / using it
        self.pools: dict[str, set[int]] = {pool: set() for pool in spec.pools}
        # Every image on every storage, by volume id (docs/dev/proxmox-behaviour.md#volumes).
        self.volumes: dict[str, SimVolume] = {}
        # vmid → messages: the next hot-plugs into that running VM fail at the QEMU level (fault injection).
        self.hotplug_failures: dict[int, deque[str]] = {}
        # SDN and firewall state (apps.pvesim.netstate): created lazily by their handlers.
        self.sdn: Any = None
        self.firewall: Any = None
        # vncproxy tickets waiting for their vncwebsocket (apps.pvesim.vnc; docs/dev/proxmox-behaviour.md#console).
        self.vnc_tickets: dict[str, Any] = {}
        now = time.time()
        for node_spec in spec.nodes:
            node = SimNode(spec=node_spec, online=node_spec.online, boot_time=now - 86400 * 12)
            for gpu in node_spec.gpus:
                node.gpus.append(
                    SimGpu(
                        node=node_spec.name,
                        address=gpu.address,
                        model=spec.gpu_models[gpu.model],
                        iommugroup=gpu.iommugroup,
                        nvlink_group=gpu.nvlink_group,
                    )
                )
            self.nodes[node_spec.name] = node
        self._build_mappings()
        for storage in spec.storages:
            if storage.path:  # the "NFS server" exports its share: make sure the directory exists
                (Path(storage.path) / "snippets").mkdir(parents=True, exist_ok=True)
        for template in spec.templates:
            self._add_template(template)

    # ----------------------------------------------------------------- setup

    def _build_mappings(self) -> None:
        for node in self.nodes.values():
            for gpu in node.gpus:
                mapping = self.mappings.setdefault(
                    gpu.model.slug, SimMapping(id=gpu.model.slug, description=gpu.model.name, entries=[])
                )
                mapping.entries.append(
                    {
                        "node": node.name,
                        "path": gpu.mapping_path,
                        "id": gpu.model.vendor_device,
                        "iommugroup": str(gpu.iommugroup),
                    }
                )

    def _add_template(self, template: Any) -> None:
        storage = template.storage
        config: dict[str, Any] = {
            "name": template.name,
            "cores": template.cores,
            "sockets": 1,
            "memory": str(template.memory_mb),
            "ostype": template.ostype,
            "bios": template.bios,
            "scsihw": "virtio-scsi-single",
            "scsi0": f"{storage}:base-{template.vmid}-disk-0,iothread=1,size={template.disk_gb}G",
            "ide2": f"{storage}:vm-{template.vmid}-cloudinit,media=cdrom",
            "boot": "order=scsi0",
            "agent": "1",
            "net0": f"virtio={random_mac(self.rng)},bridge=vmbr0,firewall=1",
            "serial0": "socket",
            "vga": "std",
            "template": 1,
            "smbios1": f"uuid={self._uuid()}",
            "vmgenid": self._uuid(),
            "meta": f"creation-qemu=9.2.0,ctime={int(time.time())}",
        }
        if template.tags:
            config["tags"] = ";".join(template.tags)
        if template.bios == "ovmf":
            config["efidisk0"] = f"{storage}:base-{template.vmid}-disk-1,efitype=4m,pre-enrolled-keys=0,size=4M"
            config["machine"] = "q35"
        self.vms[template.vmid] = SimVm(vmid=template.vmid, node=template.node, config=config, template=True)
        for key in ("scsi0", "efidisk0", "ide2"):
            if key in config:
                self.register_volume(
                    drive_volume(str(config[key])), node=template.node, size=_drive_size(str(config[key]))
                )

    def _uuid(self) -> str:
        hexed = "".join(f"{self.rng.randrange(16):x}" for _ in range(32))
        return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"

    # ----------------------------------------------------------------- tasks

    def duration(self, task_type: str) -> float:
        return self.task_durations.get(task_type, self.task_seconds)

    def start_task(
        self,
        *,
        node: str,
        task_type: str,
        task_id: str,
        token: str,
        vmid: int | None = None,
        effect: Callable[[SimTask], None] | None = None,
        on_fail: Callable[[SimTask], None] | None = None,
        log: list[str] | None = None,
        fail_message: str | None = None,
        flock: bool = False,
        on_begin: Callable[[SimTask], None] | None = None,
    ) -> SimTask:
        """Start a worker task (docs/dev/proxmox-behaviour.md#tasks). ``token`` is the caller, ``user@realm!tokenid``.

        Without ``flock`` the task holds ``vmid``'s flock from the start (the handler
        took it before forking, as POST config and clone do). With ``flock`` the
        worker takes it itself (docs/dev/proxmox-behaviour.md#lock-placement): it waits while another task holds
        it, up to the lock wait, then stops with ``can't lock file … got timeout``;
        once it holds it ``on_begin`` runs, and a ``TaskError`` there (``VM is
        locked (backup)``…) ends the task at once with that text.
        """
        now = time.time()
        pid = next(self.pid_counter)
        user, _, tokenid = token.partition("!")
        upid = f"UPID:{node}:{pid:08X}:{self.pstart:08X}:{int(now):08X}:{task_type}:{task_id}:{token}:"
        queued = self.fail_next.get(task_type)
        if queued:
            fail_message = queued.popleft()
        task = SimTask(
            upid=upid,
            node=node,
            type=task_type,
            id=task_id,
            user=user,
            tokenid=tokenid or None,
            pid=pid,
            pstart=self.pstart,
            starttime=int(now),
            ends_at=math.inf,
            vmid=vmid,
            effect=effect,
            on_fail=on_fail,
            fail_message=fail_message,
            log=list(log or []),
            wants_flock=flock,
            on_begin=on_begin,
            seconds=self.duration(task_type),
        )
        self.tasks[upid] = task
        self.running_tasks.append(task)
        if flock and vmid is not None and self._flock_held(vmid):
            task.log.append("trying to acquire lock...")
            task.lock_deadline = time.monotonic() + self.lock_wait_seconds
        else:
            self._begin(task)
        return task

    def _begin(self, task: SimTask) -> None:
        """The task has its flock (or needs none): its time starts, and the worker's own checks run."""
        task.holds_flock = task.vmid is not None
        task.lock_deadline = None
        task.ends_at = time.monotonic() + task.seconds
        if task.wants_flock and task.log and task.log[-1] == "trying to acquire lock...":
            task.log[-1] = "trying to acquire lock... OK"
        if task.on_begin is not None and task.fail_message is None:
            try:
                task.on_begin(task)
            except TaskError as exc:
                task.fail_message = str(exc)
                task.ends_at = time.monotonic()

    def tick(self) -> None:
        """Let waiting tasks take their flock (or time out), end every task whose time is up, in start order."""
        now = time.monotonic()
        for vmid, (value, until) in list(self.config_locks.items()):
            if until <= now:
                del self.config_locks[vmid]
                vm = self.vms.get(vmid)
                if vm is not None and vm.config.get("lock") == value:
                    vm.config.pop("lock", None)
        progress = True
        while progress and self.running_tasks:
            progress = False
            now = time.monotonic()
            for task in list(self.running_tasks):
                if task.status != "running":
                    continue
                if task.lock_deadline is not None:
                    assert task.vmid is not None  # noqa: S101 - only VM tasks wait for a flock
                    if not self._flock_held(task.vmid, exclude=task):
                        self._begin(task)
                        progress = True
                    elif task.lock_deadline <= now:
                        task.fail_message = task.fail_message or (
                            f"can't lock file '/var/lock/qemu-server/lock-{task.vmid}.conf' - got timeout"
                        )
                        self.finish_task(task)
                        progress = True
                elif task.ends_at <= now:
                    self.finish_task(task)
                    progress = True

    def finish_task(self, task: SimTask, *, interrupted: bool = False) -> None:
        if task.status != "running":
            return
        if task.lock_deadline is not None and not interrupted and task.fail_message is None:
            self._begin(task)  # ended early (``finish_tasks``) while waiting: it got the flock at last
        self.running_tasks.remove(task)
        task.status = "stopped"
        task.endtime = int(time.time())
        task.holds_flock = False
        error = "interrupted by signal" if interrupted else task.fail_message
        if error is None and task.effect is not None:
            try:
                task.effect(task)
            except TaskError as exc:
                error = str(exc)
        if error is None and task.warnings:
            task.exitstatus = f"WARNINGS: {task.warnings}"
            task.log.append(f"TASK WARNINGS: {task.warnings}")
        elif error is None:
            task.exitstatus = "OK"
            task.log.append("TASK OK")
        else:
            task.exitstatus = error
            task.log.append(f"TASK ERROR: {error}")
            if task.on_fail is not None:
                task.on_fail(task)
        self.changed.notify_all()

    def task_holding(self, vmid: int, *, exclude: SimTask | None = None) -> SimTask | None:
        for task in self.running_tasks:
            if task.vmid == vmid and task.holds_flock and task is not exclude:
                return task
        return None

    def flock(self, vmid: int) -> None:
        """Take the config flock of ``vmid`` as a handler would (docs/dev/proxmox-behaviour.md#locks).

        If a running task (or an injected hold) has it, wait up to the (scaled)
        lock wait, then fail with PVE's exact text.
        """
        deadline = time.monotonic() + self.lock_wait_seconds
        while self._flock_held(vmid):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PveHttpError(500, f"can't lock file '/var/lock/qemu-server/lock-{vmid}.conf' - got timeout")
            self.changed.wait(min(remaining, 0.05))
            self.tick()

    def _flock_held(self, vmid: int, *, exclude: SimTask | None = None) -> bool:
        hold = self.held_flocks.get(vmid)
        if hold is not None:
            if hold > time.monotonic():
                return True
            del self.held_flocks[vmid]
        return self.task_holding(vmid, exclude=exclude) is not None

    def set_config_lock(self, vmid: int, value: str, seconds: float) -> None:
        """Put ``lock: <value>`` in a VM's config for ``seconds`` (vzdump's ``lock: backup``)."""
        vm = self.vms.get(int(vmid))
        if vm is None:
            raise KeyError(f"no VM {vmid}")
        vm.config["lock"] = value
        self.config_locks[int(vmid)] = (value, time.monotonic() + seconds)

    def check_lock(self, vm: SimVm, *, allow: tuple[str, ...] = ()) -> None:
        """``check_lock`` inside a worker: ``VM is locked (<lock>)`` as the task's error
        (docs/dev/proxmox-behaviour.md#lock-placement)."""
        if vm.lock and vm.lock not in allow:
            raise TaskError(f"VM is locked ({vm.lock})")

    # ---------------------------------------------------------------- volumes

    def storage_spec(self, name: str, node: str) -> Any:
        """The storage as ``node`` sees it, or PVE's 500 ``storage '<s>' does not exist``."""
        for spec in self.spec.storages:
            if spec.name == name and (spec.nodes is None or node in spec.nodes):
                return spec
        raise PveHttpError(500, f"storage '{name}' does not exist")

    def volume_scope(self, storage: str, node: str) -> str | None:
        spec = self.storage_spec(storage, node)
        return None if spec.shared else node

    def storage_used(self, storage: str, node: str) -> int:
        scope = self.volume_scope(storage, node)
        return sum(v.size for v in self.volumes.values() if v.storage == storage and v.node == scope)

    def storage_avail(self, storage: str, node: str) -> int:
        return max(0, int(self.storage_spec(storage, node).size_gb * GIB) - self.storage_used(storage, node))

    def volume(self, volid: str, node: str) -> SimVolume | None:
        """The volume ``volid`` if ``node`` can see it (local storages are per node)."""
        vol = self.volumes.get(volid)
        if vol is None or (vol.node is not None and vol.node != node):
            return None
        return vol

    def register_volume(self, volid: str, *, node: str, size: int) -> SimVolume:
        storage, _, name = volid.partition(":")
        vol = SimVolume(
            storage=storage,
            name=name,
            size=size,
            node=self.volume_scope(storage, node),
            ctime=int(time.time()),
            format=name.rpartition(".")[2] if name.endswith((".raw", ".qcow2", ".vmdk")) else "raw",
        )
        self.volumes[volid] = vol
        return vol

    def next_disk_name(self, storage: str, node: str, vmid: int, fmt: str = "raw") -> str:
        """``get_next_vm_diskname``: the lowest free ``vm-<vmid>-disk-<n>`` on that storage."""
        spec = self.storage_spec(storage, node)
        scope = None if spec.shared else node
        taken = {v.name for v in self.volumes.values() if v.storage == storage and v.node == scope}
        for n in itertools.count():
            name = f"vm-{vmid}-disk-{n}"
            if spec.type in FILE_STORAGES:
                name = f"{vmid}/{name}.{fmt}"
            if name not in taken:
                return name
        raise AssertionError("unreachable")  # pragma: no cover

    def check_space(self, storage: str, node: str, size: int) -> None:
        """Refuse an allocation larger than the free space. Thin storages (RBD, LVM-thin) would overcommit;
        the simulator is stricter (docs/dev/proxmox-behaviour.md#simulator-wave2)."""
        avail = self.storage_avail(storage, node)
        if size > avail:
            raise PveHttpError(
                500,
                f"unable to allocate image on storage '{storage}' - not enough free space "
                f"(requested {size} bytes, available {avail} bytes)",
            )

    def alloc_volume(
        self, storage: str, node: str, vmid: int, size: int, *, name: str | None = None, fmt: str = "raw"
    ) -> SimVolume:
        """``vdisk_alloc``: check the storage holds images and has room, then create the image."""
        spec = self.storage_spec(storage, node)
        if "images" not in spec.content:
            raise PveHttpError(500, f"storage '{storage}' does not support content-type 'images'")
        self.check_space(storage, node, size)
        name = name or self.next_disk_name(storage, node, vmid, fmt)
        if f"{storage}:{name}" in self.volumes and self.volume(f"{storage}:{name}", node) is not None:
            raise PveHttpError(500, f"volume '{storage}:{name}' already exists")
        return self.register_volume(f"{storage}:{name}", node=node, size=size)

    def free_volume(self, volid: str) -> bool:
        return self.volumes.pop(volid, None) is not None

    def volume_in_snapshot(self, vm: SimVm, volid: str) -> bool:
        return any(
            drive_volume(str(v)) == volid
            for snap in vm.snapshots.values()
            for k, v in snap.get("config", {}).items()
            if is_disk_key(k)
        )

    def next_unused_key(self, vm: SimVm) -> str:
        taken = set(vm.config) | set(vm.pending)
        for n in itertools.count():
            if f"unused{n}" not in taken:
                return f"unused{n}"
        raise AssertionError("unreachable")  # pragma: no cover

    def detach_drive(self, vm: SimVm, key: str, *, force: bool, task: SimTask | None = None) -> None:
        """``vmconfig_delete_or_detach_drive``: an owned volume becomes ``unusedN`` (or is freed with ``force``);
        a cloud-init drive is always freed; another VM's volume just leaves the config
        (docs/dev/proxmox-behaviour.md#detach-disk)."""
        value = str(vm.config.pop(key, ""))
        volid = drive_volume(value)
        if not value or ":" not in volid:
            return
        if "media=cdrom" in value and "cloudinit" not in volid:
            return
        if volume_owner(volid) != vm.vmid:
            return
        if force or "cloudinit" in volid or key.startswith("unused"):
            if self.volume_in_snapshot(vm, volid):
                raise TaskError(f"unable to delete '{volid}' - volume is still in use (snapshot?)")
            if self.free_volume(volid) and task is not None:
                task.log.append(f'  Logical volume "{volid.partition(":")[2]}" successfully removed.')
            return
        vm.config[self.next_unused_key(vm)] = volid

    # ------------------------------------------------------------------ lookups

    def node(self, name: str) -> SimNode:
        node = self.nodes.get(name)
        if node is None:
            raise PveHttpError(
                500,
                f"hostname lookup '{name}' failed - failed to get address info for: {name}: Name or service not known",
            )
        return node

    def vm(self, node: str, vmid: int) -> SimVm:
        vm = self.vms.get(int(vmid))
        if vm is None or vm.node != node:
            raise PveHttpError(500, f"Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist")
        return vm

    def gpu_by_path(self, node: str, path: str) -> SimGpu | None:
        for gpu in self.nodes[node].gpus:
            if path in (gpu.address, gpu.mapping_path, f"{gpu.address}.0"):
                return gpu
        return None

    def next_free_vmid(self) -> int:
        for vmid in range(self.spec.next_id_lower, self.spec.next_id_upper):
            if vmid not in self.vms:
                return vmid
        raise PveHttpError(
            500, f"unable to get any free VMID in range [{self.spec.next_id_lower}, {self.spec.next_id_upper}]"
        )

    # --------------------------------------------------------------- GPU logic

    def choose_gpus(self, vm: SimVm) -> list[tuple[str, str]]:
        """Pick a free device for every ``hostpciN=mapping=…`` at start (docs/dev/proxmox-behaviour.md#gpu-allocation,
        #gpu-start-errors); reserve them."""
        chosen: list[tuple[str, str]] = []
        config = {**vm.config, **vm.pending}
        machine = str(config.get("machine", ""))
        for key in sorted(k for k in config if k.startswith("hostpci")):
            options = dict(
                part.partition("=")[::2] if "=" in part else ("host", part) for part in str(config[key]).split(",")
            )
            if options.get("pcie") in ("1", "on", "yes", "true") and "q35" not in machine:
                self._release(chosen)
                raise TaskError("q35 machine model is not enabled")
            mapping_id = options.get("mapping")
            if mapping_id is None:
                continue
            mapping = self.mappings.get(mapping_id)
            entries = [e for e in (mapping.entries if mapping else []) if e["node"] == vm.node]
            if not entries:
                self._release(chosen)
                raise TaskError(f"PCI device mapping not found for '{mapping_id}'")
            for entry in entries:
                slot = (vm.node, entry["path"])
                gpu = self.gpu_by_path(vm.node, entry["path"])
                if gpu is None or not gpu.present:
                    continue
                if slot in self.pci_usage or slot in chosen:
                    continue
                chosen.append(slot)
                break
            else:
                self._release(chosen)
                raise TaskError(f"could not find a free device for '{key}'")
        for slot in chosen:
            self.pci_usage[slot] = vm.vmid
        return chosen

    def _release(self, slots: list[tuple[str, str]]) -> None:
        for slot in slots:
            if slot in self.pci_usage:
                del self.pci_usage[slot]

    def release_gpus(self, vm: SimVm) -> None:
        for slot, owner in list(self.pci_usage.items()):
            if owner == vm.vmid:
                del self.pci_usage[slot]
        vm.gpus = []

    # ------------------------------------------------------------ VM lifecycle

    def apply_pending(self, vm: SimVm) -> None:
        for key in sorted(vm.pending_delete):
            if is_disk_key(key):
                self.detach_drive(vm, key, force=False)
        for key, value in vm.pending.items():
            old = vm.config.get(key)
            if is_disk_key(key) and old is not None and drive_volume(str(old)) != drive_volume(str(value)):
                self.detach_drive(vm, key, force=False)  # the replaced volume becomes unusedN
            vm.config[key] = value
        for key in vm.pending_delete:
            vm.config.pop(key, None)
        vm.pending.clear()
        vm.pending_delete.clear()

    def snippet_error(self, cicustom: str) -> str | None:
        """Why PVE would fail to read a ``cicustom`` volume when it builds the cloud-init drive (None: all there).

        Only storages with a ``path`` (fleet file) are checked: the simulator has no files elsewhere.
        """
        specs = {s.name: s for s in self.spec.storages}
        for part in cicustom.split(","):
            _kind, sep, volume = part.partition("=")
            if not sep:
                continue
            storage, _, volname = volume.partition(":")
            spec = specs.get(storage)
            if spec is None:
                return f"storage '{storage}' does not exist"
            if "snippets" not in spec.content:
                return f"storage '{storage}' does not support content-type 'snippets'"
            if spec.path is None:
                continue
            name = volname.removeprefix("snippets/")
            if not volname.startswith("snippets/") or not name or "/" in name or name in (".", ".."):
                return f"unable to parse directory volume name '{volname}'"
            if not (Path(spec.path) / "snippets" / name).is_file():
                return f"volume '{volume}' does not exist"
        return None

    def power_on(self, vm: SimVm) -> None:
        self.apply_pending(vm)
        vm.running = True
        vm.paused = False
        vm.started_at = time.time()
        vm.pid = self.rng.randrange(10_000, 4_000_000)
        vm.cloudinit_applied = {k: v for k, v in vm.config.items() if k in CLOUDINIT_KEYS or k.startswith("ipconfig")}
        vm.booted_ipconfig = {k: v for k, v in vm.cloudinit_applied.items() if k.startswith("ipconfig")}

    def power_off(self, vm: SimVm) -> None:
        vm.running = False
        vm.paused = False
        vm.pid = None
        vm.started_at = 0.0
        self.release_gpus(vm)
        self.apply_pending(vm)


CLOUDINIT_KEYS = ("ciuser", "cipassword", "sshkeys", "nameserver", "searchdomain", "cicustom", "citype", "ciupgrade")
