"""Inventory sync: pull nodes, GPUs, PCI mappings, storages and templates from a cluster.

The cluster is the truth for hardware facts (what exists, its PCI ids, its
mapping, its size); staff are the truth for what the cluster cannot know
(maintenance, the GPU model of a device once assigned, NVLink peer groups once
set, storage tiers, which OS image a template is). So the sync:

- creates what is new, and updates hardware facts;
- never overwrites staff-owned fields, and reports a difference instead;
- never deletes: what disappeared gets ``missing_since`` (placement skips it)
  and an entry in the ``SyncReport``'s drift list;
- never touches the ledger (node counters, GPU states and reservations), so a
  placement running at the same moment is never undone. Writes go through
  ``update_fields``/``update()`` on inventory columns only, one node per
  transaction, node row before its GPU rows (the lock order placement uses).

Calls used (docs/dev/proxmox-behaviour.md#discovery, #pci-hardware, #pci-mappings): ``GET /nodes``,
``/nodes/{node}/status``, ``/nodes/{node}/hardware/pci``,
``/cluster/mapping/pci``, ``/cluster/resources?type=storage|vm``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.catalogue.models import GpuModel, GpuSoftwareStack, OsImage
from apps.core.actors import Actor
from apps.core.services import audit_record
from apps.infrastructure import choices
from apps.infrastructure.models import Cluster, GpuDevice, Node, Storage, SyncReport, VmTemplate
from apps.infrastructure.proxmox import ProxmoxDriver, ProxmoxError
from apps.infrastructure.proxmox.types import NodeInfo, NodeStatus, PciDevice, PciMapping, StorageInfo, TemplateInfo
from apps.infrastructure.services.volume_storage import cluster_storage_refresh
from apps.infrastructure.signals import cluster_synced

logger = logging.getLogger(__name__)

GIB = 2**30
GB = 10**9
# Template tags that name what the template is (the staff docs page "Adding a
# cluster" asks for them): ``os-ubuntu-24.04`` (the OS image slug), ``gpu``
# (an OVMF/q35 template for GPU VMs), ``stack-<slug>`` (a GPU software stack).
IMAGE_TAGS = ("os-", "image-")
STACK_TAG = "stack-"
GPU_TAG = "gpu"
_DISK_KEY_RE = re.compile(r"^(scsi|virtio|sata|ide)\d+$")
_NVLINK_RE = re.compile(r"nvlink[=:]\s*([\w.\-]+)", re.IGNORECASE)


# ---------------------------------------------------------------------------
# Driver factory
# ---------------------------------------------------------------------------
def _ca_bundle_path(pem: str) -> str:
    """Write a CA bundle once per content under VAR_DIR (requests needs a file path)."""
    digest = hashlib.sha256(pem.encode()).hexdigest()[:32]
    folder = Path(settings.VAR_DIR) / "pve-ca"
    path = folder / f"{digest}.pem"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(pem, encoding="utf-8")
        tmp.replace(path)
    return str(path)


def cluster_driver(*, cluster: Cluster, **options: Any) -> ProxmoxDriver:
    """A driver for ``cluster`` with its decrypted token and TLS trust (CA PEM or file, else the system CAs)."""
    verify: bool | str = True
    if cluster.tls_ca_pem.strip():
        verify = _ca_bundle_path(cluster.tls_ca_pem)
    elif cluster.tls_ca_file:
        verify = str(Path(settings.BASE_DIR) / cluster.tls_ca_file)  # absolute paths stay absolute
    return ProxmoxDriver(cluster.api_url, cluster.token_id, cluster.get_token_secret(), verify=verify, **options)


# ---------------------------------------------------------------------------
# Sync
# ---------------------------------------------------------------------------
@dataclass
class InventorySnapshot:
    """What the cluster reported, fetched before any database write."""

    nodes: list[NodeInfo]
    statuses: dict[str, NodeStatus]
    pci: dict[str, list[PciDevice]]
    unreadable: dict[str, str]  # node -> error: its devices were not read, so none is flagged missing
    mappings: list[PciMapping]
    storages: list[StorageInfo]
    templates: list[TemplateInfo]
    template_storage: dict[int, str] = field(default_factory=dict)  # vmid -> storage of its first disk
    template_uefi: dict[int, str] = field(default_factory=dict)  # vmid -> why it is not UEFI-ready ("" if it is)
    # VMIDs the cluster lists with status "unknown" and no details (their node is unreachable): a template
    # among them is not missing, only out of sight.
    unknown_vmids: set[int] = field(default_factory=set)


@dataclass
class _Report:
    counts: dict[str, int] = field(default_factory=dict)
    drift: list[dict[str, str]] = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def flag(self, kind: str, obj: str, message: str) -> None:
        self.drift.append({"kind": kind, "object": obj, "message": message})


def _fetch(driver: ProxmoxDriver) -> InventorySnapshot:
    nodes = driver.nodes()
    statuses: dict[str, NodeStatus] = {}
    pci: dict[str, list[PciDevice]] = {}
    unreadable: dict[str, str] = {}
    for info in nodes:
        if not info.online:
            continue
        try:
            statuses[info.node] = driver.node_status(info.node)
            pci[info.node] = driver.node_pci_devices(info.node)
        except ProxmoxError as exc:
            # One unreachable node (595) must not stop the sync of the others.
            unreadable[info.node] = str(exc)
    templates = driver.templates()
    unknown_vmids = {
        int(row["vmid"])
        for row in driver.cluster_resources("vm")
        if row.get("status") == "unknown" and "template" not in row and row.get("vmid") is not None
    }
    template_storage: dict[int, str] = {}
    template_uefi: dict[int, str] = {}
    for template in templates:
        try:
            options = driver.config(template.node, template.vmid).options
        except ProxmoxError:
            continue
        template_storage[template.vmid] = _first_disk_storage(options)
        template_uefi[template.vmid] = uefi_problem(options)
    return InventorySnapshot(
        nodes=nodes,
        statuses=statuses,
        pci=pci,
        unreadable=unreadable,
        mappings=driver.pci_mappings(),
        storages=driver.storages(),
        templates=templates,
        template_storage=template_storage,
        template_uefi=template_uefi,
        unknown_vmids=unknown_vmids,
    )


def uefi_problem(options: dict[str, object]) -> str:
    """Why a template's clones would not boot as GPU VMs under UEFI; "" when it is UEFI-ready.

    GPU VMs run OVMF (q35, passthrough); a BIOS-only image has no EFI system
    partition and does not boot under it. Without ``efidisk0`` PVE boots from a
    temporary copy of the EFI variables and forgets them (boot entries, MOK) at
    every stop. Secure Boot keys (``pre-enrolled-keys=1``) stop the unsigned
    NVIDIA kernel module from loading (docs page proxmox-simulator, "EFI disks").
    """
    if str(options.get("bios", "seabios")) != "ovmf":
        return "BIOS (SeaBIOS) template: GPU VMs boot with OVMF (UEFI), which a BIOS-only image cannot."
    efidisk = str(options.get("efidisk0") or "")
    if not efidisk:
        return "No EFI disk (efidisk0): EFI variables would be lost at every boot."
    if "pre-enrolled-keys=1" in efidisk.split(","):
        return "Secure Boot keys enrolled (pre-enrolled-keys=1): the NVIDIA driver would not load."
    return ""


def _first_disk_storage(options: dict[str, object]) -> str:
    """The storage of a VM's first disk: ``scsi0: ceph-nvme:base-9001-disk-0,size=10G`` -> ``ceph-nvme``."""
    for key in sorted(options):
        value = str(options[key])
        if _DISK_KEY_RE.match(key) and "media=cdrom" not in value and ":" in value:
            return value.split(":", 1)[0]
    return ""


def inventory_sync(
    *,
    cluster: Cluster,
    actor: Actor = None,
    driver: ProxmoxDriver | None = None,
    snapshot: InventorySnapshot | None = None,
) -> SyncReport:
    """Sync ``cluster``'s inventory and record a ``SyncReport``.

    ``snapshot`` replaces the API calls (``fleet_bootstrap`` imports a fleet
    file that way, through exactly the same code). Driver errors are recorded
    (report ``failed``, ``cluster.last_sync_error``) and then re-raised so the
    task can retry the transient ones.
    """
    started = timezone.now()
    asked_cluster = snapshot is None
    try:
        if snapshot is None:
            driver = driver or cluster_driver(cluster=cluster)
            snapshot = _fetch(driver)
    except ProxmoxError as exc:
        with transaction.atomic():
            report = SyncReport.objects.create(
                cluster=cluster,
                started_at=started,
                finished_at=timezone.now(),
                status=choices.SyncStatus.FAILED,
                error=str(exc)[:2000],
            )
            Cluster.objects.filter(pk=cluster.pk).update(
                sync_status=choices.SyncStatus.FAILED, last_sync_error=str(exc)[:2000]
            )
            audit_record(actor=actor, action="infrastructure.cluster.sync_failed", target=cluster)
        raise
    result = _Report()
    now = timezone.now()
    _apply(cluster=cluster, snapshot=snapshot, report=result, now=now)
    cluster_storage_refresh(cluster=cluster)  # block storage tiers follow their storage's size (issue 13)
    status = choices.SyncStatus.DRIFT if result.drift else choices.SyncStatus.OK
    with transaction.atomic():
        report = SyncReport.objects.create(
            cluster=cluster,
            started_at=started,
            finished_at=timezone.now(),
            status=status,
            counts=result.counts,
            drift=result.drift,
        )
        Cluster.objects.filter(pk=cluster.pk).update(sync_status=status, last_sync_at=now, last_sync_error="")
        audit_record(
            actor=actor,
            action="infrastructure.cluster.sync",
            target=cluster,
            changes={"report_id": report.pk, "status": status, "drift": len(result.drift)},
        )
    cluster.refresh_from_db()
    if asked_cluster:
        for receiver, error in cluster_synced.send_robust(sender=Cluster, cluster=cluster, driver=driver):
            if isinstance(error, Exception):
                logger.warning("inventory sync of %s: %s failed: %s", cluster.name, receiver, error)
    return report


def _strip(value: str) -> str:
    return value.lower().removeprefix("0x")


def _gpu_model_lookup() -> dict[str, GpuModel]:
    return {
        f"{_strip(m.pci_vendor_id)}:{_strip(m.pci_device_id)}": m
        for m in GpuModel.objects.exclude(pci_vendor_id="").exclude(pci_device_id="")
    }


def _mapping_index(mappings: list[PciMapping]) -> dict[tuple[str, str], tuple[str, str]]:
    """(node, path as written) -> (mapping id, entry description)."""
    index: dict[tuple[str, str], tuple[str, str]] = {}
    for mapping in mappings:
        for entry in mapping.entries:
            for path in entry.path.split(";"):
                index[(entry.node, path.lower())] = (mapping.id, entry.description or mapping.description)
    return index


def _mapping_for(index: dict[tuple[str, str], tuple[str, str]], node: str, address: str) -> tuple[str, str] | None:
    address = address.lower()
    # A path without the function ("0000:01:00") maps every function of the device
    # (docs/dev/proxmox-behaviour.md#pci-mappings).
    return index.get((node, address)) or index.get((node, address.rsplit(".", 1)[0]))


def _apply(*, cluster: Cluster, snapshot: InventorySnapshot, report: _Report, now: Any) -> None:
    models_by_id = _gpu_model_lookup()
    mappings = _mapping_index(snapshot.mappings)
    report.count("mappings", len(snapshot.mappings))
    known = {node.name: node for node in Node.objects.filter(cluster=cluster)}
    listed = {info.node for info in snapshot.nodes}

    for info in sorted(snapshot.nodes, key=lambda i: i.node):
        with transaction.atomic():
            node = _apply_node(cluster, known.get(info.node), info, snapshot.statuses.get(info.node), report, now)
            known[node.name] = node
            if info.node in snapshot.unreadable:
                report.flag("node_unreadable", node.name, snapshot.unreadable[info.node])
            elif info.node in snapshot.pci:
                _apply_gpus(node, snapshot.pci[info.node], mappings, models_by_id, report, now)
    for name, node in sorted(known.items()):
        if name not in listed and node.missing_since is None:
            Node.objects.filter(pk=node.pk).update(missing_since=now, status=choices.NodeStatus.UNKNOWN)
            report.flag("node_missing", name, "The cluster no longer lists this node.")
    _apply_storages(cluster, snapshot.storages, known, report, now)
    shared = {row.storage for row in snapshot.storages if row.shared}
    _apply_templates(
        cluster,
        snapshot.templates,
        snapshot.template_storage,
        shared,
        known,
        report,
        now,
        snapshot.template_uefi,
        snapshot.unknown_vmids,
    )


def _apply_node(
    cluster: Cluster, node: Node | None, info: NodeInfo, status: NodeStatus | None, report: _Report, now: Any
) -> Node:
    cores = (status.cpus if status else 0) or info.maxcpu
    memory = (status.memory_total if status else 0) or info.maxmem
    ram_gb = round(memory / GIB) if memory else 0
    cpu_model = status.cpu_model if status else ""
    if node is None:
        report.count("nodes_created")
        return Node.objects.create(
            cluster=cluster,
            datacentre_id=cluster.datacentre_id,
            name=info.node,
            cpu_model=cpu_model,
            cores=cores,
            ram_gb=ram_gb,
            status=info.status if info.status in choices.NodeStatus.values else choices.NodeStatus.UNKNOWN,
            last_seen_at=now,
        )
    report.count("nodes_updated")
    changed: list[str] = []
    for attr, value in (("cores", cores), ("ram_gb", ram_gb), ("cpu_model", cpu_model)):
        old = getattr(node, attr)
        if value and old != value:
            if old:
                report.flag("node_hardware_changed", node.name, f"{attr}: {old} -> {value}")
            setattr(node, attr, value)
            changed.append(attr)
    new_status = info.status if info.status in choices.NodeStatus.values else choices.NodeStatus.UNKNOWN
    if node.status != new_status:
        if node.status == choices.NodeStatus.ONLINE:
            report.flag("node_status", node.name, f"{node.status} -> {new_status}")
        node.status = new_status
        changed.append("status")
    if node.missing_since is not None:
        report.flag("node_reappeared", node.name, "The cluster lists this node again.")
        node.missing_since = None
        changed.append("missing_since")
    node.last_seen_at = now
    # Inventory columns only: the allocation counters belong to placement.
    node.save(update_fields=[*changed, "last_seen_at", "updated_at"])
    return node


def _apply_gpus(
    node: Node,
    devices: list[PciDevice],
    mappings: dict[tuple[str, str], tuple[str, str]],
    models_by_id: dict[str, GpuModel],
    report: _Report,
    now: Any,
) -> None:
    existing = {gpu.pci_address.lower(): gpu for gpu in GpuDevice.objects.filter(node=node).order_by("id")}
    seen: set[str] = set()
    for device in devices:
        mapped = _mapping_for(mappings, node.name, device.id)
        model = models_by_id.get(device.vendor_device)
        # Only passthrough GPUs: a known GPU model or a device in a PCI mapping
        # (a server's BMC VGA is class 0x0300 too, and is neither).
        if not device.is_gpu or (model is None and mapped is None):
            continue
        address = device.id.lower()
        seen.add(address)
        mapping_name, description = mapped or ("", "")
        nvlink_match = _NVLINK_RE.search(description)
        nvlink = nvlink_match.group(1) if nvlink_match else ""
        vendor, device_id = device.vendor_device.split(":")
        gpu = existing.get(address)
        if gpu is None:
            report.count("gpus_created")
            GpuDevice.objects.create(
                node=node,
                pci_address=address,
                vendor_id=vendor,
                device_id=device_id,
                device_name=device.device_name[:200],
                gpu_model=model,
                iommu_group=device.iommugroup if device.iommugroup >= 0 else None,
                nvlink_peer_group=nvlink,
                mapping_name=mapping_name,
                last_seen_at=now,
            )
            if not mapping_name:
                report.flag("gpu_unmapped", f"{node.name} {address}", "In no cluster PCI mapping: not usable.")
            continue
        report.count("gpus_updated")
        changed = ["last_seen_at", "updated_at"]
        gpu.last_seen_at = now
        if (gpu.vendor_id, gpu.device_id) != (vendor, device_id):
            report.flag(
                "gpu_changed",
                f"{node.name} {address}",
                f"PCI id {gpu.vendor_id}:{gpu.device_id} -> {vendor}:{device_id}",
            )
            gpu.vendor_id, gpu.device_id = vendor, device_id
            changed += ["vendor_id", "device_id"]
        if gpu.gpu_model_id is None and model is not None:
            gpu.gpu_model = model
            changed.append("gpu_model")
        elif model is not None and gpu.gpu_model_id != model.pk:
            report.flag(
                "gpu_model_differs",
                f"{node.name} {address}",
                f"Staff set {gpu.gpu_model}, the PCI id says {model}: kept staff's.",
            )
        if gpu.mapping_name != mapping_name:
            if gpu.mapping_name:
                report.flag(
                    "gpu_mapping_changed",
                    f"{node.name} {address}",
                    f"{gpu.mapping_name or '-'} -> {mapping_name or '-'}",
                )
            gpu.mapping_name = mapping_name
            changed.append("mapping_name")
        iommu = device.iommugroup if device.iommugroup >= 0 else None
        if gpu.iommu_group != iommu:
            gpu.iommu_group = iommu
            changed.append("iommu_group")
        if nvlink and not gpu.nvlink_peer_group:
            gpu.nvlink_peer_group = nvlink
            changed.append("nvlink_peer_group")
        if gpu.missing_since is not None:
            report.flag("gpu_reappeared", f"{node.name} {address}", "The node reports this device again.")
            gpu.missing_since = None
            changed.append("missing_since")
        # Inventory columns only: state and reservation belong to placement.
        gpu.save(update_fields=changed)
    for address, gpu in existing.items():
        if address not in seen and gpu.missing_since is None:
            GpuDevice.objects.filter(pk=gpu.pk).update(missing_since=now, updated_at=now)
            held = f" It is {gpu.get_state_display().lower()}." if gpu.reservation_id else ""
            report.flag("gpu_missing", f"{node.name} {address}", f"The node no longer reports this GPU.{held}")
    present = GpuDevice.objects.filter(node=node, missing_since__isnull=True).count()
    if node.gpu_count != present:
        Node.objects.filter(pk=node.pk).update(gpu_count=present)
        node.gpu_count = present


def _apply_storages(
    cluster: Cluster, rows: list[StorageInfo], nodes: dict[str, Node], report: _Report, now: Any
) -> None:
    existing = {(s.node_id, s.name): s for s in Storage.objects.filter(cluster=cluster)}
    seen: set[tuple[int | None, str]] = set()
    merged: dict[tuple[int | None, str], StorageInfo] = {}
    for row in rows:
        node = nodes.get(row.node)
        key = (None if row.shared else (node.pk if node else None), row.storage)
        if not row.shared and node is None:
            continue
        # A shared storage appears once per node: keep the largest report.
        if key not in merged or row.maxdisk > merged[key].maxdisk:
            merged[key] = row
    with transaction.atomic():
        for key, row in merged.items():
            seen.add(key)
            values = {
                "type": row.plugintype,
                "content": ",".join(row.content),
                "shared": row.shared,
                "capacity_gb": row.maxdisk // GB,
                "used_gb": row.disk // GB,
                "last_seen_at": now,
                "missing_since": None,
            }
            storage = existing.get(key)
            if storage is None:
                Storage.objects.create(cluster=cluster, node_id=key[0], name=row.storage, **values)
                report.count("storages_created")
            else:
                if storage.missing_since is not None:
                    report.flag("storage_reappeared", str(storage), "The cluster lists this storage again.")
                for attr, value in values.items():
                    setattr(storage, attr, value)
                storage.save(update_fields=[*values, "updated_at"])
                report.count("storages_updated")
        for key, storage in existing.items():
            if key not in seen and storage.missing_since is None:
                Storage.objects.filter(pk=storage.pk).update(missing_since=now)
                report.flag("storage_missing", str(storage), "The cluster no longer lists this storage.")


def _apply_templates(
    cluster: Cluster,
    rows: list[TemplateInfo],
    storage_of: dict[int, str],
    shared_storages: set[str],
    nodes: dict[str, Node],
    report: _Report,
    now: Any,
    uefi: dict[int, str] | None = None,
    unknown_vmids: set[int] | None = None,
) -> None:
    """Templates on shared storage serve every node of the cluster (clone with ``target=``): ``node`` empty.

    A GPU template that is not UEFI-ready (``uefi_problem``) is flagged in the report and on the row.
    """
    uefi = uefi or {}
    existing = {t.vmid: t for t in VmTemplate.objects.filter(cluster=cluster)}
    images = {i.slug: i for i in OsImage.objects.all()}
    stacks = {s.slug: s for s in GpuSoftwareStack.objects.all()}
    seen: set[int] = set()
    with transaction.atomic():
        for row in rows:
            seen.add(row.vmid)
            node = None if storage_of.get(row.vmid) in shared_storages else nodes.get(row.node)
            image = _tagged(row, IMAGE_TAGS, images) or images.get(row.name.removeprefix("tpl-").removesuffix("-gpu"))
            gpu_ready = GPU_TAG in row.tags or row.name.endswith("-gpu")
            stack = _tagged(row, STACK_TAG, stacks)
            problem = uefi.get(row.vmid)
            uefi_ready = None if problem is None else not problem
            if gpu_ready and problem:
                report.flag("template_not_uefi", f"{row.name} ({row.vmid})", problem)
            template = existing.get(row.vmid)
            if template is None:
                VmTemplate.objects.create(
                    cluster=cluster,
                    node=node,
                    vmid=row.vmid,
                    name=row.name,
                    os_image=image,
                    gpu_stack=stack,
                    gpu_ready=gpu_ready,
                    disk_gb=row.maxdisk // GB,
                    uefi_ready=uefi_ready,
                    uefi_problem=(problem or "")[:200],
                    last_seen_at=now,
                )
                report.count("templates_created")
                if image is None:
                    report.flag("template_unmatched", f"{row.name} ({row.vmid})", "No OS image matches: set it.")
                continue
            report.count("templates_updated")
            changed = ["last_seen_at", "updated_at", "name", "disk_gb", "gpu_ready", "uefi_ready", "uefi_problem"]
            template.uefi_ready = uefi_ready
            template.uefi_problem = (problem or "")[:200]
            template.last_seen_at = now
            template.name = row.name
            template.disk_gb = row.maxdisk // GB
            template.gpu_ready = gpu_ready
            if template.os_image_id is None and image is not None:
                template.os_image = image
                changed.append("os_image")
            if template.gpu_stack_id is None and stack is not None:
                template.gpu_stack = stack
                changed.append("gpu_stack")
            if template.node_id and node is not None and template.node_id != node.pk:
                report.flag("template_moved", str(template), f"Now on {node.name}.")
                template.node = node
                changed.append("node")
            if template.missing_since is not None:
                template.missing_since = None
                changed.append("missing_since")
            template.save(update_fields=changed)
        for vmid, template in existing.items():
            # A template on an unreachable node is listed bare ("unknown", no ``template`` flag; PVE API
            # viewer /cluster/resources): out of sight, not missing.
            if vmid not in seen and vmid not in (unknown_vmids or set()) and template.missing_since is None:
                VmTemplate.objects.filter(pk=template.pk).update(missing_since=now)
                report.flag("template_missing", str(template), "The cluster no longer lists this template.")


def _tagged(row: TemplateInfo, prefixes: str | tuple[str, ...], table: dict[str, Any]) -> Any:
    for tag in row.tags:
        for prefix in (prefixes,) if isinstance(prefixes, str) else prefixes:
            if tag.startswith(prefix) and tag[len(prefix) :] in table:
                return table[tag[len(prefix) :]]
    return None
