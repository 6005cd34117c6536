"""What the fleet can take: the catalogue's capacity envelopes, the nodes and storages in service, usable GPUs.

Sellable amounts follow ``catalogue.CapacityEnvelope``: physical x oversell x target utilisation, applied
per node for vCPU, RAM and disk (a VM must fit on one node) and per datacentre for each GPU model (the
envelope keeps spare GPUs, e.g. 80% of the T4s). Availability, the capacity dashboard and placement all
start from these reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import CapacityEnvelope
from apps.infrastructure import choices
from apps.infrastructure.models import GpuDevice, Node, Storage

HELD_GPU_STATES = (choices.GpuState.RESERVED, choices.GpuState.IN_USE)


@dataclass(frozen=True)
class Envelopes:
    """Sellable fractions (oversell x target utilisation) per resource; 1 when no envelope is set."""

    vcpu: Decimal = Decimal(1)
    ram: Decimal = Decimal(1)
    storage: Decimal = Decimal(1)
    gpu: dict[int, Decimal] = field(default_factory=dict)

    def gpu_fraction(self, gpu_model_id: int | None) -> Decimal:
        return self.gpu.get(gpu_model_id or 0, Decimal(1))

    def node_sellable(self, node: Any) -> tuple[int, int]:
        """Sellable (vCPU, RAM GB) of one node (anything with ``cores`` and ``ram_gb``)."""
        return math.floor(node.cores * self.vcpu), math.floor(node.ram_gb * self.ram)

    def storage_sellable(self, capacity_gb: int) -> int:
        return math.floor(capacity_gb * self.storage)


def envelopes_get() -> Envelopes:
    """The catalogue's capacity envelopes as fractions (one query)."""
    fractions: dict[str, Decimal] = {}
    gpu: dict[int, Decimal] = {}
    for resource, model_id, oversell, target in CapacityEnvelope.objects.order_by().values_list(
        "resource", "gpu_model_id", "oversell_ratio", "target_utilisation"
    ):
        if resource == catalogue_choices.CapacityResource.GPU and model_id:
            gpu[model_id] = oversell * target
        else:
            fractions[resource] = oversell * target
    return Envelopes(
        vcpu=fractions.get(catalogue_choices.CapacityResource.VCPU, Decimal(1)),
        ram=fractions.get(catalogue_choices.CapacityResource.RAM, Decimal(1)),
        storage=fractions.get(catalogue_choices.CapacityResource.STORAGE, Decimal(1)),
        gpu=gpu,
    )


def gpu_usable_q(prefix: str = "") -> Q:
    """GPUs placement may hand out: still reported by their node and in a PCI mapping.

    A GPU in no mapping cannot be given to a VM by an API token (docs/dev/proxmox-behaviour.md#hostpci).
    ``prefix`` is the lookup path from the queried model (``"gpus__"`` from nodes).
    """
    return Q(**{f"{prefix}missing_since__isnull": True}) & ~Q(**{f"{prefix}mapping_name": ""})


def eligible_nodes() -> QuerySet[Node]:
    """Nodes that may receive new VMs: online, not drained, still listed, cluster active."""
    return Node.objects.filter(
        status=choices.NodeStatus.ONLINE,
        maintenance=False,
        missing_since__isnull=True,
        cluster__status=choices.ClusterStatus.ACTIVE,
    )


def vm_disk_storages() -> QuerySet[Storage]:
    """Storages that may receive new VM disks: hold ``images``, enabled, still listed, cluster active."""
    return Storage.objects.filter(
        enabled=True,
        missing_since__isnull=True,
        content__contains="images",
        cluster__status=choices.ClusterStatus.ACTIVE,
    )


def _gpu_ledger(datacentre_ids: Iterable[int]) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """(in service, held) GPU counts per (datacentre, GPU model): one query."""
    rows = (
        GpuDevice.objects.filter(node__datacentre_id__in=list(datacentre_ids), gpu_model__isnull=False)
        .values("node__datacentre_id", "gpu_model_id")
        .annotate(
            in_service=Count("id", filter=gpu_usable_q() & ~Q(state=choices.GpuState.FAULTY)),
            held=Count("id", filter=Q(state__in=HELD_GPU_STATES)),
        )
    )
    physical: dict[tuple[int, int], int] = {}
    held: dict[tuple[int, int], int] = {}
    for row in rows:
        key = (row["node__datacentre_id"], row["gpu_model_id"])
        physical[key] = row["in_service"]
        held[key] = row["held"]
    return physical, held
