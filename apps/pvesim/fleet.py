"""Fleet files: the hardware a simulated Proxmox VE cluster pretends to have.

A fleet YAML file lists ``gpu_models`` and ``clusters``. Each cluster (one PVE
cluster per datacentre, served on its own port) has ``storages``, ``pools``,
``templates`` and nodes, given one by one (``nodes``) or as numbered groups
(``node_groups``). GPUs are given per node, either explicitly (PCI address,
IOMMU group, NVLink peer group) or as ``{model, count, nvlink: pairs|all|none}``
with generated addresses. One cluster PCI mapping per GPU model is created with
one entry per device (docs/dev/proxmox-behaviour.md#pci-mappings, #gpu-allocation). A storage with ``snippets`` content
may give a ``path``: a local directory standing for its shared root, where the
platform writes cloud-init snippets and the simulator reads them at VM start
(the platform's ``Cluster.snippets_path``). An optional ``acl`` gives the API tokens' roles and grants
(default: the platform's documented grants; ``apps.pvesim.acl``). See ``fleets/test.yaml`` for a small
complete example and the staff docs page "Proxmox simulator".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Buses of the PCIe slots used for generated GPU addresses (a dual-socket EPYC board has 8 root complexes).
_SLOT_BUSES = ("01", "21", "41", "61", "81", "a1", "c1", "e1", "02", "22", "42", "62", "82", "a2", "c2", "e2")


class FleetError(ValueError):
    """The fleet file is malformed."""


@dataclass(frozen=True)
class GpuModelSpec:
    slug: str
    vendor_device: str  # "10de:20b5" (no 0x, as in PCI mappings)
    pci_class: str  # "0x030200" (3D controller) or "0x030000" (VGA)
    name: str  # lspci device name
    audio_vendor_device: str | None = None  # RTX cards carry an HDMI audio function at .1
    audio_name: str = ""


@dataclass(frozen=True)
class GpuSpec:
    address: str  # "0000:41:00" (the device; functions .0/.1 are derived)
    model: str
    iommugroup: int
    nvlink_group: str | None = None


@dataclass(frozen=True)
class NodeSpec:
    name: str
    cpu_model: str
    sockets: int
    cores: int  # per socket
    threads: int  # per core
    memory_gb: int
    gpus: tuple[GpuSpec, ...] = ()
    maintenance: bool = False
    online: bool = True
    ip: str = ""

    @property
    def cpus(self) -> int:
        return self.sockets * self.cores * self.threads


@dataclass(frozen=True)
class StorageSpec:
    name: str
    type: str  # PVE plugin type: rbd, lvmthin, dir, zfspool, ...
    content: tuple[str, ...]
    shared: bool
    size_gb: int
    nodes: tuple[str, ...] | None = None  # None: every node
    # A local directory that plays this storage's shared root (an NFS export): snippet volumes
    # ``<name>:snippets/<file>`` are read from ``<path>/snippets/<file>`` at VM start.
    path: str | None = None


@dataclass(frozen=True)
class TemplateSpec:
    vmid: int
    name: str
    node: str
    storage: str
    disk_gb: int = 10
    memory_mb: int = 2048
    cores: int = 2
    ostype: str = "l26"
    bios: str = "seabios"
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grant:
    """One ACL entry: ``pveum acl modify <path> --tokens <token> --roles <role> [--propagate 0]``
    (apps.pvesim.acl; docs/dev/proxmox-permissions.md)."""

    path: str
    role: str
    propagate: bool = True


@dataclass(frozen=True)
class TokenAcl:
    """A token's grants and its user's (None: the same grants, as the docs give both)."""

    grants: tuple[Grant, ...]
    user_grants: tuple[Grant, ...] | None = None
    privsep: bool = True


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    datacentre: str
    nodes: tuple[NodeSpec, ...]
    storages: tuple[StorageSpec, ...]
    templates: tuple[TemplateSpec, ...]
    gpu_models: dict[str, GpuModelSpec]
    pools: tuple[str, ...] = ("customers",)
    maintenance: bool = False
    next_id_lower: int = 100
    next_id_upper: int = 1_000_000
    # The datacentre firewall switch at start (``/cluster/firewall/options enable``): off on a fresh PVE
    # cluster; ``firewall: true`` in the fleet file starts it on, as an operator would have set it.
    firewall_enabled: bool = False
    # ``acl:`` in the fleet file: extra roles, and each token's grants. None: the platform's documented grants
    # for every token (apps.pvesim.acl.platform_grants; docs/dev/proxmox-permissions.md#fleet-acl).
    acl_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    acl_tokens: dict[str, TokenAcl] | None = None


@dataclass(frozen=True)
class Fleet:
    clusters: tuple[ClusterSpec, ...]
    source: str = ""

    def cluster(self, name: str | None = None) -> ClusterSpec:
        if name is None:
            return self.clusters[0]
        for cluster in self.clusters:
            if name in (cluster.name, cluster.datacentre):
                return cluster
        raise FleetError(f"no cluster {name!r} in {self.source}")


@dataclass
class _Ctx:
    gpu_models: dict[str, GpuModelSpec] = field(default_factory=dict)


def load_fleet(path: str | Path) -> Fleet:
    """Read and check a fleet YAML file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FleetError(f"cannot read fleet file {path}: {exc}") from exc
    return parse_fleet(raw, source=str(path))


def parse_fleet(raw: Any, *, source: str = "<fleet>") -> Fleet:
    if not isinstance(raw, dict) or not raw.get("clusters"):
        raise FleetError(f"{source}: a fleet needs a 'clusters' list")
    ctx = _Ctx()
    for slug, spec in (raw.get("gpu_models") or {}).items():
        audio = spec.get("audio") or {}
        ctx.gpu_models[slug] = GpuModelSpec(
            slug=slug,
            vendor_device=str(spec["id"]),
            pci_class=str(spec.get("class", "0x030200")),
            name=str(spec.get("name", slug)),
            audio_vendor_device=audio.get("id"),
            audio_name=str(audio.get("name", "")),
        )
    clusters = tuple(_parse_cluster(item, ctx, source) for item in raw["clusters"])
    vmids = [t.vmid for c in clusters for t in c.templates]
    if len(vmids) != len(set(vmids)) and len(clusters) == 1:
        raise FleetError(f"{source}: template VMIDs must be unique")
    return Fleet(clusters=clusters, source=source)


def _parse_cluster(raw: dict[str, Any], ctx: _Ctx, source: str) -> ClusterSpec:
    name = str(raw["name"])
    maintenance = bool(raw.get("maintenance", False))
    nodes: list[NodeSpec] = []
    for group in raw.get("node_groups") or []:
        count = int(group["count"])
        width = max(2, len(str(count)))
        for index in range(1, count + 1):
            node = dict(group)
            node["name"] = f"{group['prefix']}{index:0{width}d}"
            nodes.append(_parse_node(node, ctx, source, maintenance))
    nodes.extend(_parse_node(item, ctx, source, maintenance) for item in raw.get("nodes") or [])
    names = [n.name for n in nodes]
    if len(names) != len(set(names)):
        raise FleetError(f"{source}: duplicate node names in cluster {name}")
    if not nodes:
        raise FleetError(f"{source}: cluster {name} has no nodes")
    storages = tuple(
        StorageSpec(
            name=str(s["name"]),
            type=str(s.get("type", "dir")),
            content=tuple(s.get("content", ["images"])),
            shared=bool(s.get("shared", False)),
            size_gb=int(s.get("size_gb", 1000)),
            nodes=tuple(s["nodes"]) if s.get("nodes") else None,
            path=str(s["path"]) if s.get("path") else None,
        )
        for s in raw.get("storages") or []
    )
    storage_names = {s.name for s in storages}
    templates = []
    for t in raw.get("templates") or []:
        storage = str(t.get("storage", storages[0].name if storages else "local"))
        if storage not in storage_names:
            raise FleetError(f"{source}: template {t.get('name')} uses unknown storage {storage}")
        template_node = str(t.get("node", names[0]))
        if template_node not in names:
            raise FleetError(f"{source}: template {t.get('name')} on unknown node {template_node}")
        templates.append(
            TemplateSpec(
                vmid=int(t["vmid"]),
                name=str(t["name"]),
                node=template_node,
                storage=storage,
                disk_gb=int(t.get("disk_gb", 10)),
                memory_mb=int(t.get("memory_mb", 2048)),
                cores=int(t.get("cores", 2)),
                ostype=str(t.get("ostype", "l26")),
                bios=str(t.get("bios", "seabios")),
                tags=tuple(t.get("tags", ())),
            )
        )
    next_id = raw.get("next_id") or {}
    acl_roles, acl_tokens = _parse_acl(raw.get("acl"), source)
    return ClusterSpec(
        name=name,
        datacentre=str(raw.get("datacentre", name)),
        nodes=tuple(nodes),
        storages=storages,
        templates=tuple(templates),
        gpu_models=dict(ctx.gpu_models),
        pools=tuple(raw.get("pools", ["customers"])),
        maintenance=maintenance,
        next_id_lower=int(next_id.get("lower", 100)),
        next_id_upper=int(next_id.get("upper", 1_000_000)),
        firewall_enabled=bool(raw.get("firewall", False)),
        acl_roles=acl_roles,
        acl_tokens=acl_tokens,
    )


def _grants(raw: Any, source: str) -> tuple[Grant, ...]:
    grants = []
    for item in raw or []:
        if not isinstance(item, dict) or not item.get("path") or not item.get("role"):
            raise FleetError(f"{source}: an ACL grant needs a path and a role: {item!r}")
        path = "/" + "/".join(p for p in str(item["path"]).split("/") if p)
        grants.append(Grant(path=path, role=str(item["role"]), propagate=bool(item.get("propagate", True))))
    return tuple(grants)


def _parse_acl(raw: Any, source: str) -> tuple[dict[str, tuple[str, ...]], dict[str, TokenAcl] | None]:
    """``acl: {roles: {Name: [privileges]}, tokens: {"user@realm!id": {grants: [...], user_grants?, privsep?}}}``."""
    if raw is None:
        return {}, None
    if not isinstance(raw, dict):
        raise FleetError(f"{source}: 'acl' must be a mapping")
    roles = {str(name): tuple(str(p) for p in privs) for name, privs in (raw.get("roles") or {}).items()}
    tokens = {}
    for token, spec in (raw.get("tokens") or {}).items():
        spec = spec or {}
        user = spec.get("user_grants")
        tokens[str(token)] = TokenAcl(
            grants=_grants(spec.get("grants"), source),
            user_grants=_grants(user, source) if user is not None else None,
            privsep=bool(spec.get("privsep", True)),
        )
    return roles, tokens


def _parse_node(raw: dict[str, Any], ctx: _Ctx, source: str, cluster_maintenance: bool) -> NodeSpec:
    name = str(raw["name"])
    gpus: list[GpuSpec] = []
    slot = 0
    for item in raw.get("gpus") or []:
        model = str(item["model"])
        if model not in ctx.gpu_models:
            raise FleetError(f"{source}: node {name} has a GPU of unknown model {model}")
        if "address" in item:
            gpus.append(
                GpuSpec(
                    address=_device_address(str(item["address"])),
                    model=model,
                    iommugroup=int(item.get("iommugroup", 10 + len(gpus))),
                    nvlink_group=item.get("nvlink_group"),
                )
            )
            continue
        count = int(item.get("count", 1))
        nvlink = str(item.get("nvlink", "none"))
        for index in range(count):
            if slot >= len(_SLOT_BUSES):
                raise FleetError(f"{source}: node {name} has more than {len(_SLOT_BUSES)} GPUs")
            group = None
            if nvlink == "pairs" and count > 1:
                group = f"{name}-nvl{index // 2}"
            elif nvlink == "all" and count > 1:
                group = f"{name}-nvl"
            gpus.append(
                GpuSpec(
                    address=f"0000:{_SLOT_BUSES[slot]}:00",
                    model=model,
                    iommugroup=20 + slot * 4,
                    nvlink_group=group,
                )
            )
            slot += 1
    return NodeSpec(
        name=name,
        cpu_model=str(raw.get("cpu_model", "AMD EPYC 7543P 32-Core Processor")),
        sockets=int(raw.get("sockets", 1)),
        cores=int(raw.get("cores", 32)),
        threads=int(raw.get("threads", 2)),
        memory_gb=int(raw.get("memory_gb", 256)),
        gpus=tuple(gpus),
        maintenance=bool(raw.get("maintenance", cluster_maintenance)),
        online=bool(raw.get("online", True)),
        ip=str(raw.get("ip", "")),
    )


def _device_address(address: str) -> str:
    # "0000:41:00.0" → "0000:41:00": the simulator addresses devices, and derives functions .0 (GPU) and .1 (audio).
    address = address.lower()
    if address.count(":") == 1:
        address = f"0000:{address}"
    return address.split(".")[0]
