"""Plain, immutable data returned by the Proxmox driver.

The driver turns PVE's JSON (docs/dev/proxmox-behaviour.md#endpoints) into these frozen dataclasses so that
callers never see proxmoxer or raw dicts with PVE's loose typing (numbers that
are sometimes strings, keys that only appear when set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# docs/dev/proxmox-behaviour.md#upid (pve-common Tools.pm upid_decode).
UPID_RE = re.compile(
    r"^UPID:(?P<node>[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):(?P<pid>[0-9A-Fa-f]{8}):(?P<pstart>[0-9A-Fa-f]{8,9}):"
    r"(?P<starttime>[0-9A-Fa-f]{8}):(?P<type>[^:\s/]+):(?P<id>[^:\s/]*):(?P<user>[^:\s/]+):$"
)


@dataclass(frozen=True)
class Upid:
    """A decoded task id: ``UPID:node:pid:pstart:starttime:type:id:user:``."""

    upid: str
    node: str
    pid: int
    pstart: int
    starttime: int
    type: str
    id: str
    user: str

    @classmethod
    def parse(cls, upid: str) -> Upid:
        match = UPID_RE.match(upid)
        if match is None:
            raise ValueError(f"not a UPID: {upid!r}")
        return cls(
            upid=upid,
            node=match["node"],
            pid=int(match["pid"], 16),
            pstart=int(match["pstart"], 16),
            starttime=int(match["starttime"], 16),
            type=match["type"],
            id=match["id"],
            user=match["user"],
        )


@dataclass(frozen=True)
class TaskStatus:
    """``GET /nodes/{node}/tasks/{upid}/status`` (docs/dev/proxmox-behaviour.md#task-status)."""

    upid: str
    node: str
    type: str
    id: str
    user: str
    status: str  # "running" | "stopped"
    exitstatus: str | None = None  # "OK", "WARNINGS: n", or the error text; None while running
    starttime: int | None = None
    tokenid: str | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def ok(self) -> bool:
        """Stopped with ``OK`` or ``WARNINGS: n`` (Ansible's ``api_task_ok`` accepts warnings too)."""
        return self.status == "stopped" and (self.exitstatus == "OK" or (self.exitstatus or "").startswith("WARNINGS"))


@dataclass(frozen=True)
class VmStatus:
    """``GET /nodes/{node}/qemu/{vmid}/status/current`` (docs/dev/proxmox-behaviour.md#vm-status)."""

    vmid: int
    node: str
    status: str  # "running" | "stopped"
    name: str = ""
    qmpstatus: str | None = None  # "running", "paused", ... (absent when stopped)
    lock: str | None = None  # "clone", "snapshot", ... (absent when unlocked)
    uptime: int = 0
    cpus: float = 0
    cpu: float = 0.0
    mem: int = 0
    maxmem: int = 0
    maxdisk: int = 0
    netin: int = 0
    netout: int = 0
    diskread: int = 0
    diskwrite: int = 0
    pid: int | None = None
    template: bool = False
    tags: tuple[str, ...] = ()
    agent: bool = False

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True)
class NodeInfo:
    """One row of ``GET /nodes`` (docs/dev/proxmox-behaviour.md#discovery). ``status`` is online, offline or unknown."""

    node: str
    status: str
    cpu: float = 0.0
    maxcpu: int = 0
    mem: int = 0
    maxmem: int = 0
    uptime: int = 0
    ssl_fingerprint: str = ""

    @property
    def online(self) -> bool:
        return self.status == "online"


@dataclass(frozen=True)
class NodeStatus:
    """``GET /nodes/{node}/status``: hardware facts the inventory records (CPU model, cores, RAM)."""

    node: str
    cpu_model: str
    cpus: int  # logical CPUs (threads)
    cores: int  # cores per socket
    sockets: int
    memory_total: int  # bytes
    memory_used: int
    uptime: int = 0
    pveversion: str = ""
    kversion: str = ""


@dataclass(frozen=True)
class PciDevice:
    """One row of ``GET /nodes/{node}/hardware/pci`` (docs/dev/proxmox-behaviour.md#pci-hardware)."""

    id: str  # "0000:41:00.0"
    class_: str  # "0x030200"
    vendor: str  # "0x10de"
    device: str  # "0x20b5"
    vendor_name: str = ""
    device_name: str = ""
    subsystem_vendor: str = ""
    subsystem_device: str = ""
    iommugroup: int = -1
    mdev: bool = False

    @property
    def vendor_device(self) -> str:
        """``10de:20b5``: the form PCI mappings use (no ``0x``; docs/dev/proxmox-behaviour.md#pci-mappings)."""
        return f"{_strip_0x(self.vendor)}:{_strip_0x(self.device)}"

    @property
    def is_gpu(self) -> bool:
        """Display controllers (class 0x03xxxx): VGA (RTX) and 3D controllers (T4, A100)."""
        return self.class_.lower().startswith("0x03")


@dataclass(frozen=True)
class PciMappingEntry:
    """One ``map`` entry of a cluster PCI mapping: one device on one node."""

    node: str
    path: str  # "0000:41:00.0", or "0000:01:00" for every function; ";"-joined for several
    id: str  # "10de:20b5"
    iommugroup: int | None = None
    subsystem_id: str | None = None
    description: str = ""


@dataclass(frozen=True)
class PciMapping:
    """``GET /cluster/mapping/pci``: a named pool of devices; a VM references it as ``hostpciN=mapping=<id>``."""

    id: str
    description: str = ""
    entries: tuple[PciMappingEntry, ...] = ()

    def entries_on(self, node: str) -> tuple[PciMappingEntry, ...]:
        return tuple(entry for entry in self.entries if entry.node == node)


@dataclass(frozen=True)
class StorageInfo:
    """A storage row of ``/cluster/resources?type=storage`` (one per node that sees it)."""

    storage: str
    node: str
    plugintype: str  # "lvmthin", "zfspool", "rbd", "dir", ...
    content: tuple[str, ...] = ()  # "images", "rootdir", "snippets", "iso", ...
    shared: bool = False
    status: str = "available"
    disk: int = 0  # bytes used
    maxdisk: int = 0  # bytes total


@dataclass(frozen=True)
class StorageVolume:
    """One volume of ``GET /nodes/{node}/storage/{storage}/content``: a disk image, a snippet, an ISO…"""

    volid: str  # "ceph-nvme:vm-106-disk-0", "local:snippets/vmc-…-vendor.yaml"
    format: str  # "raw", "qcow2", "subvol", "iso", "snippet", ...
    size: int  # bytes
    content: str = ""  # "images", "rootdir", "snippets", "iso", "backup", ...
    vmid: int | None = None  # the owner VM of a disk image
    used: int | None = None
    ctime: int | None = None
    parent: str | None = None  # the base volume of a linked clone
    notes: str = ""
    protected: bool = False


@dataclass(frozen=True)
class TemplateInfo:
    """A VM template (``template: 1``) found in ``/cluster/resources?type=vm``."""

    vmid: int
    node: str
    name: str
    tags: tuple[str, ...] = ()
    maxdisk: int = 0
    maxmem: int = 0


@dataclass(frozen=True)
class GuestIpAddress:
    address: str
    type: str  # "ipv4" | "ipv6"
    prefix: int


@dataclass(frozen=True)
class GuestInterface:
    """One interface of ``agent/network-get-interfaces`` (docs/dev/proxmox-behaviour.md#guest-agent)."""

    name: str
    mac: str
    ip_addresses: tuple[GuestIpAddress, ...] = ()


@dataclass(frozen=True)
class GuestExecStatus:
    """``agent/exec-status`` of one pid (docs/dev/proxmox-behaviour.md#guest-agent-files-exec).

    While the process runs only ``exited`` is False. Once it has exited, the agent hands this out once and then
    forgets the pid. ``exitcode`` is None when a signal ended it. ``stdout``/``stderr`` are the bytes the guest
    wrote (PVE decodes qga's base64), each capped by the agent (``*_truncated``).
    """

    exited: bool
    exitcode: int | None = None
    signal: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    out_truncated: bool = False
    err_truncated: bool = False


@dataclass(frozen=True)
class RrdPoint:
    """One ``rrddata`` point (docs/dev/proxmox-behaviour.md#metrics). Keys PVE omits (stopped VM) are None.

    ``net*``/``disk*`` rates are bytes per second; ``cpu`` is a fraction 0..1.
    """

    time: int
    cpu: float | None = None
    maxcpu: float | None = None
    mem: float | None = None
    maxmem: float | None = None
    disk: float | None = None
    maxdisk: float | None = None
    netin: float | None = None
    netout: float | None = None
    diskread: float | None = None
    diskwrite: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """One row of ``GET …/snapshot`` (docs/dev/proxmox-behaviour.md#snapshots); the ``current`` pseudo-snapshot is left
    out."""

    name: str
    description: str = ""
    snaptime: int | None = None
    vmstate: bool = False
    parent: str | None = None


@dataclass(frozen=True)
class VncTicket:
    """``POST …/vncproxy`` with ``websocket=1`` (docs/dev/proxmox-behaviour.md#console).

    The console proxy opens ``vncwebsocket?port=<port>&vncticket=<ticket>`` with the
    same token within 10 s; noVNC authenticates with ``password`` (PVE 8.4), falling
    back to ``ticket``.
    """

    node: str
    vmid: int
    port: int
    ticket: str
    user: str = ""
    upid: str = ""
    cert: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class VmConfig:
    """``GET …/config``: the raw options plus the two the flow relies on."""

    options: dict[str, object] = field(default_factory=dict)

    @property
    def lock(self) -> str | None:
        value = self.options.get("lock")
        return str(value) if value else None

    @property
    def digest(self) -> str | None:
        value = self.options.get("digest")
        return str(value) if value else None


def _strip_0x(value: str) -> str:
    return value[2:] if value.lower().startswith("0x") else value


@dataclass(frozen=True)
class StorageStatus:
    """``GET /nodes/{node}/storage/{storage}/status`` in bytes (docs/dev/proxmox-behaviour.md#volumes)."""

    storage: str
    node: str
    total: int
    used: int
    free: int  # PVE's ``avail``
    type: str = ""
    shared: bool = False
    active: bool = True
    enabled: bool = True


@dataclass(frozen=True)
class IoLimits:
    """Throttling keys of a drive string (docs/dev/proxmox-behaviour.md#io-limits).

    ``mbps_*`` are MB/s (really MiB/s), ``iops_*`` operations per second; None means unlimited.
    Only per-direction limits: PVE refuses a total combined with a per-direction one.
    """

    iops_rd: int | None = None
    iops_wr: int | None = None
    mbps_rd: float | None = None
    mbps_wr: float | None = None

    def items(self) -> tuple[tuple[str, int | float | None], ...]:
        return (
            ("iops_rd", self.iops_rd),
            ("iops_wr", self.iops_wr),
            ("mbps_rd", self.mbps_rd),
            ("mbps_wr", self.mbps_wr),
        )


@dataclass(frozen=True)
class VolumeAttachment:
    """What a ``volume_attach`` left behind: the slot, and whether it waits in ``pending`` (no hot-plug)."""

    slot: str
    volid: str
    pending: bool


@dataclass(frozen=True)
class VolumeDetachment:
    """What a ``volume_detach`` left behind.

    ``unused_slot`` is ``unusedN`` when the VM owns the volume (the volume is kept there, and dies with the
    VM); None when another VMID owns it (the line is only dropped, the volume is kept on the storage).
    ``pending`` is True when the running VM could not unplug it: it is detached at the next stop.
    """

    slot: str
    volid: str
    unused_slot: str | None
    pending: bool


@dataclass(frozen=True)
class FirewallRule:
    """One firewall rule (docs/dev/proxmox-behaviour.md#firewall-rules); field names as PVE spells them,
    with ``icmp_type`` for ``icmp-type``. Use a macro's preferred spelling (``SSH``): PVE stores that one."""

    type: str  # "in" | "out" | "forward" | "group"
    action: str  # ACCEPT | DROP | REJECT, or the group name for type "group"
    proto: str | None = None
    dport: str | None = None
    sport: str | None = None
    source: str | None = None
    dest: str | None = None
    macro: str | None = None
    iface: str | None = None
    icmp_type: str | None = None
    log: str | None = None
    comment: str | None = None
    enable: bool = True

    def params(self) -> dict[str, str | int]:
        """The POST parameters; ``enable`` is always sent, as PVE stores a rule without it disabled."""
        values: dict[str, str | int] = {"type": self.type, "action": self.action, "enable": int(self.enable)}
        for name in ("proto", "dport", "sport", "source", "dest", "macro", "iface", "log", "comment"):
            value = getattr(self, name)
            if value not in (None, ""):
                values[name] = value
        if self.icmp_type:
            values["icmp-type"] = self.icmp_type
        return values

    @classmethod
    def from_row(cls, row: dict[str, object]) -> FirewallRule:
        def text(key: str) -> str | None:
            value = row.get(key)
            return None if value in (None, "") else str(value)

        return cls(
            type=str(row.get("type", "")),
            action=str(row.get("action", "")),
            proto=text("proto"),
            dport=text("dport"),
            sport=text("sport"),
            source=text("source"),
            dest=text("dest"),
            macro=text("macro"),
            iface=text("iface"),
            icmp_type=text("icmp-type"),
            log=text("log"),
            comment=text("comment"),
            enable=bool(int(str(row.get("enable") or 0))),
        )


@dataclass(frozen=True)
class VmFirewallState:
    """A VM's firewall as PVE holds it (``vm_firewall_state``): options, rules in order, IP sets.

    Reconciliation compares it with what the platform wants, to find drift.
    """

    enable: bool
    policy_in: str | None
    policy_out: str | None
    ipfilter: bool
    macfilter: bool
    rules: tuple[FirewallRule, ...] = ()
    ipsets: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def groups(self) -> tuple[str, ...]:
        """The security groups the VM's ``type=group`` rules name, in rule order."""
        return tuple(rule.action for rule in self.rules if rule.type == "group")
