"""The capacity dashboard: sold against sellable per datacentre, for vCPU, RAM, storage and each GPU model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Sum

from apps.catalogue.models import Datacentre, GpuModel
from apps.infrastructure import choices
from apps.infrastructure.models import Node
from apps.infrastructure.selectors.envelopes import _gpu_ledger, envelopes_get, vm_disk_storages


@dataclass(frozen=True)
class CapacityLine:
    """One resource of one datacentre: physical, sellable under the envelope, and sold."""

    resource: str
    label: str
    unit: str
    physical: int
    sellable: int
    sold: int
    gpu_model_id: int | None = None

    @property
    def percent(self) -> int:
        """Sold as a percentage of sellable (can exceed 100 if the envelope was lowered)."""
        if self.sellable <= 0:
            return 100 if self.sold else 0
        return round(100 * self.sold / self.sellable)

    @property
    def remaining(self) -> int:
        return max(0, self.sellable - self.sold)


@dataclass(frozen=True)
class DatacentreCapacityView:
    datacentre: Datacentre
    nodes_total: int
    nodes_in_service: int
    lines: tuple[CapacityLine, ...]


def datacentre_capacity(*, datacentres: Sequence[Datacentre]) -> list[DatacentreCapacityView]:
    """Sold against sellable for vCPU, RAM, storage and each GPU model, per datacentre (five queries).

    Physical capacity counts the nodes in service (online, not drained); sold
    counts everything reservations hold, wherever it sits.
    """
    envelopes = envelopes_get()
    dc_ids = [dc.pk for dc in datacentres]
    in_service = Q(status=choices.NodeStatus.ONLINE, maintenance=False, missing_since__isnull=True)
    node_rows = {
        row["datacentre_id"]: row
        for row in Node.objects.filter(datacentre_id__in=dc_ids)
        .values("datacentre_id")
        .annotate(
            total=Count("id"),
            serving=Count("id", filter=in_service),
            cores=Sum("cores", filter=in_service),
            ram=Sum("ram_gb", filter=in_service),
            sold_vcpu=Sum("allocated_vcpu"),
            sold_ram=Sum("allocated_ram_gb"),
        )
    }
    disk_rows = {
        row["cluster__datacentre_id"]: row
        for row in vm_disk_storages()
        .filter(cluster__datacentre_id__in=dc_ids)
        .values("cluster__datacentre_id")
        .annotate(capacity=Sum("capacity_gb"), sold=Sum("allocated_gb"))
    }
    physical, held = _gpu_ledger(dc_ids)
    gpu_models = {m.pk: m for m in GpuModel.objects.filter(pk__in={k[1] for k in physical})}
    out = []
    for dc in datacentres:
        row: dict[str, Any] = dict(node_rows.get(dc.pk) or {})
        cores, ram = row.get("cores") or 0, row.get("ram") or 0
        disk_row: dict[str, Any] = dict(disk_rows.get(dc.pk) or {})
        disk, sold_disk = disk_row.get("capacity") or 0, disk_row.get("sold") or 0
        lines = [
            CapacityLine("vcpu", "vCPU", "vCPU", cores, math.floor(cores * envelopes.vcpu), row.get("sold_vcpu") or 0),
            CapacityLine("ram", "RAM", "GB", ram, math.floor(ram * envelopes.ram), row.get("sold_ram") or 0),
            CapacityLine("storage", "Storage", "GB", disk, math.floor(disk * envelopes.storage), sold_disk),
        ]
        for (dc_id, model_id), count in sorted(physical.items(), key=lambda kv: gpu_models[kv[0][1]].vram_gb):
            if dc_id != dc.pk:
                continue
            model = gpu_models[model_id]
            lines.append(
                CapacityLine(
                    "gpu",
                    f"GPU {model.name}",
                    "GPU",
                    count,
                    math.floor(count * envelopes.gpu_fraction(model_id)),
                    held.get((dc_id, model_id), 0),
                    gpu_model_id=model_id,
                )
            )
        out.append(
            DatacentreCapacityView(
                datacentre=dc,
                nodes_total=row.get("total") or 0,
                nodes_in_service=row.get("serving") or 0,
                lines=tuple(lines),
            )
        )
    return out


def datacentres_for_capacity() -> list[Datacentre]:
    return list(Datacentre.objects.order_by("position", "code"))
