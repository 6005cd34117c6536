"""Read a fleet YAML file (the Proxmox simulator's format) into inventory snapshots.

``manage.py fleet_bootstrap --fleet apps/pvesim/fleets/demo.yaml`` imports the
demo fleet without a running simulator: each cluster of the file becomes an
``InventorySnapshot`` shaped exactly as the driver would have returned it from
the simulator, and goes through the same ``inventory_sync`` code. A later sync
against the running simulator then finds nothing to change.

The YAML is read directly: production code never imports ``apps.pvesim`` (an
import-linter contract forbids it), so the few generation rules of the format
(node groups, generated GPU addresses and IOMMU groups, NVLink groups) are
mirrored here; ``tests/infrastructure/test_fleet_bootstrap.py`` checks both
readings agree. NVLink peer groups, which PVE does not report, travel in the
mapping entries' ``description`` as ``nvlink=<group>``, which the sync reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from apps.infrastructure.proxmox.types import (
    NodeInfo,
    NodeStatus,
    PciDevice,
    PciMapping,
    PciMappingEntry,
    StorageInfo,
    TemplateInfo,
)
from apps.infrastructure.services.inventory import InventorySnapshot

GIB = 1024**3
# Same as the simulator's generated addresses (apps/pvesim/fleet.py): a dual-socket board's PCIe buses.
_SLOT_BUSES = ("01", "21", "41", "61", "81", "a1", "c1", "e1", "02", "22", "42", "62", "82", "a2", "c2", "e2")


class FleetFileError(ValueError):
    """The fleet file cannot be read."""


@dataclass(frozen=True)
class FleetCluster:
    """One cluster of a fleet file: its name, datacentre code, drained nodes and inventory."""

    name: str
    datacentre: str
    maintenance_nodes: tuple[str, ...]
    snapshot: InventorySnapshot
    # The shared storage with ``snippets`` content and a local ``path`` (the simulator's stand-in
    # for an NFS share the workers mount): the cluster's user-data snippets storage, or "".
    snippets_storage: str = ""
    snippets_path: str = ""


def _address(raw: str) -> str:
    address = raw.lower()
    if address.count(":") == 1:
        address = f"0000:{address}"
    return address.split(".")[0]


def _nodes(cluster: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [dict(n) for n in cluster.get("nodes") or []]
    groups = []
    for group in cluster.get("node_groups") or []:
        count = int(group["count"])
        width = max(2, len(str(count)))
        groups += [{**group, "name": f"{group['prefix']}{i:0{width}d}"} for i in range(1, count + 1)]
    # The simulator lists explicit nodes first, then the groups (apps/pvesim/fleet.py _parse_cluster).
    return nodes + groups


def _gpus(node: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    """(device address without function, model slug, IOMMU group, NVLink group) per GPU."""
    out: list[tuple[str, str, int, str]] = []
    slot = 0
    for item in node.get("gpus") or []:
        if "address" in item:
            out.append(
                (
                    _address(str(item["address"])),
                    str(item["model"]),
                    int(item.get("iommugroup", 10 + len(out))),
                    str(item.get("nvlink_group") or ""),
                )
            )
            continue
        count = int(item.get("count", 1))
        nvlink = str(item.get("nvlink", "none"))
        for index in range(count):
            group = ""
            if nvlink == "pairs" and count > 1:
                group = f"{node['name']}-nvl{index // 2}"
            elif nvlink == "all" and count > 1:
                group = f"{node['name']}-nvl"
            out.append((f"0000:{_SLOT_BUSES[slot]}:00", str(item["model"]), 20 + slot * 4, group))
            slot += 1
    return out


def load_fleet_file(path: str | Path) -> list[FleetCluster]:
    """Every cluster of the fleet file, as the sync would have seen it."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FleetFileError(f"cannot read fleet file {path}: {exc}") from exc
    if not isinstance(raw, dict) or not raw.get("clusters"):
        raise FleetFileError(f"{path}: a fleet needs a 'clusters' list")
    models = raw.get("gpu_models") or {}
    return [_cluster(c, models) for c in raw["clusters"]]


def _cluster(cluster: dict[str, Any], models: dict[str, Any]) -> FleetCluster:
    cluster_maintenance = bool(cluster.get("maintenance", False))
    nodes = _nodes(cluster)
    infos, statuses, pci, drained = [], {}, {}, []
    mappings: dict[str, list[PciMappingEntry]] = {}
    for node in nodes:
        name = str(node["name"])
        cpus = int(node.get("sockets", 1)) * int(node.get("cores", 32)) * int(node.get("threads", 2))
        memory = int(node.get("memory_gb", 256)) * GIB
        online = bool(node.get("online", True))
        if bool(node.get("maintenance", cluster_maintenance)):
            drained.append(name)
        infos.append(NodeInfo(node=name, status="online" if online else "offline", maxcpu=cpus, maxmem=memory))
        if not online:
            continue
        statuses[name] = NodeStatus(
            node=name,
            cpu_model=str(node.get("cpu_model", "AMD EPYC 7543P 32-Core Processor")),
            cpus=cpus,
            cores=int(node.get("cores", 32)),
            sockets=int(node.get("sockets", 1)),
            memory_total=memory,
            memory_used=0,
        )
        devices = []
        for address, slug, iommu, nvlink in _gpus(node):
            spec = models[slug]
            vendor, device = str(spec["id"]).split(":")
            devices.append(
                PciDevice(
                    id=f"{address}.0",
                    class_=str(spec.get("class", "0x030200")),
                    vendor=f"0x{vendor}",
                    device=f"0x{device}",
                    device_name=str(spec.get("name", slug)),
                    iommugroup=iommu,
                )
            )
            audio = spec.get("audio")
            if audio:
                a_vendor, a_device = str(audio["id"]).split(":")
                devices.append(
                    PciDevice(
                        id=f"{address}.1",
                        class_="0x040300",
                        vendor=f"0x{a_vendor}",
                        device=f"0x{a_device}",
                        iommugroup=iommu,
                    )
                )
            mappings.setdefault(slug, []).append(
                PciMappingEntry(
                    node=name,
                    path=address if audio else f"{address}.0",
                    id=str(spec["id"]),
                    iommugroup=iommu,
                    description=f"nvlink={nvlink}" if nvlink else "",
                )
            )
        pci[name] = devices
    storages = []
    names = [str(n["name"]) for n in nodes]
    for st in cluster.get("storages") or []:
        for node_name in st.get("nodes") or names:
            storages.append(
                StorageInfo(
                    storage=str(st["name"]),
                    node=str(node_name),
                    plugintype=str(st.get("type", "dir")),
                    content=tuple(st.get("content", ["images"])),
                    shared=bool(st.get("shared", False)),
                    maxdisk=int(st.get("size_gb", 1000)) * GIB,
                )
            )
    templates, template_storage = [], {}
    default_storage = str((cluster.get("storages") or [{"name": "local"}])[0]["name"])
    for t in cluster.get("templates") or []:
        vmid = int(t["vmid"])
        templates.append(
            TemplateInfo(
                vmid=vmid,
                node=str(t.get("node", names[0])),
                name=str(t["name"]),
                tags=tuple(t.get("tags", ())),
                maxdisk=int(t.get("disk_gb", 10)) * GIB,
            )
        )
        template_storage[vmid] = str(t.get("storage", default_storage))
    snippets = next(
        (
            st
            for st in cluster.get("storages") or []
            if "snippets" in (st.get("content") or []) and st.get("shared") and st.get("path")
        ),
        None,
    )
    return FleetCluster(
        name=str(cluster["name"]),
        datacentre=str(cluster.get("datacentre", cluster["name"])),
        maintenance_nodes=tuple(drained),
        snippets_storage=str(snippets["name"]) if snippets else "",
        snippets_path=str(Path(str(snippets["path"])).resolve()) if snippets else "",
        snapshot=InventorySnapshot(
            nodes=infos,
            statuses=statuses,
            pci=pci,
            unreadable={},
            mappings=[
                PciMapping(id=slug, description=str(models[slug].get("name", slug)), entries=tuple(entries))
                for slug, entries in mappings.items()
            ],
            storages=storages,
            templates=templates,
            template_storage=template_storage,
        ),
    )
