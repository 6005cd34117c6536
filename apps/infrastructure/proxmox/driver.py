"""``ProxmoxDriver``: typed Proxmox VE operations over proxmoxer (HTTPS, API token).

The only module of the platform that imports proxmoxer (import-linter contract
"Only the Proxmox driver talks to Proxmox"). Every method returns plain data
(``types``) or raises an error of ``errors``. Rules applied to every call, each
relying on ``docs/dev/proxmox-behaviour.md``:

* booleans are sent as ``1``/``0``: proxmoxer would send Python ``True`` as the
  string ``"True"``, which PVE rejects with a 400 (docs/dev/proxmox-behaviour.md#booleans, #proxmoxer);
* the HTTP timeout (default 60 s) is sized above PVE's 10 s config-lock wait and
  the ~3 s late 401 (docs/dev/proxmox-behaviour.md#proxmoxer, #locks); proxmoxer's default of 5 s is too low;
* transient errors (``can't lock file … got timeout``, ``VM is locked``, 595/596,
  connection errors, gateway timeouts) are retried with capped exponential
  backoff and full jitter; nothing else is retried (docs/dev/proxmox-behaviour.md#locks, bpg's ``retry.go``).
  A write (POST/PUT/DELETE) is retried only when PVE certainly did nothing:
  lock timeout, 595, or a connection that was never established;
* every call is logged with its duration and, for worker tasks, its UPID;
* ``wait_task`` raises ``ProxmoxTaskFailed`` when a task stops with an
  exitstatus other than ``OK``/``WARNINGS: n``: proxmoxer's ``blocking_status``
  never does (docs/dev/proxmox-behaviour.md#proxmoxer).

Methods that start a worker task return its UPID and do not wait: callers store
the UPID first, then call ``wait_task`` (docs/dev/style.md#celery-tasks: persist the side
effect's identity before waiting on it).
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from proxmoxer import ProxmoxAPI, ResourceException

from apps.core import metrics
from apps.infrastructure.proxmox.errors import (
    ProxmoxAuthError,
    ProxmoxError,
    ProxmoxGuestAgentError,
    ProxmoxGuestAgentNotRunning,
    ProxmoxGuestExecTimeout,
    ProxmoxNotFound,
    ProxmoxParameterError,
    ProxmoxPermanentError,
    ProxmoxStorageFull,
    ProxmoxTaskFailed,
    ProxmoxTaskTimeout,
    ProxmoxTransientError,
    is_transient_text,
)
from apps.infrastructure.proxmox.types import (
    FirewallRule,
    GuestExecStatus,
    GuestInterface,
    GuestIpAddress,
    IoLimits,
    NodeInfo,
    NodeStatus,
    PciDevice,
    PciMapping,
    PciMappingEntry,
    RrdPoint,
    Snapshot,
    StorageInfo,
    StorageStatus,
    StorageVolume,
    TaskStatus,
    TemplateInfo,
    Upid,
    VmConfig,
    VmFirewallState,
    VmStatus,
    VncTicket,
    VolumeAttachment,
    VolumeDetachment,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

ParamValue = str | int | float | bool | Sequence[str] | None

# docs/dev/proxmox-behaviour.md#power: the four power actions that are plain ``status/<action>`` POSTs.
POWER_ACTIONS = ("start", "stop", "shutdown", "reboot", "reset", "suspend", "resume")
# docs/dev/proxmox-behaviour.md#task-status: the task may not be visible through the status API right after creation
# (bpg tasks.go).
TASK_NOT_VISIBLE_GRACE_SECONDS = 5.0

GIB = 1024**3
# docs/dev/proxmox-behaviour.md#volumes: file-based storages name images with a format suffix.
FILE_STORAGE_TYPES = frozenset({"dir", "nfs", "cifs", "glusterfs", "btrfs", "cephfs"})
# Disk slots a data volume may take; ``unusedN`` only as a reassign source or target.
DISK_SLOT_RE = re.compile(r"^(scsi|virtio|sata|ide)\d+$")
UNUSED_SLOT_RE = re.compile(r"^unused\d+$")
SERIAL_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
# docs/dev/proxmox-behaviour.md#io-limits: the throttling keys the driver manages (per direction only).
LIMIT_KEYS = ("iops", "iops_rd", "iops_wr", "mbps", "mbps_rd", "mbps_wr")
FIREWALL_POLICIES = ("ACCEPT", "REJECT", "DROP")
_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
# docs/dev/proxmox-behaviour.md#guest-agent-files-exec: file-write's ``content`` is at most 61440 characters; sent
# as base64 (encode=0) that leaves 46080 bytes. ``input-data`` of exec is at most 65536 characters.
AGENT_CONTENT_MAX_CHARS = 60 * 1024
AGENT_BASE64_MAX_BYTES = AGENT_CONTENT_MAX_CHARS // 4 * 3
AGENT_INPUT_MAX_CHARS = 64 * 1024
# Bytes sent as they are with encode=1: printable ASCII, tab, LF, CR (configurations, PEM).
_PLAIN_TEXT_RE = re.compile(rb"^[\t\n\r\x20-\x7e]*$")


def encode_sshkeys(keys: Iterable[str]) -> str:
    """Encode OpenSSH public keys for ``sshkeys``: one per line, percent-encoded with ``quote(…, safe="")``.

    PVE's ``urlencoded`` format only allows ``[-%a-zA-Z0-9_.!~*'()]`` (so no ``+``
    from ``quote_plus``); requests then form-encodes the ``%`` signs once more,
    exactly as Ansible's ``proxmox_kvm`` does (docs/dev/proxmox-behaviour.md#vm-config).
    """
    lines = [key.strip() for key in keys if key.strip()]
    return quote("\n".join(lines), safe="")


def net_spec(
    bridge: str,
    *,
    model: str = "virtio",
    macaddr: str | None = None,
    firewall: bool = True,
    tag: int | None = None,
    rate_mb_s: float | None = None,
) -> str:
    """Build a ``netN`` property string: ``virtio,bridge=vmbr0,firewall=1,tag=120``
    (docs/dev/proxmox-behaviour.md#vm-config)."""
    parts = [f"{model}={macaddr}" if macaddr else model, f"bridge={bridge}", f"firewall={int(firewall)}"]
    if tag is not None:
        parts.append(f"tag={tag}")
    if rate_mb_s is not None:
        parts.append(f"rate={rate_mb_s:g}")
    return ",".join(parts)


def efidisk_spec(storage: str) -> str:
    """A new persistent EFI vars disk: ``<storage>:1,efitype=4m,pre-enrolled-keys=0``.

    The size is ignored (PVE copies the OVMF vars template); ``4m`` is the current
    vars format; no pre-enrolled keys keeps Secure Boot off, which the unsigned
    NVIDIA kernel module needs (qm(1) ``efidisk0``).
    """
    return f"{storage}:1,efitype=4m,pre-enrolled-keys=0"


def ipconfig_spec(
    *, ip: str | None = None, gw: str | None = None, ip6: str | None = None, gw6: str | None = None
) -> str:
    """Build an ``ipconfigN`` property string: ``ip=203.0.113.10/24,gw=203.0.113.1,ip6=auto``."""
    pairs = (("ip", ip), ("gw", gw), ("ip6", ip6), ("gw6", gw6))
    return ",".join(f"{key}={value}" for key, value in pairs if value)


def drive_spec(volid: str, *, limits: IoLimits | None = None, serial: str | None = None) -> str:
    """A drive string attaching an existing volume: ``local-lvm:vm-900001-disk-0,iops_rd=2000,serial=vol-42``
    (docs/dev/proxmox-behaviour.md#io-limits)."""
    parts = [volid]
    for key, value in (limits or IoLimits()).items():
        if value is not None:
            parts.append(f"{key}={_format_limit(value)}")
    if serial:
        parts.append(f"serial={serial}")
    return ",".join(parts)


def parse_drive(value: str) -> tuple[str, dict[str, str]]:
    """Split a drive string into its volume id and its ``key=value`` options (in order)."""
    first, *rest = value.split(",")
    volid = first.removeprefix("file=")
    options: dict[str, str] = {}
    for part in rest:
        key, _, val = part.partition("=")
        options[key] = val
    return volid, options


def volume_owner(volid: str) -> int | None:
    """The VMID that owns a volume, parsed from its name as PVE does (``vm-<vmid>-…``, ``base-<vmid>-…``):
    destroying that VMID may free it (docs/dev/proxmox-behaviour.md#volume-keeping)."""
    match = re.match(r"^(?:vm|base)-(\d+)-", _volume_name(volid))
    return int(match[1]) if match else None


def _volume_name(volid: str) -> str:
    # ``local:106/vm-106-disk-0.qcow2`` → ``vm-106-disk-0``; ``local-lvm:vm-106-disk-0`` → ``vm-106-disk-0``.
    name = volid.partition(":")[2] or volid
    name = name.rsplit("/", 1)[-1]
    return re.sub(r"\.(raw|qcow2|vmdk)$", "", name)


def _size_bytes(text: str) -> int:
    # A drive's ``size=12G``: binary units, no unit means bytes (docs/dev/proxmox-behaviour.md#io-limits).
    match = re.match(r"^(\d+(?:\.\d+)?)([KMGT]?)$", text.strip())
    if match is None:
        raise ValueError(f"unparsable disk size {text!r}")
    return int(float(match[1]) * _SIZE_UNITS[match[2]])


def _format_limit(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(int(value))


def _check_slot(slot: str, *, unused: bool) -> None:
    if DISK_SLOT_RE.match(slot) or (unused and UNUSED_SLOT_RE.match(slot)):
        return
    raise ValueError(f"not a disk slot: {slot!r}")


def _normalize_cidr(cidr: str) -> str:
    # PVE clears host bits before storing (docs/dev/proxmox-behaviour.md#firewall); a plain address stays one.
    text = cidr.strip()
    prefix = "!" if text.startswith("!") else ""
    text = text.removeprefix("!").strip()
    if "/" not in text:
        return prefix + str(ipaddress.ip_address(text))
    return prefix + str(ipaddress.ip_network(text, strict=False))


def _ipset_entry(row: Mapping[str, Any]) -> str:
    return ("!" if int(row.get("nomatch") or 0) else "") + str(row["cidr"])


def _encode_value(value: ParamValue) -> Any:
    # docs/dev/proxmox-behaviour.md#booleans: PVE's type check accepts only '1'/'0' for booleans over form encoding.
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, list | tuple):
        return [_encode_value(item) for item in value]  # repeated keys (``map=…&map=…``)
    return value


def encode_params(params: Mapping[str, ParamValue]) -> dict[str, Any]:
    """Drop ``None`` values and turn booleans into ``1``/``0``."""
    return {key: _encode_value(value) for key, value in params.items() if value is not None}


class ProxmoxDriver:
    """Typed access to one Proxmox VE cluster through its API (any node of the cluster).

    ``api_url`` is ``https://host:8006`` (a trailing ``/api2/json`` is accepted);
    ``token_id`` is ``user@realm!tokenname``; ``verify`` is True (system CAs),
    False (tests only), or the path of a CA bundle (PEM) that signed pveproxy's
    certificate (docs/dev/proxmox-behaviour.md#proxmoxer: ``verify_ssl`` is passed to requests as ``verify``).
    """

    def __init__(
        self,
        api_url: str,
        token_id: str,
        token_secret: str,
        *,
        verify: bool | str = True,
        timeout: float = 60.0,
        task_poll_interval: float = 1.0,
        retries: int = 4,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
    ) -> None:
        parts = urlsplit(api_url if "://" in api_url else f"https://{api_url}")
        if parts.scheme != "https":
            raise ValueError("Proxmox VE is only reachable over HTTPS (proxmoxer builds https:// URLs)")
        if not parts.hostname:
            raise ValueError(f"no host in Proxmox API URL {api_url!r}")
        user, sep, token_name = token_id.partition("!")
        if not sep or "@" not in user or not token_name:
            raise ValueError("token_id must look like 'user@realm!tokenname'")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        self.api_url = f"https://{host}:{parts.port or 8006}"
        self.token_id = token_id
        self.timeout = timeout
        self.task_poll_interval = task_poll_interval
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._api = ProxmoxAPI(
            host,
            port=parts.port or 8006,
            user=user,
            token_name=token_name,
            token_value=token_secret,
            verify_ssl=verify,
            timeout=timeout,
            backend="https",
        )

    # ------------------------------------------------------------------ plumbing

    def request(
        self, method: str, path: str, params: Mapping[str, ParamValue] | None = None, *, idempotent: bool = True
    ) -> Any:
        """Call ``METHOD /api2/json/<path>`` with retries on transient errors; return ``data``.

        Public for the few calls that have no typed method yet; prefer the typed ones. ``idempotent=False``
        (a guest ``exec``) retries a write only when it certainly never reached PVE's node.
        """
        method = method.upper()
        encoded = encode_params(params or {})
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                result = self._send(method, path, encoded)
            except ProxmoxError as exc:
                elapsed = time.monotonic() - started
                metrics.observe_proxmox_call(method, path, elapsed, exc)
                retry = exc.is_transient and attempt <= self.retries and self._safe_to_retry(method, exc, idempotent)
                logger.warning(
                    "proxmox %s %s failed in %.2fs (attempt %d): %s%s",
                    method,
                    path,
                    elapsed,
                    attempt,
                    exc,
                    " - retrying" if retry else "",
                )
                if not retry:
                    raise
                time.sleep(self._backoff(attempt))
                continue
            elapsed = time.monotonic() - started
            metrics.observe_proxmox_call(method, path, elapsed)
            if isinstance(result, str) and result.startswith("UPID:"):
                logger.info("proxmox %s %s -> %s (%.2fs)", method, path, result, elapsed)
            else:
                logger.debug("proxmox %s %s ok (%.2fs)", method, path, elapsed)
            return result

    def _send(self, method: str, path: str, params: dict[str, Any]) -> Any:
        resource = self._api(path)
        try:
            if method == "GET":
                return resource.get(**params)
            if method == "POST":
                return resource.post(**params)
            if method == "PUT":
                return resource.put(**params)
            if method == "DELETE":
                return resource.delete(**params)
        except ResourceException as exc:
            raise self._map_resource_exception(exc, method, path) from exc
        except requests.exceptions.ConnectionError as exc:
            raise _ConnectionFailed(f"connection error: {exc}", method=method, path=path) from exc
        except requests.exceptions.Timeout as exc:
            # A read timeout: PVE may have started the work, so writes are not retried (see _safe_to_retry).
            raise ProxmoxTransientError(f"no answer within {self.timeout:g}s: {exc}", method=method, path=path) from exc
        raise ValueError(f"unsupported HTTP method {method}")

    @staticmethod
    def _map_resource_exception(exc: ResourceException, method: str, path: str) -> ProxmoxError:
        # proxmoxer: status_code, content = reason phrase (the PVE message), errors = body "errors"
        # (docs/dev/proxmox-behaviour.md#proxmoxer).
        status = int(exc.status_code)
        message = _utf8_reason(str(exc.content or exc.status_message or "").strip())
        raw_errors = exc.errors if isinstance(exc.errors, dict) else {}
        errors = {str(k): str(v).strip() for k, v in raw_errors.items() if not isinstance(v, bytes)}
        kwargs: dict[str, Any] = {"status_code": status, "errors": errors, "method": method, "path": path}
        text = " ".join([message, *errors.values()])
        if status in (401, 403):
            return ProxmoxAuthError(message or "authentication failed", **kwargs)
        if status >= 595 or status in (502, 503, 504):
            # 595/596: pveproxy could not reach the node that holds the VM
            # (docs/dev/proxmox-behaviour.md#error-responses).
            return ProxmoxTransientError(message or "node unreachable", **kwargs)
        if is_transient_text(text):
            return ProxmoxTransientError(message, **kwargs)
        if status == 400:
            if "no such task" in text:
                return ProxmoxNotFound(message, **kwargs)
            return ProxmoxParameterError(message, **kwargs)
        if "does not exist" in text or "no such" in text.lower():
            return ProxmoxNotFound(message, **kwargs)
        return ProxmoxPermanentError(message, **kwargs)

    @staticmethod
    def _safe_to_retry(method: str, exc: ProxmoxError, idempotent: bool = True) -> bool:
        if method == "GET":
            return True
        # A write is retried only when PVE refused it before doing anything: a lock it could not get, a node
        # its proxy could not reach (595), or a TCP/TLS connection that never opened.
        if isinstance(exc, _ConnectionFailed):
            return True
        if not idempotent:
            # "got timeout" from the guest agent may come after the guest started the command
            # (docs/dev/proxmox-behaviour.md#guest-agent-files-exec): only an unreachable node is certain.
            return exc.status_code == 595
        return exc.status_code is not None and (exc.status_code >= 595 or is_transient_text(exc.message))

    def _backoff(self, attempt: int) -> float:
        # Exponential backoff with full jitter, capped (AWS architecture blog "Exponential Backoff and Jitter").
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography

    def _upid(self, result: Any, method: str, path: str) -> str:
        if not isinstance(result, str) or not result.startswith("UPID:"):
            raise ProxmoxPermanentError(f"expected a task id, got {result!r}", method=method, path=path)
        return result

    def _task(self, method: str, path: str, params: Mapping[str, ParamValue] | None = None) -> str:
        return self._upid(self.request(method, path, params), method, path)

    @staticmethod
    def _vm(node: str, vmid: int) -> str:
        return f"nodes/{node}/qemu/{int(vmid)}"

    # ----------------------------------------------------------------- inventory

    def version(self) -> dict[str, str]:
        """``GET /version``: ``{"version": "8.4.1", "release": "8.4", "repoid": …}``."""
        return dict(self.request("GET", "version"))

    def cluster_resources(self, kind: str | None = None) -> list[dict[str, Any]]:
        """``GET /cluster/resources[?type=vm|node|storage|sdn]``: raw rows (docs/dev/proxmox-behaviour.md#discovery)."""
        return list(self.request("GET", "cluster/resources", {"type": kind}))

    def nodes(self) -> list[NodeInfo]:
        """``GET /nodes``: every node and whether it is online."""
        return [
            NodeInfo(
                node=row["node"],
                status=row.get("status", "unknown"),
                cpu=float(row.get("cpu") or 0),
                maxcpu=int(row.get("maxcpu") or 0),
                mem=int(row.get("mem") or 0),
                maxmem=int(row.get("maxmem") or 0),
                uptime=int(row.get("uptime") or 0),
                ssl_fingerprint=row.get("ssl_fingerprint", ""),
            )
            for row in self.request("GET", "nodes")
        ]

    def node_status(self, node: str) -> NodeStatus:
        """``GET /nodes/{node}/status``: CPU model, cores, sockets, RAM."""
        data = self.request("GET", f"nodes/{node}/status")
        cpuinfo = data.get("cpuinfo") or {}
        memory = data.get("memory") or {}
        return NodeStatus(
            node=node,
            cpu_model=str(cpuinfo.get("model", "")),
            cpus=int(cpuinfo.get("cpus") or 0),
            cores=int(cpuinfo.get("cores") or 0),
            sockets=int(cpuinfo.get("sockets") or 0),
            memory_total=int(memory.get("total") or 0),
            memory_used=int(memory.get("used") or 0),
            uptime=int(data.get("uptime") or 0),
            pveversion=str(data.get("pveversion", "")),
            kversion=str(data.get("kversion", "")),
        )

    def node_pci_devices(self, node: str) -> list[PciDevice]:
        """``GET /nodes/{node}/hardware/pci`` (needs ``Sys.Audit`` on ``/``;
        docs/dev/proxmox-behaviour.md#pci-hardware)."""
        return [
            PciDevice(
                id=row["id"],
                class_=str(row.get("class", "")),
                vendor=str(row.get("vendor", "")),
                device=str(row.get("device", "")),
                vendor_name=row.get("vendor_name", ""),
                device_name=row.get("device_name", ""),
                subsystem_vendor=row.get("subsystem_vendor", ""),
                subsystem_device=row.get("subsystem_device", ""),
                iommugroup=int(row.get("iommugroup", -1)),
                mdev=bool(int(row.get("mdev") or 0)),
            )
            for row in self.request("GET", f"nodes/{node}/hardware/pci")
        ]

    def pci_mappings(self) -> list[PciMapping]:
        """``GET /cluster/mapping/pci``: each mapping with one entry per device and node
        (docs/dev/proxmox-behaviour.md#pci-mappings)."""
        mappings = []
        for row in self.request("GET", "cluster/mapping/pci"):
            raw_map = row.get("map") or []
            entries = tuple(_parse_map_entry(item) for item in ([raw_map] if isinstance(raw_map, str) else raw_map))
            mappings.append(PciMapping(id=row["id"], description=row.get("description", ""), entries=entries))
        return mappings

    def pci_mapping_create(self, mapping_id: str, entries: Sequence[PciMappingEntry], *, description: str = "") -> None:
        """``POST /cluster/mapping/pci``: create a mapping (needs ``Mapping.Modify``)."""
        self.request(
            "POST",
            "cluster/mapping/pci",
            {"id": mapping_id, "description": description or None, "map": [_format_map_entry(e) for e in entries]},
        )

    def storages(self) -> list[StorageInfo]:
        """Storages as each node sees them, from ``/cluster/resources?type=storage``."""
        return [
            StorageInfo(
                storage=row["storage"],
                node=row.get("node", ""),
                plugintype=row.get("plugintype", ""),
                content=tuple(c for c in str(row.get("content", "")).split(",") if c),
                shared=bool(int(row.get("shared") or 0)),
                status=row.get("status", ""),
                disk=int(row.get("disk") or 0),
                maxdisk=int(row.get("maxdisk") or 0),
            )
            for row in self.cluster_resources("storage")
            if row.get("type") == "storage"
        ]

    def storage_content(
        self, node: str, storage: str, *, content: str | None = None, vmid: int | None = None
    ) -> list[StorageVolume]:
        """``GET /nodes/{node}/storage/{storage}/content``: the volumes a node sees on a storage.

        ``content`` filters by type (``images``, ``snippets``, ``iso``…), ``vmid``
        by owner VM. Needs ``Datastore.Audit`` or ``Datastore.AllocateSpace`` on
        ``/storage/{storage}`` (PVE API viewer, ``storage/{storage}/content``).
        """
        rows = self.request("GET", f"nodes/{node}/storage/{storage}/content", {"content": content, "vmid": vmid})
        return [
            StorageVolume(
                volid=str(row["volid"]),
                format=str(row.get("format", "")),
                size=int(row.get("size") or 0),
                content=str(row.get("content", "")),
                vmid=int(row["vmid"]) if row.get("vmid") not in (None, "") else None,
                used=int(row["used"]) if row.get("used") is not None else None,
                ctime=int(row["ctime"]) if row.get("ctime") is not None else None,
                parent=row.get("parent") or None,
                notes=str(row.get("notes") or ""),
                protected=bool(int(row.get("protected") or 0)),
            )
            for row in rows
        ]

    def templates(self) -> list[TemplateInfo]:
        """VM templates (``template: 1``) from ``/cluster/resources?type=vm``."""
        return [
            TemplateInfo(
                vmid=int(row["vmid"]),
                node=row["node"],
                name=row.get("name", ""),
                tags=_split_tags(row.get("tags")),
                maxdisk=int(row.get("maxdisk") or 0),
                maxmem=int(row.get("maxmem") or 0),
            )
            for row in self.cluster_resources("vm")
            if row.get("type") == "qemu" and int(row.get("template") or 0) == 1
        ]

    def locate(self, vmid: int) -> str | None:
        """The node that holds ``vmid``, or None (``/cluster/resources`` is the cheapest lookup;
        docs/dev/proxmox-behaviour.md#discovery)."""
        for row in self.cluster_resources("vm"):
            if int(row.get("vmid") or 0) == int(vmid):
                return str(row["node"])
        return None

    def next_free_vmid_check(self, vmid: int) -> bool:
        """``GET /cluster/nextid?vmid=N``: True if free now. Reserves nothing (docs/dev/proxmox-behaviour.md#nextid,
        #vmid-allocation)."""
        try:
            self.request("GET", "cluster/nextid", {"vmid": vmid})
        except ProxmoxParameterError as exc:
            if "already exists" in " ".join(exc.errors.values()):
                return False
            raise
        return True

    # --------------------------------------------------------------------- flow

    def clone(
        self,
        node: str,
        template_vmid: int,
        new_vmid: int,
        name: str,
        *,
        full: bool = True,
        target_storage: str | None = None,
        pool: str | None = None,
        target_node: str | None = None,
        description: str | None = None,
    ) -> str:
        """``POST …/{template}/clone``: clone into the VMID the platform allocated; returns the ``qmclone`` UPID.

        ``target_storage`` is for full clones only (PVE refuses it for linked
        clones). While the task runs the new VM has ``lock: clone`` (docs/dev/proxmox-behaviour.md#clone).
        """
        return self._task(
            "POST",
            f"{self._vm(node, template_vmid)}/clone",
            {
                "newid": int(new_vmid),
                "name": name,
                "full": full,
                "storage": target_storage if full else None,
                "pool": pool,
                "target": target_node,
                "description": description,
            },
        )

    def config(self, node: str, vmid: int, *, current: bool = False) -> VmConfig:
        """``GET …/config``: the options, ``lock`` and ``digest`` (docs/dev/proxmox-behaviour.md#vm-config)."""
        data = self.request("GET", f"{self._vm(node, vmid)}/config", {"current": current or None})
        return VmConfig(options=dict(data))

    def update_config(
        self,
        node: str,
        vmid: int,
        options: Mapping[str, ParamValue],
        *,
        delete: Sequence[str] = (),
        digest: str | None = None,
    ) -> str | None:
        """``POST …/config`` (async, ``qmconfig`` task): set raw options; returns the UPID (None if nothing to do)."""
        params: dict[str, ParamValue] = {key: value for key, value in options.items() if value is not None}
        if delete:
            params["delete"] = ",".join(delete)
        if not params:
            return None
        params["digest"] = digest
        return self._task("POST", f"{self._vm(node, vmid)}/config", params)

    def configure(
        self,
        node: str,
        vmid: int,
        *,
        cores: int | None = None,
        sockets: int | None = None,
        memory_mb: int | None = None,
        balloon_mb: int | None = None,
        cpu_type: str | None = "host",
        gpu_mappings: Sequence[str] = (),
        machine: str | None = None,
        bios: str | None = None,
        efidisk_storage: str | None = None,
        networks: Sequence[str] = (),
        ipconfigs: Sequence[str] = (),
        ci_user: str | None = None,
        ssh_keys: Sequence[str] = (),
        cicustom: str | None = None,
        user_data_snippet: str | None = None,
        nameserver: str | None = None,
        searchdomain: str | None = None,
        tags: Sequence[str] = (),
        description: str | None = None,
        onboot: bool | None = None,
        agent: bool | None = None,
        digest: str | None = None,
    ) -> str | None:
        """``POST …/config``: size, GPUs, network and cloud-init of a freshly cloned VM; returns the UPID.

        * ``gpu_mappings``: cluster PCI mapping ids, one ``hostpciN=mapping=<id>,pcie=1``
          each (API tokens cannot pass raw PCI addresses; docs/dev/proxmox-behaviour.md#hostpci). With GPUs,
          ``machine`` defaults to ``q35`` and ``bios`` to ``ovmf`` (docs/dev/proxmox-behaviour.md#gpu-templates).
        * ``efidisk_storage``: add a persistent ``efidisk0`` there (4m vars, no Secure
          Boot keys: they stop the NVIDIA module) to a VM that boots OVMF; pass it
          when the VM has none, or PVE boots it with throw-away EFI variables.
        * ``networks`` → ``net0…`` (see ``net_spec``), ``ipconfigs`` → ``ipconfig0…``
          (see ``ipconfig_spec``).
        * ``ssh_keys`` are URL-encoded as PVE requires (``encode_sshkeys``).
        * ``user_data_snippet`` (``local:snippets/c42-user.yaml``) becomes
          ``cicustom=user=<snippet>``; or pass ``cicustom`` whole.

        The physical GPU is only chosen at start (docs/dev/proxmox-behaviour.md#gpu-allocation), so this never fails for
        lack of GPUs.
        """
        if cicustom and user_data_snippet:
            raise ValueError("pass either cicustom or user_data_snippet, not both")
        options: dict[str, ParamValue] = {
            "cores": cores,
            "sockets": sockets,
            "memory": memory_mb,
            "balloon": balloon_mb,
            "cpu": cpu_type,
            "ciuser": ci_user,
            "nameserver": nameserver,
            "searchdomain": searchdomain,
            "description": description,
            "onboot": onboot,
            "agent": agent,
            "cicustom": cicustom or (f"user={user_data_snippet}" if user_data_snippet else None),
        }
        if gpu_mappings:
            options["machine"] = machine or "q35"
            options["bios"] = bios or "ovmf"
            for index, mapping_id in enumerate(gpu_mappings):
                options[f"hostpci{index}"] = f"mapping={mapping_id},pcie=1"
        else:
            options["machine"] = machine
            options["bios"] = bios
        if efidisk_storage:
            options["efidisk0"] = efidisk_spec(efidisk_storage)
        for index, net in enumerate(networks):
            options[f"net{index}"] = net
        for index, ipconfig in enumerate(ipconfigs):
            options[f"ipconfig{index}"] = ipconfig
        if ssh_keys:
            options["sshkeys"] = encode_sshkeys(ssh_keys)
        if tags:
            options["tags"] = ";".join(tags)
        return self.update_config(node, vmid, options, digest=digest)

    def resize_disk(self, node: str, vmid: int, disk: str, size_gb: int) -> str | None:
        """``PUT …/resize`` to an absolute size; returns the ``resize`` UPID (PVE ≥ 8) or None (PVE 7;
        docs/dev/proxmox-behaviour.md#resize)."""
        result = self.request("PUT", f"{self._vm(node, vmid)}/resize", {"disk": disk, "size": f"{int(size_gb)}G"})
        return None if result is None else self._upid(result, "PUT", f"{self._vm(node, vmid)}/resize")

    def _power(self, node: str, vmid: int, action: str, params: Mapping[str, ParamValue] | None = None) -> str:
        return self._task("POST", f"{self._vm(node, vmid)}/status/{action}", params)

    def start(self, node: str, vmid: int, *, timeout: int | None = None) -> str:
        """``POST status/start`` → ``qmstart`` UPID.

        GPU devices are picked now: "could not find a free device" fails the task
        (docs/dev/proxmox-behaviour.md#gpu-allocation, #gpu-start-errors).
        """
        return self._power(node, vmid, "start", {"timeout": timeout})

    def stop(self, node: str, vmid: int, *, timeout: int | None = None) -> str:
        """``POST status/stop`` (hard stop) → ``qmstop`` UPID; a stopped VM is an OK no-op."""
        return self._power(node, vmid, "stop", {"timeout": timeout})

    def shutdown(self, node: str, vmid: int, *, timeout: int | None = None, force_stop: bool = True) -> str:
        """``POST status/shutdown`` (ACPI) → ``qmshutdown`` UPID; ``force_stop`` stops it after ``timeout``."""
        return self._power(node, vmid, "shutdown", {"timeout": timeout, "forceStop": force_stop})

    def reboot(self, node: str, vmid: int, *, timeout: int | None = None) -> str:
        """``POST status/reboot`` → ``qmreboot`` UPID (applies pending changes)."""
        return self._power(node, vmid, "reboot", {"timeout": timeout})

    def reset(self, node: str, vmid: int) -> str:
        """``POST status/reset`` → ``qmreset`` UPID."""
        return self._power(node, vmid, "reset")

    def status(self, node: str, vmid: int) -> VmStatus:
        """``GET status/current`` (docs/dev/proxmox-behaviour.md#vm-status)."""
        data = self.request("GET", f"{self._vm(node, vmid)}/status/current")
        return VmStatus(
            vmid=int(data.get("vmid") or vmid),
            node=node,
            status=str(data.get("status", "unknown")),
            name=str(data.get("name", "")),
            qmpstatus=data.get("qmpstatus"),
            lock=data.get("lock") or None,
            uptime=int(data.get("uptime") or 0),
            cpus=float(data.get("cpus") or 0),
            cpu=float(data.get("cpu") or 0),
            mem=int(data.get("mem") or 0),
            maxmem=int(data.get("maxmem") or 0),
            maxdisk=int(data.get("maxdisk") or 0),
            netin=int(data.get("netin") or 0),
            netout=int(data.get("netout") or 0),
            diskread=int(data.get("diskread") or 0),
            diskwrite=int(data.get("diskwrite") or 0),
            pid=int(data["pid"]) if data.get("pid") else None,
            template=bool(int(data.get("template") or 0)),
            tags=_split_tags(data.get("tags")),
            agent=bool(int(data.get("agent") or 0)),
        )

    def snapshots(self, node: str, vmid: int) -> list[Snapshot]:
        """``GET …/snapshot`` without the ``current`` ("You are here!") pseudo-entry
        (docs/dev/proxmox-behaviour.md#snapshots)."""
        return [
            Snapshot(
                name=row["name"],
                description=row.get("description", ""),
                snaptime=int(row["snaptime"]) if row.get("snaptime") else None,
                vmstate=bool(int(row.get("vmstate") or 0)),
                parent=row.get("parent"),
            )
            for row in self.request("GET", f"{self._vm(node, vmid)}/snapshot")
            if row.get("name") != "current"
        ]

    def snapshot_create(self, node: str, vmid: int, name: str, description: str = "", *, vmstate: bool = False) -> str:
        """``POST …/snapshot`` → ``qmsnapshot`` UPID.

        Keep ``vmstate`` off for GPU VMs: VFIO device state cannot be saved (docs/dev/proxmox-behaviour.md#snapshots).
        """
        return self._task(
            "POST",
            f"{self._vm(node, vmid)}/snapshot",
            {"snapname": name, "description": description or None, "vmstate": vmstate},
        )

    def snapshot_rollback(self, node: str, vmid: int, name: str, *, start: bool = False) -> str:
        """``POST …/snapshot/{name}/rollback`` → ``qmrollback`` UPID (the VM must be stopped)."""
        return self._task("POST", f"{self._vm(node, vmid)}/snapshot/{name}/rollback", {"start": start or None})

    def snapshot_delete(self, node: str, vmid: int, name: str, *, force: bool = False) -> str:
        """``DELETE …/snapshot/{name}`` → ``qmdelsnapshot`` UPID."""
        return self._task("DELETE", f"{self._vm(node, vmid)}/snapshot/{name}", {"force": force or None})

    def delete(self, node: str, vmid: int, *, purge: bool = True, destroy_unreferenced_disks: bool = True) -> str:
        """``DELETE …/qemu/{vmid}`` → ``qmdestroy`` UPID.

        Stop the VM first; the VMID is free again only once the task ends (docs/dev/proxmox-behaviour.md#destroy).
        """
        return self._task(
            "DELETE",
            self._vm(node, vmid),
            {"purge": purge, "destroy-unreferenced-disks": destroy_unreferenced_disks},
        )

    def guest_ping(self, node: str, vmid: int) -> bool:
        """``POST agent/ping``: True once the QEMU guest agent answers (the guest finished booting)."""
        try:
            self.request("POST", f"{self._vm(node, vmid)}/agent/ping")
        except ProxmoxPermanentError as exc:
            if "not running" in exc.message or "No QEMU guest agent" in exc.message:
                return False
            raise
        return True

    def guest_network(self, node: str, vmid: int) -> list[GuestInterface]:
        """``GET agent/network-get-interfaces`` (needs the guest agent; docs/dev/proxmox-behaviour.md#guest-agent)."""
        data = self.request("GET", f"{self._vm(node, vmid)}/agent/network-get-interfaces")
        rows = data.get("result", []) if isinstance(data, dict) else []
        return [
            GuestInterface(
                name=row.get("name", ""),
                mac=row.get("hardware-address", ""),
                ip_addresses=tuple(
                    GuestIpAddress(
                        address=addr.get("ip-address", ""),
                        type=addr.get("ip-address-type", ""),
                        prefix=int(addr.get("prefix") or 0),
                    )
                    for addr in row.get("ip-addresses", [])
                ),
            )
            for row in rows
        ]

    # ------------------------------------------------- guest agent: files and commands

    def _agent(
        self, method: str, path: str, params: Mapping[str, ParamValue] | None = None, *, idempotent: bool = True
    ) -> Any:
        # docs/dev/proxmox-behaviour.md#guest-agent-files-exec: "Agent error: …" is the guest's own failure;
        # "QEMU guest agent is not running" may pass (the guest is still booting).
        try:
            return self.request(method, path, params, idempotent=idempotent)
        except ProxmoxPermanentError as exc:
            kwargs: dict[str, Any] = {
                "status_code": exc.status_code,
                "errors": exc.errors,
                "method": exc.method,
                "path": exc.path,
            }
            if exc.status_code == 500 and exc.message.startswith("Agent error:"):
                raise ProxmoxGuestAgentError(exc.message, **kwargs) from exc
            if exc.status_code == 500 and "QEMU guest agent is not running" in exc.message:
                raise ProxmoxGuestAgentNotRunning(exc.message, **kwargs) from exc
            raise

    def agent_file_write(self, node: str, vmid: int, path: str, content: bytes) -> None:
        """``POST agent/file-write``: create or truncate ``path`` in the guest with ``content`` (synchronous).

        The parent directory must exist; owner and mode cannot be chosen (the agent's defaults). Printable ASCII
        text up to 61440 bytes is sent as it is (``encode=1``, PVE base64-encodes it); anything else is sent
        base64-encoded by the driver (``encode=0``), so at most 46080 bytes: PVE's handling of non-ASCII
        characters with ``encode=1`` is not something to rely on (docs/dev/proxmox-behaviour.md#guest-agent-files-exec).
        Raises ``ValueError`` for a relative path or content over the limit, before any call.
        """
        if not path.startswith("/"):
            raise ValueError(f"guest path must be absolute: {path!r}")
        params: dict[str, ParamValue]
        if _PLAIN_TEXT_RE.match(content) and len(content) <= AGENT_CONTENT_MAX_CHARS:
            params = {"file": path, "content": content.decode("ascii"), "encode": True}
        else:
            encoded = base64.b64encode(content).decode("ascii")
            if len(encoded) > AGENT_CONTENT_MAX_CHARS:
                raise ValueError(
                    f"{len(content)} bytes is more than one guest-agent file-write takes "
                    f"({AGENT_CONTENT_MAX_CHARS} bytes of printable ASCII text, {AGENT_BASE64_MAX_BYTES} bytes "
                    "otherwise); write it in parts or deliver it another way"
                )
            params = {"file": path, "content": encoded, "encode": False}
        self._agent("POST", f"{self._vm(node, vmid)}/agent/file-write", params)
        logger.info("proxmox agent file-write vm %s %s (%d bytes)", vmid, path, len(content))

    def agent_file_read(self, node: str, vmid: int, path: str) -> bytes:
        """``GET agent/file-read``: the file's bytes. PVE reads at most 16 MiB; a longer file raises
        ``ProxmoxGuestAgentError`` rather than returning part of it."""
        data = self._agent("GET", f"{self._vm(node, vmid)}/agent/file-read", {"file": path})
        if int(data.get("truncated") or 0):
            raise ProxmoxGuestAgentError(
                f"file {path} is larger than the 16 MiB the guest agent reads",
                status_code=None,
                method="GET",
                path=f"{self._vm(node, vmid)}/agent/file-read",
            )
        return _agent_bytes(str(data.get("content") or ""))

    def agent_exec(self, node: str, vmid: int, command: Sequence[str], input_data: bytes | None = None) -> int:
        """``POST agent/exec``: start ``command`` (program and arguments) in the guest; return its pid at once.

        The command runs asynchronously: follow it with ``agent_exec_wait``. ``command`` goes as an array
        (``command=…&command=…``, proxmoxer repeats the key for a list). Not idempotent: a "got timeout" is not
        retried, as the guest may have started the command. ``input_data`` (stdin) must be ASCII, at most 65536
        bytes (docs/dev/proxmox-behaviour.md#guest-agent-files-exec).
        """
        if isinstance(command, str | bytes) or not command or not all(isinstance(part, str) for part in command):
            raise ValueError("command must be a non-empty list of strings (program, then its arguments)")
        params: dict[str, ParamValue] = {"command": list(command)}
        if input_data is not None:
            if not input_data.isascii() or len(input_data) > AGENT_INPUT_MAX_CHARS:
                raise ValueError(f"input_data must be ASCII and at most {AGENT_INPUT_MAX_CHARS} bytes")
            params["input-data"] = input_data.decode("ascii")
        data = self._agent("POST", f"{self._vm(node, vmid)}/agent/exec", params, idempotent=False)
        pid = int(data["pid"])
        logger.info("proxmox agent exec vm %s %s -> pid %d", vmid, command[0], pid)
        return pid

    def agent_exec_status(self, node: str, vmid: int, pid: int) -> GuestExecStatus:
        """``GET agent/exec-status``. Once the process has exited the agent answers this once, then forgets the
        pid (a second read is ``ProxmoxGuestAgentError``): keep the answer."""
        data = self._agent("GET", f"{self._vm(node, vmid)}/agent/exec-status", {"pid": int(pid)})
        exitcode = data.get("exitcode")
        signal = data.get("signal")
        return GuestExecStatus(
            exited=bool(int(data.get("exited") or 0)),
            exitcode=None if exitcode is None else int(exitcode),
            signal=None if signal is None else int(signal),
            stdout=_agent_bytes(str(data.get("out-data") or "")),
            stderr=_agent_bytes(str(data.get("err-data") or "")),
            out_truncated=bool(int(data.get("out-truncated") or 0)),
            err_truncated=bool(int(data.get("err-truncated") or 0)),
        )

    def agent_exec_wait(
        self, node: str, vmid: int, pid: int, timeout: float = 60.0, *, poll_interval: float | None = None
    ) -> GuestExecStatus:
        """Poll ``agent_exec_status`` until the process exits (exit code, stdout, stderr) or ``timeout`` passes:
        then ``ProxmoxGuestExecTimeout`` (transient; the process may still run, so wait again on the same pid)."""
        interval = self.task_poll_interval if poll_interval is None else poll_interval
        deadline = time.monotonic() + timeout
        while True:
            status = self.agent_exec_status(node, vmid, pid)
            if status.exited:
                logger.info("proxmox agent exec vm %s pid %d exited %s", vmid, pid, status.exitcode)
                return status
            if time.monotonic() >= deadline:
                raise ProxmoxGuestExecTimeout(
                    f"guest process {pid} still running after {timeout:g}s", pid=pid, node=node, vmid=vmid
                )
            time.sleep(interval)

    def rrddata(self, node: str, vmid: int, timeframe: str = "hour", cf: str = "AVERAGE") -> list[RrdPoint]:
        """``GET …/rrddata``: 70 points; keys PVE omits stay None (docs/dev/proxmox-behaviour.md#metrics)."""
        points = []
        for row in self.request("GET", f"{self._vm(node, vmid)}/rrddata", {"timeframe": timeframe, "cf": cf}):
            values = {key: float(row[key]) for key in _RRD_KEYS if row.get(key) is not None}
            points.append(RrdPoint(time=int(row["time"]), **values))
        return points

    def vncproxy(self, node: str, vmid: int) -> VncTicket:
        """``POST …/vncproxy`` with ``websocket=1`` and a generated password (docs/dev/proxmox-behaviour.md#console)."""
        data = self.request("POST", f"{self._vm(node, vmid)}/vncproxy", {"websocket": True, "generate-password": True})
        return VncTicket(
            node=node,
            vmid=int(vmid),
            port=int(data["port"]),
            ticket=str(data["ticket"]),
            user=str(data.get("user", "")),
            upid=str(data.get("upid", "")),
            cert=data.get("cert"),
            password=data.get("password"),
        )

    # ------------------------------------------------------------------ volumes

    def storage_status(self, node: str, storage: str) -> StorageStatus:
        """``GET /nodes/{node}/storage/{storage}/status``: total, used and free bytes as ``node`` sees them
        (docs/dev/proxmox-behaviour.md#volumes)."""
        data = self.request("GET", f"nodes/{node}/storage/{storage}/status")
        return StorageStatus(
            storage=storage,
            node=node,
            total=int(data.get("total") or 0),
            used=int(data.get("used") or 0),
            free=int(data.get("avail") or 0),
            type=str(data.get("type", "")),
            shared=bool(int(data.get("shared") or 0)),
            active=bool(int(data.get("active", 1) or 0)),
            enabled=bool(int(data.get("enabled", 1) or 0)),
        )

    def volume_allocate(self, node: str, storage: str, *, vmid: int, size_gb: int) -> str:
        """``POST /nodes/{node}/storage/{storage}/content``: a new, unattached volume owned by ``vmid``; returns its
        volid (synchronous).

        Pass the platform's holder VMID as ``vmid`` for a customer volume that must outlive any server
        (docs/dev/proxmox-behaviour.md#volume-keeping). The name is the lowest free ``vm-<vmid>-disk-N`` (directory
        storages add ``.raw``). Raises ``ProxmoxStorageFull`` before calling when the storage lacks the space.
        """
        if size_gb <= 0:
            raise ValueError("a volume needs a positive size")
        status = self.storage_status(node, storage)
        self._assert_room(status, int(size_gb) * GIB)
        file_based = status.type in FILE_STORAGE_TYPES
        for _attempt in range(5):
            taken = {_volume_name(v.volid) for v in self.storage_content(node, storage, content="images", vmid=vmid)}
            index = next(n for n in range(len(taken) + 1) if f"vm-{int(vmid)}-disk-{n}" not in taken)
            filename = f"vm-{int(vmid)}-disk-{index}" + (".raw" if file_based else "")
            try:
                result = self.request(
                    "POST",
                    f"nodes/{node}/storage/{storage}/content",
                    {
                        "vmid": int(vmid),
                        "filename": filename,
                        "size": f"{int(size_gb)}G",
                        "format": "raw" if file_based else None,
                    },
                )
            except ProxmoxPermanentError:
                # Another allocation took the same name between the listing and the POST: pick the next one.
                names = {
                    _volume_name(v.volid) for v in self.storage_content(node, storage, content="images", vmid=vmid)
                }
                if filename in names:
                    continue
                raise
            return str(result)
        raise ProxmoxTransientError(f"no free volume name for VM {vmid} on {storage} after 5 attempts")

    def volume_attach(
        self,
        node: str,
        vmid: int,
        *,
        volid: str,
        slot: str,
        limits: IoLimits | None = None,
        serial: str | None = None,
    ) -> VolumeAttachment:
        """Attach an existing volume as ``slot`` (``scsi1``, ``virtio2``…) with a synchronous ``PUT …/config``.

        A running VM with ``disk`` hot-plug takes ``scsiN``/``virtioN`` at once; otherwise (or for
        ``sata``/``ide``) the disk waits in ``pending`` until the next stop and start, without an error
        (docs/dev/proxmox-behaviour.md#hotplug): the result says which. ``serial`` (≤ 20 characters) lets the
        guest find the disk under ``/dev/disk/by-id``. A hot-plug QEMU refuses raises ``ProxmoxParameterError``
        with ``errors[slot]`` starting ``hotplug problem``; the disk then stays pending (attached at the next
        start): detach it to give up.
        """
        _check_slot(slot, unused=False)
        if serial is not None and not SERIAL_RE.match(serial):
            raise ValueError("a disk serial is 1 to 20 letters, digits, '-' or '_'")
        self.request("PUT", f"{self._vm(node, vmid)}/config", {slot: drive_spec(volid, limits=limits, serial=serial)})
        return VolumeAttachment(slot=slot, volid=volid, pending=self._pending_keys(node, vmid).get(slot) == "set")

    def volume_set_limits(self, node: str, vmid: int, *, slot: str, limits: IoLimits) -> None:
        """Replace the I/O limits of an attached disk, keeping its other options; applied live on a running VM
        (docs/dev/proxmox-behaviour.md#io-limits). Limits left None are removed."""
        _check_slot(slot, unused=False)
        config = self.config(node, vmid)
        current = config.options.get(slot)
        if not current:
            raise ProxmoxNotFound(f"VM {vmid} has no disk {slot}")
        volid, options = parse_drive(str(current))
        for key in LIMIT_KEYS:
            options.pop(key, None)
        options.update({key: _format_limit(value) for key, value in limits.items() if value is not None})
        value = ",".join([volid, *(f"{key}={val}" for key, val in options.items())])
        self.request("PUT", f"{self._vm(node, vmid)}/config", {slot: value, "digest": config.digest})

    def volume_detach(self, node: str, vmid: int, *, slot: str) -> VolumeDetachment:
        """Detach ``slot`` without freeing the volume (``PUT …/config delete=<slot>``, never ``force``).

        A volume the VM owns becomes ``unusedN`` (and is freed with the VM); one owned by another VMID, the
        holder (docs/dev/proxmox-behaviour.md#volume-keeping), is only dropped from the config and stays on its
        storage. A running VM that cannot unplug it keeps it until the next stop (``pending``).
        """
        _check_slot(slot, unused=False)
        config = self.config(node, vmid)
        current = config.options.get(slot)
        if not current:
            raise ProxmoxNotFound(f"VM {vmid} has no disk {slot}")
        volid, _options = parse_drive(str(current))
        self.request("PUT", f"{self._vm(node, vmid)}/config", {"delete": slot, "digest": config.digest})
        after = self.config(node, vmid).options
        unused = next(
            (key for key, value in after.items() if key.startswith("unused") and parse_drive(str(value))[0] == volid),
            None,
        )
        pending = self._pending_keys(node, vmid).get(slot) == "delete"
        return VolumeDetachment(slot=slot, volid=volid, unused_slot=unused, pending=pending)

    def volume_reassign(
        self,
        node: str,
        *,
        source_vmid: int,
        slot: str,
        target_vmid: int,
        target_slot: str,
        digest: str | None = None,
        target_digest: str | None = None,
    ) -> str:
        """Give a disk to another VM on the same node: ``POST …/move_disk`` with ``target-vmid``; returns the
        ``qmmove`` UPID.

        The volume is renamed to the target's next ``vm-<target>-disk-N`` (read the new volid from the target's
        config afterwards). ``slot`` may be ``unusedN``; any other slot needs a stopped source VM
        (docs/dev/proxmox-behaviour.md#reassign-disk). The checks run before the task: their failures are raised here.
        """
        _check_slot(slot, unused=True)
        _check_slot(target_slot, unused=True)
        if int(source_vmid) == int(target_vmid):
            raise ValueError("a reassign needs two different VMs")
        return self._task(
            "POST",
            f"{self._vm(node, source_vmid)}/move_disk",
            {
                "disk": slot,
                "target-vmid": int(target_vmid),
                "target-disk": target_slot,
                "digest": digest,
                "target-digest": target_digest,
            },
        )

    def volume_resize(self, node: str, vmid: int, *, slot: str, size_gb: int) -> str | None:
        """Grow the disk in ``slot`` to ``size_gb`` GiB (``PUT …/resize``); returns the ``resize`` UPID, or None
        when it already has that size.

        PVE cannot shrink a disk (the task fails); the driver refuses it before calling, with
        ``ProxmoxParameterError``, and refuses a growth the storage has no room for with ``ProxmoxStorageFull``
        (docs/dev/proxmox-behaviour.md#resize).
        """
        _check_slot(slot, unused=False)
        current = self.config(node, vmid).options.get(slot)
        if not current:
            raise ProxmoxNotFound(f"VM {vmid} has no disk {slot}")
        volid, options = parse_drive(str(current))
        wanted = int(size_gb) * GIB
        size = _size_bytes(options.get("size", "0"))
        if wanted < size:
            raise ProxmoxParameterError(
                f"disk {slot} of VM {vmid} is {size} bytes: a disk only grows",
                errors={"size": f"shrinking disks is not supported ({size} > {wanted} bytes)"},
            )
        if wanted == size:
            return None
        self._assert_room(self.storage_status(node, volid.partition(":")[0]), wanted - size)
        return self.resize_disk(node, vmid, slot, int(size_gb))

    def volume_delete(self, node: str, storage: str, *, volid: str) -> str:
        """``DELETE /nodes/{node}/storage/{storage}/content/{volid}``: free a volume; returns the ``imgdel`` UPID.

        PVE does not check whether a VM still uses it (docs/dev/proxmox-behaviour.md#volumes): detach first.
        """
        if not volid.startswith(f"{storage}:"):
            raise ValueError(f"volume {volid!r} is not on storage {storage!r}")
        return self._task("DELETE", f"nodes/{node}/storage/{storage}/content/{volid}")

    def _pending_keys(self, node: str, vmid: int) -> dict[str, str]:
        """Keys waiting in ``GET …/pending``: ``set`` (a new value not applied yet) or ``delete``."""
        keys: dict[str, str] = {}
        for row in self.request("GET", f"{self._vm(node, vmid)}/pending"):
            if row.get("delete"):
                keys[str(row["key"])] = "delete"
            elif "pending" in row:
                keys[str(row["key"])] = "set"
        return keys

    @staticmethod
    def _assert_room(status: StorageStatus, needed: int) -> None:
        if needed > status.free:
            raise ProxmoxStorageFull(
                f"storage {status.storage} on {status.node} has {status.free} bytes free, {needed} needed",
                errors={"size": f"not enough free space on {status.storage}"},
            )

    # ---------------------------------------------------------------------- SDN

    def sdn_zone_ensure(self, zone: str, *, zone_type: str, options: Mapping[str, ParamValue] | None = None) -> bool:
        """Create the SDN zone, or update the options that differ; True when something was written (pending until
        ``sdn_apply``; docs/dev/proxmox-behaviour.md#sdn). A zone of another type is refused: PVE cannot change it."""
        wanted = encode_params(options or {})
        rows = {str(row.get("zone")): row for row in self.request("GET", "cluster/sdn/zones")}
        current = rows.get(zone)
        if current is None:
            self.request("POST", "cluster/sdn/zones", {"zone": zone, "type": zone_type, **wanted})
            return True
        if str(current.get("type")) != zone_type:
            raise ProxmoxParameterError(
                f"SDN zone {zone} is of type {current.get('type')}, not {zone_type}",
                errors={"type": "a zone's type cannot change"},
            )
        changed = {key: value for key, value in wanted.items() if str(current.get(key, "")) != str(value)}
        if not changed:
            return False
        self.request("PUT", f"cluster/sdn/zones/{zone}", changed)
        return True

    def sdn_vnet_create(self, vnet: str, *, zone: str, tag: int | None = None, alias: str | None = None) -> None:
        """``POST /cluster/sdn/vnets`` (pending until ``sdn_apply``). ``tag`` is the VLAN or VXLAN id (none on a
        ``simple`` zone)."""
        self.request("POST", "cluster/sdn/vnets", {"vnet": vnet, "zone": zone, "tag": tag, "alias": alias})

    def sdn_subnet_create(
        self,
        vnet: str,
        *,
        cidr: str,
        gateway: str | None = None,
        snat: bool | None = None,
        dhcp_ranges: Sequence[tuple[str, str]] = (),
    ) -> None:
        """``POST /cluster/sdn/vnets/{vnet}/subnets`` with ``type=subnet`` (PVE requires it;
        docs/dev/proxmox-behaviour.md#sdn). ``dhcp_ranges`` are (start, end) addresses, used only by zones with
        ``dhcp=dnsmasq`` and an IPAM."""
        ranges = [f"start-address={start},end-address={end}" for start, end in dhcp_ranges]
        self.request(
            "POST",
            f"cluster/sdn/vnets/{vnet}/subnets",
            {"subnet": cidr, "type": "subnet", "gateway": gateway, "snat": snat, "dhcp-range": ranges or None},
        )

    def sdn_vnet_delete(self, vnet: str) -> bool:
        """Delete the vnet and its subnets (PVE refuses a vnet that still has subnets); False when it does not
        exist. Pending until ``sdn_apply``; detach every NIC first."""
        if vnet not in {str(row.get("vnet")) for row in self.request("GET", "cluster/sdn/vnets")}:
            return False
        for row in self.request("GET", f"cluster/sdn/vnets/{vnet}/subnets"):
            self.request("DELETE", f"cluster/sdn/vnets/{vnet}/subnets/{row['subnet']}")
        self.request("DELETE", f"cluster/sdn/vnets/{vnet}")
        return True

    def sdn_apply(self) -> str:
        """``PUT /cluster/sdn``: commit the pending SDN configuration; returns the ``reloadnetworkall`` UPID.

        The task ends ``OK`` even when a node failed to reload: check ``sdn_vnet_ready`` on the VM's node before
        using a new vnet there (docs/dev/proxmox-behaviour.md#sdn-apply). Serialize applies on 8.4 (no SDN lock).
        """
        return self._task("PUT", "cluster/sdn")

    def sdn_vnet_ready(self, node: str, vnet: str) -> bool:
        """True once ``node``'s network reload put the vnet's bridge in place (``GET /nodes/{node}/network``)."""
        return any(str(row.get("iface")) == vnet for row in self.request("GET", f"nodes/{node}/network"))

    def vm_nic_set(
        self,
        node: str,
        vmid: int,
        *,
        index: int,
        bridge: str,
        firewall: bool = True,
        macaddr: str | None = None,
        model: str = "virtio",
        tag: int | None = None,
        rate_mb_s: float | None = None,
    ) -> None:
        """Set ``net<index>`` with a synchronous ``PUT …/config``.

        Without ``macaddr`` an existing NIC keeps its MAC (a new MAC would replace the NIC and needs ``network``
        hot-plug); changing ``bridge``/``firewall``/``tag``/``rate`` applies live
        (docs/dev/proxmox-behaviour.md#firewall). The bridge must be ``vmbr0`` or a vnet applied on the node.
        """
        key = f"net{int(index)}"
        if macaddr is None:
            current = self.config(node, vmid).options.get(key)
            if current:
                first = str(current).split(",", 1)[0]
                found_model, _, mac = first.partition("=")
                if mac and found_model == model:
                    macaddr = mac
        spec = net_spec(bridge, model=model, macaddr=macaddr, firewall=firewall, tag=tag, rate_mb_s=rate_mb_s)
        self.request("PUT", f"{self._vm(node, vmid)}/config", {key: spec})

    def vm_nic_remove(self, node: str, vmid: int, *, index: int) -> None:
        """Remove ``net<index>`` (``PUT …/config delete=netN``; hot-unplugged with ``network`` hot-plug)."""
        self.request("PUT", f"{self._vm(node, vmid)}/config", {"delete": f"net{int(index)}"})

    # ------------------------------------------------- private networks (apps.networks, issue 13)

    def sdn_vnets(self) -> list[str]:
        """Ids of the vnets in the (pending) SDN configuration (``GET /cluster/sdn/vnets``)."""
        return [str(row.get("vnet")) for row in self.request("GET", "cluster/sdn/vnets")]

    def sdn_subnet_delete(self, vnet: str, *, cidr: str) -> bool:
        """``DELETE /cluster/sdn/vnets/{vnet}/subnets/{id}`` of the subnet with ``cidr`` (its id is
        ``<zone>-<address>-<prefix>``); False when the vnet has none. Pending until ``sdn_apply``."""
        for row in self.request("GET", f"cluster/sdn/vnets/{vnet}/subnets"):
            if str(row.get("cidr") or "") == cidr:
                self.request("DELETE", f"cluster/sdn/vnets/{vnet}/subnets/{row['subnet']}")
                return True
        return False

    def sdn_subnets(self, vnet: str) -> list[str]:
        """CIDRs of a vnet's subnets (``GET /cluster/sdn/vnets/{vnet}/subnets``; rows carry ``cidr``)."""
        rows = self.request("GET", f"cluster/sdn/vnets/{vnet}/subnets")
        return [str(row.get("cidr") or row.get("subnet")) for row in rows]

    def vm_ipconfig_set(self, node: str, vmid: int, *, index: int, ip: str, gw: str | None = None) -> None:
        """Set cloud-init's ``ipconfig<index>`` (``PUT …/config``, synchronous). The guest reads it at its next
        boot; ``vm_cloudinit_regenerate`` rebuilds the drive now (docs/dev/proxmox-behaviour.md#sdn-nic)."""
        self.request("PUT", f"{self._vm(node, vmid)}/config", {f"ipconfig{int(index)}": ipconfig_spec(ip=ip, gw=gw)})

    def vm_ipconfig_remove(self, node: str, vmid: int, *, index: int) -> None:
        """Drop ``ipconfig<index>`` (``PUT …/config delete=ipconfigN``)."""
        self.request("PUT", f"{self._vm(node, vmid)}/config", {"delete": f"ipconfig{int(index)}"})

    def vm_cicustom_set(self, node: str, vmid: int, value: str | None) -> None:
        """Set ``cicustom`` (``PUT …/config``, synchronous), or drop it when ``value`` is None. Read at the next
        cloud-init drive build (docs/dev/proxmox-behaviour.md#cloudinit-network)."""
        params: dict[str, ParamValue] = {"cicustom": value} if value else {"delete": "cicustom"}
        self.request("PUT", f"{self._vm(node, vmid)}/config", params)

    def vm_cloudinit_regenerate(self, node: str, vmid: int) -> None:
        """``PUT …/cloudinit``: rebuild the cloud-init drive from the current config (applied at next boot)."""
        self.request("PUT", f"{self._vm(node, vmid)}/cloudinit")

    # ----------------------------------------------------------------- firewall

    def cluster_firewall_enabled(self) -> bool:
        """``GET /cluster/firewall/options``: whether the datacentre firewall is on (the first of three switches;
        docs/dev/proxmox-behaviour.md#firewall)."""
        return bool(int(self.request("GET", "cluster/firewall/options").get("enable") or 0))

    def vm_firewall_options_set(
        self,
        node: str,
        vmid: int,
        *,
        enable: bool,
        policy_in: str | None = None,
        policy_out: str | None = None,
        ipfilter: bool | None = None,
        macfilter: bool | None = None,
    ) -> None:
        """``PUT …/firewall/options`` (synchronous, no VM lock). With ``ipfilter`` the VM's IPv4 traffic is
        dropped unless ``ipfilter-netN`` holds its addresses: fill it first (``vm_firewall_ipset_put``;
        docs/dev/proxmox-behaviour.md#ipfilter)."""
        for name, policy in (("policy_in", policy_in), ("policy_out", policy_out)):
            if policy is not None and policy not in FIREWALL_POLICIES:
                raise ValueError(f"{name} must be one of {', '.join(FIREWALL_POLICIES)}")
        self.request(
            "PUT",
            f"{self._vm(node, vmid)}/firewall/options",
            {
                "enable": int(enable),
                "policy_in": policy_in,
                "policy_out": policy_out,
                "ipfilter": ipfilter,
                "macfilter": macfilter,
            },
        )

    def firewall_group_put(self, group: str, rules: Sequence[FirewallRule], *, comment: str | None = None) -> bool:
        """Make the security group exist with exactly ``rules`` (in order); True when something was written.

        Idempotent: a group that already has these rules is not touched. Otherwise the new rules are inserted
        first (a bad one raises ``ProxmoxParameterError`` and the group keeps its old rules), then the old ones
        are removed with the rule-list digest (docs/dev/proxmox-behaviour.md#firewall-rules). Needs
        ``Sys.Modify`` on ``/``.
        """
        created = False
        if group not in {str(row.get("group")) for row in self.request("GET", "cluster/firewall/groups")}:
            self.request("POST", "cluster/firewall/groups", {"group": group, "comment": comment})
            created = True
        return self._rules_sync(f"cluster/firewall/groups/{group}", rules, managed=lambda rule: True) or created

    def firewall_group_delete(self, group: str) -> bool:
        """Delete the security group and its rules (PVE refuses a non-empty group); False when it does not exist.
        VM rules naming it then compile to an empty chain."""
        if group not in {str(row.get("group")) for row in self.request("GET", "cluster/firewall/groups")}:
            return False
        self._rules_sync(f"cluster/firewall/groups/{group}", (), managed=lambda rule: True)
        self.request("DELETE", f"cluster/firewall/groups/{group}")
        return True

    def vm_firewall_group_rules_set(
        self, node: str, vmid: int, *, groups: Sequence[str], iface: str | None = None
    ) -> bool:
        """Make the VM's ``type=group`` rules name exactly ``groups``, in order (on top of its other rules, which
        are kept); True when something was written. PVE does not check that the groups exist."""
        desired = [FirewallRule(type="group", action=name, iface=iface) for name in groups]
        return self._rules_sync(
            f"{self._vm(node, vmid)}/firewall/rules", desired, managed=lambda rule: rule.type == "group"
        )

    def vm_firewall_ipset_put(self, node: str, vmid: int, *, name: str, cidrs: Iterable[str]) -> bool:
        """Make the VM's IP set ``name`` hold exactly ``cidrs``; True when something was written.

        ``ipfilter-net<N>`` is the anti-spoofing set of NIC N (docs/dev/proxmox-behaviour.md#ipfilter); floating
        IPs are added to it too. PVE clears host bits of a CIDR, so the comparison does as well. A leading ``!``
        marks a ``nomatch`` entry (as in PVE's ``.fw`` files).
        """
        base = f"{self._vm(node, vmid)}/firewall/ipset"
        wanted = {_normalize_cidr(cidr) for cidr in cidrs}
        changed = False
        if name not in {str(row.get("name")) for row in self.request("GET", base)}:
            self.request("POST", base, {"name": name})
            changed = True
        current = {_ipset_entry(row) for row in self.request("GET", f"{base}/{name}")}
        for entry in sorted(wanted - current):
            cidr = entry.removeprefix("!")
            self.request("POST", f"{base}/{name}", {"cidr": cidr, "nomatch": True if entry.startswith("!") else None})
            changed = True
        for entry in sorted(current - wanted):
            self.request("DELETE", f"{base}/{name}/{quote(entry.removeprefix('!'), safe='')}")
            changed = True
        return changed

    def vm_firewall_state(self, node: str, vmid: int) -> VmFirewallState:
        """The VM's firewall options, rules and IP sets as PVE holds them (reconciliation compares them with the
        platform's records to find drift)."""
        base = f"{self._vm(node, vmid)}/firewall"
        options = self.request("GET", f"{base}/options")
        rules = tuple(FirewallRule.from_row(row) for row in self.request("GET", f"{base}/rules"))
        ipsets = {
            str(row["name"]): tuple(_ipset_entry(entry) for entry in self.request("GET", f"{base}/ipset/{row['name']}"))
            for row in self.request("GET", f"{base}/ipset")
        }
        return VmFirewallState(
            enable=bool(int(options.get("enable") or 0)),
            policy_in=options.get("policy_in") or None,
            policy_out=options.get("policy_out") or None,
            ipfilter=bool(int(options.get("ipfilter") or 0)),
            macfilter=bool(int(options.get("macfilter", 1))),  # PVE's default is on
            rules=rules,
            ipsets=ipsets,
        )

    def _rules_sync(
        self, path: str, desired: Sequence[FirewallRule], *, managed: Callable[[FirewallRule], bool]
    ) -> bool:
        """Replace the rules at ``path`` that ``managed`` selects by ``desired`` (placed on top); True if written.

        PVE's POST always inserts at position 0 (docs/dev/proxmox-behaviour.md#firewall-rules), so the new rules
        are posted last to first; if one is refused, those already posted are removed again and the error raised.
        """
        rows = self.request("GET", path)
        current = [(int(row["pos"]), FirewallRule.from_row(row)) for row in rows]
        if [rule for _pos, rule in current if managed(rule)] == list(desired):
            return False
        posted = 0
        try:
            for rule in reversed(desired):
                self.request("POST", path, rule.params())
                posted += 1
        except ProxmoxError:
            for _ in range(posted):
                self._rule_delete_at(path, 0)
            raise
        for pos in sorted((pos + posted for pos, rule in current if managed(rule)), reverse=True):
            self._rule_delete_at(path, pos)
        return True

    def _rule_delete_at(self, path: str, pos: int) -> None:
        # The digest makes PVE refuse the delete if someone else changed the list meanwhile.
        rows = self.request("GET", path)
        digest = str(rows[0]["digest"]) if rows and rows[0].get("digest") else None
        self.request("DELETE", f"{path}/{int(pos)}", {"digest": digest})

    # -------------------------------------------------------------------- tasks

    def task_status(self, node: str, upid: str) -> TaskStatus:
        """``GET /nodes/{node}/tasks/{upid}/status`` (docs/dev/proxmox-behaviour.md#task-status)."""
        data = self.request("GET", f"nodes/{node}/tasks/{upid}/status")
        return TaskStatus(
            upid=str(data.get("upid", upid)),
            node=str(data.get("node", node)),
            type=str(data.get("type", "")),
            id=str(data.get("id", "")),
            user=str(data.get("user", "")),
            status=str(data.get("status", "")),
            exitstatus=data.get("exitstatus"),
            starttime=int(data["starttime"]) if data.get("starttime") is not None else None,
            tokenid=data.get("tokenid"),
        )

    def task_log(self, node: str, upid: str, *, start: int = 0, limit: int = 50) -> list[str]:
        """Lines of the task log (``GET …/log``; the last one is ``TASK OK`` or ``TASK ERROR: …``;
        docs/dev/proxmox-behaviour.md#task-log)."""
        rows = self.request("GET", f"nodes/{node}/tasks/{upid}/log", {"start": start, "limit": limit})
        return [str(row.get("t", "")) for row in rows]

    def wait_task(self, node: str, upid: str, *, timeout: float = 900.0) -> TaskStatus:
        """Poll until the task stops; raise ``ProxmoxTaskFailed`` unless its exitstatus is OK or WARNINGS.

        Raises ``ProxmoxTaskTimeout`` (transient) when ``timeout`` seconds pass first:
        the task keeps running on PVE, so wait again rather than re-dispatching it.
        A task that is not visible yet (400 ``no such task``) is tolerated for a few
        seconds (docs/dev/proxmox-behaviour.md#proxmoxer, bpg ``tasks.go``).
        """
        deadline = time.monotonic() + timeout
        invisible_until = time.monotonic() + TASK_NOT_VISIBLE_GRACE_SECONDS
        while True:
            try:
                status = self.task_status(node, upid)
            except ProxmoxNotFound:
                if time.monotonic() > invisible_until:
                    raise
                status = None
            if status is not None and not status.running:
                if status.ok:
                    logger.info("proxmox task %s finished: %s", upid, status.exitstatus)
                    return status
                log_tail = tuple(self._safe_log(node, upid))
                logger.warning("proxmox task %s failed: %s", upid, status.exitstatus)
                raise ProxmoxTaskFailed(
                    upid=upid, exitstatus=status.exitstatus or "unexpected status", log_tail=log_tail, node=node
                )
            if time.monotonic() >= deadline:
                raise ProxmoxTaskTimeout(f"task still running after {timeout:g}s", upid=upid, node=node)
            time.sleep(self.task_poll_interval)

    def run_task(self, node: str, start: Callable[[], str | None], *, timeout: float = 900.0) -> TaskStatus | None:
        """Start a task with ``start()`` and wait for it; None when the call was synchronous."""
        upid = start()
        return None if upid is None else self.wait_task(node, upid, timeout=timeout)

    def _safe_log(self, node: str, upid: str, lines: int = 20) -> list[str]:
        # proxmoxer drops the log's "total", so read a generous window and keep its end.
        try:
            return self.task_log(node, upid, start=0, limit=5000)[-lines:]
        except ProxmoxError:
            return []

    @staticmethod
    def upid_decode(upid: str) -> Upid:
        """Split a UPID into node, pid, start time, type, id and user (docs/dev/proxmox-behaviour.md#upid)."""
        return Upid.parse(upid)


class _ConnectionFailed(ProxmoxTransientError):
    """The TCP/TLS connection failed: safe to retry any method."""


def _utf8_reason(text: str) -> str:
    # The reason phrase carries PVE's message as UTF-8 bytes; http.client decodes a status line as latin-1, so
    # "“" arrives as "â\x80\x9c" (docs/dev/proxmox-behaviour.md#guest-agent-files-exec). Plain ASCII is unchanged.
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _agent_bytes(text: str) -> bytes:
    # PVE hands the guest's bytes to its JSON encoder undecoded, one character per byte; should a version send
    # UTF-8 text instead, characters above U+00FF only fit as UTF-8
    # (docs/dev/proxmox-behaviour.md#guest-agent-files-exec).
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


_RRD_KEYS = ("cpu", "maxcpu", "mem", "maxmem", "disk", "maxdisk", "netin", "netout", "diskread", "diskwrite")


def _split_tags(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(tag for tag in str(value).replace(",", ";").replace(" ", ";").split(";") if tag)


def _parse_map_entry(text: str) -> PciMappingEntry:
    # ``node=gpu01,path=0000:41:00.0,id=10de:20b5,iommugroup=42`` (docs/dev/proxmox-behaviour.md#pci-mappings).
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        fields[key.strip()] = value.strip()
    group = fields.get("iommugroup")
    return PciMappingEntry(
        node=fields.get("node", ""),
        path=fields.get("path", ""),
        id=fields.get("id", ""),
        iommugroup=int(group) if group not in (None, "") else None,
        subsystem_id=fields.get("subsystem-id") or None,
        description=fields.get("description", ""),
    )


def _format_map_entry(entry: PciMappingEntry) -> str:
    parts = [f"node={entry.node}", f"path={entry.path}", f"id={entry.id}"]
    if entry.subsystem_id:
        parts.append(f"subsystem-id={entry.subsystem_id}")
    if entry.iommugroup is not None:
        parts.append(f"iommugroup={entry.iommugroup}")
    return ",".join(parts)
