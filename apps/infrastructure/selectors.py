"""Reads of the fleet: staff lists, capacity per datacentre, and true availability.

Availability is computed from the ledger (node counters, GPU states) under the
catalogue's capacity envelopes, never from marketing figures: the seed warns
that the website's numbers are inflated (``catalogue-vmcloud.md`` §"Écart site
vs réalité"). ``availability_matrix`` answers for many offers and datacentres
in a constant number of queries, so the pricing page can call it.

Sellable amounts follow ``catalogue.CapacityEnvelope``: physical x oversell x
target utilisation, applied per node for vCPU, RAM and disk (a VM must fit on
one node) and per datacentre for each GPU model (the envelope keeps spare
GPUs, e.g. 80% of the T4s).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import CapacityEnvelope, Datacentre, GpuModel, GpuSoftwareStack, Offer, OsImage
from apps.core.actors import Actor
from apps.core.errors import NotFound, PermissionDenied
from apps.infrastructure import choices
from apps.infrastructure.models import (
    Cluster,
    GpuDevice,
    IpPool,
    Node,
    Reservation,
    Storage,
    SyncReport,
    VmTemplate,
)

# Above this many placeable instances an offer is simply "available"; at or
# below it the public figure is "limited" (the exact count stays staff-only).
LIMITED_THRESHOLD = 3
HELD_GPU_STATES = (choices.GpuState.RESERVED, choices.GpuState.IN_USE)
# A managed service is not placed on nodes: its public level is "on_request" (the API, quotes).
ON_REQUEST = -1
# Reasons the catalogue alone gives (they win over capacity and templates).
CATALOGUE_REASONS = _CATALOGUE_REASONS = (
    choices.UnavailableCode.NOT_ORDERABLE,
    choices.UnavailableCode.NOT_IN_DATACENTRE,
    choices.UnavailableCode.DATACENTRE_MAINTENANCE,
)


# ---------------------------------------------------------------------------
# Envelopes
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Availability
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class OfferNeed:
    """What one VM of an offer takes from a node."""

    vcpu: int
    ram_gb: int
    disk_gb: int
    gpu_model_id: int | None
    gpu_count: int

    @classmethod
    def of(cls, offer: Offer) -> OfferNeed:
        return cls(
            vcpu=offer.vcpu or 0,
            ram_gb=offer.ram_gb or 0,
            disk_gb=offer.disk_gb or 0,
            gpu_model_id=offer.gpu_model_id,
            gpu_count=(offer.gpu_count or 0) if offer.gpu_model_id else 0,
        )

    def fits(self, headroom: tuple[int, int], disk_room: int, free_gpus: int) -> int:
        """How many VMs of this need fit in ``headroom`` (vCPU, RAM), ``disk_room`` GB and ``free_gpus``."""
        counts = [
            headroom[0] // self.vcpu if self.vcpu else math.inf,
            headroom[1] // self.ram_gb if self.ram_gb else math.inf,
            disk_room // self.disk_gb if self.disk_gb else math.inf,
            free_gpus // self.gpu_count if self.gpu_count else math.inf,
        ]
        best = min(counts)
        # A need of nothing at all (a managed service) is not placed on nodes.
        return 0 if best == math.inf else max(0, int(best))


@dataclass(frozen=True)
class ImageChoice:
    """An image (and GPU software stack, or none) that a template in the datacentre can build for an offer."""

    image_id: int
    gpu_stack_id: int | None = None


@dataclass(frozen=True)
class Availability:
    """Whether an offer can be placed in a datacentre now, and how many times.

    ``count`` is the number of further VMs of the offer that fit right now
    (each on one node, GPU envelope applied); ``reason`` is an
    ``UnavailableCode`` when ``count`` is 0. ``images`` are the image (and
    GPU stack) choices a template of the datacentre can build for the offer:
    a VM offer with none is unavailable (``no_template``), since placement
    would refuse every order (apps/docs/content/products-and-pricing.md).
    """

    offer_id: int
    datacentre_id: int
    count: int
    reason: str = ""
    images: tuple[ImageChoice, ...] = ()

    def offers_image(self, image_id: int | None, gpu_stack_id: int | None = None) -> bool:
        return ImageChoice(image_id or 0, gpu_stack_id) in self.images

    def for_image(self, image_id: int | None, gpu_stack_id: int | None = None) -> Availability:
        """This availability narrowed to one image (and stack): none where no template builds it."""
        if self.count <= 0 or self.offers_image(image_id, gpu_stack_id):
            return self
        return Availability(
            offer_id=self.offer_id,
            datacentre_id=self.datacentre_id,
            count=0,
            reason=choices.UnavailableCode.NO_TEMPLATE,
            images=self.images,
        )

    @property
    def available(self) -> bool:
        return self.count > 0 or self.count == ON_REQUEST

    @property
    def level(self) -> str:
        """``available``, ``limited`` (a few left), ``on_request`` or ``unavailable``: the public figure."""
        if self.count == ON_REQUEST:
            return "on_request"
        if self.count <= 0:
            return "unavailable"
        return "limited" if self.count <= LIMITED_THRESHOLD else "available"


def _offer_datacentre_ids(offers: Sequence[Offer]) -> dict[int, set[int]]:
    through = Offer.datacentres.through
    out: dict[int, set[int]] = defaultdict(set)
    for offer_id, dc_id in through.objects.filter(offer_id__in=[o.pk for o in offers]).values_list(
        "offer_id", "datacentre_id"
    ):
        out[offer_id].add(dc_id)
    return out


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


def buildable_images(
    *, offers: Sequence[Offer], datacentres: Sequence[Datacentre]
) -> dict[tuple[int, int], tuple[ImageChoice, ...]]:
    """The image (and GPU stack) choices each VM offer can be built with in each datacentre (one query).

    A choice exists where placement (``services.placement._templates``) would
    find a template: one of the image, present, in an active cluster of the
    datacentre, usable by a node in service (cluster-wide or on an eligible
    node), ``gpu_ready`` exactly for GPU offers, with no stack or an offered
    stack built on that image; and the offer meets the image's minimum RAM and
    disk. Choices come in catalogue order (image position, then no stack, then
    stacks by CUDA version).
    """
    dc_ids = [dc.pk for dc in datacentres]
    if not offers or not dc_ids:
        return {}
    rows = (
        VmTemplate.objects.filter(
            Q(node__isnull=True) | Q(node__in=eligible_nodes()),
            Q(gpu_stack__isnull=True)
            | Q(gpu_stack__status=catalogue_choices.ImageStatus.AVAILABLE, gpu_stack__base_image_id=F("os_image_id")),
            missing_since__isnull=True,
            cluster__status=choices.ClusterStatus.ACTIVE,
            cluster__datacentre_id__in=dc_ids,
            os_image__status=catalogue_choices.ImageStatus.AVAILABLE,
        )
        .values_list(
            "cluster__datacentre_id",
            "os_image_id",
            "gpu_stack_id",
            "gpu_ready",
            "os_image__min_ram_gb",
            "os_image__min_disk_gb",
            "os_image__position",
            "os_image__family",
            "os_image__version",
            "gpu_stack__cuda_version",
        )
        .distinct()
    )
    per_dc: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in sorted(set(rows), key=lambda r: (r[6], r[7], r[8], r[2] is not None, r[9] or "")):
        per_dc[row[0]].append(row)
    out: dict[tuple[int, int], tuple[ImageChoice, ...]] = {}
    for offer in offers:
        if not offer.vcpu or not offer.ram_gb:
            continue  # not a VM: managed services take no image
        for dc_id in dc_ids:
            seen: dict[ImageChoice, None] = {}
            for _dc, image_id, stack_id, gpu_ready, min_ram, min_disk, *_order in per_dc.get(dc_id, []):
                if gpu_ready != offer.is_gpu or (stack_id is not None and not offer.is_gpu):
                    continue
                if offer.ram_gb < min_ram or (offer.disk_gb and offer.disk_gb < min_disk):
                    continue
                seen[ImageChoice(image_id, stack_id)] = None
            out[(offer.pk, dc_id)] = tuple(seen)
    return out


def availability_matrix(
    *, offers: Sequence[Offer], datacentres: Sequence[Datacentre]
) -> dict[tuple[int, int], Availability]:
    """Availability of every (offer, datacentre) pair, keyed by their ids, in seven queries."""
    if not offers or not datacentres:
        return {}
    images = buildable_images(offers=offers, datacentres=datacentres)
    envelopes = envelopes_get()
    dc_ids = [dc.pk for dc in datacentres]
    offer_dcs = _offer_datacentre_ids(offers)
    nodes = list(
        eligible_nodes()
        .filter(datacentre_id__in=dc_ids)
        .values("id", "datacentre_id", "cluster_id", "cores", "ram_gb", "allocated_vcpu", "allocated_ram_gb")
    )
    free: dict[tuple[int, int], int] = {}
    for node_id, model_id, n_free in (
        GpuDevice.objects.filter(
            gpu_usable_q(),
            node_id__in=[n["id"] for n in nodes],
            state=choices.GpuState.FREE,
            gpu_model__isnull=False,
        )
        .values("node_id", "gpu_model_id")
        .annotate(n=Count("id"))
        .values_list("node_id", "gpu_model_id", "n")
    ):
        free[(node_id, model_id)] = n_free
    physical, held = _gpu_ledger(dc_ids)

    # Disk: a node can use its local VM-disk storages and its cluster's shared ones.
    local_room: dict[int, int] = defaultdict(int)
    shared_room: dict[int, int] = defaultdict(int)
    dc_disk_room: dict[int, int] = defaultdict(int)
    for st in (
        vm_disk_storages()
        .filter(cluster__datacentre_id__in=dc_ids)
        .values("cluster_id", "cluster__datacentre_id", "node_id", "capacity_gb", "allocated_gb")
    ):
        st_room = max(0, envelopes.storage_sellable(st["capacity_gb"]) - st["allocated_gb"])
        dc_disk_room[st["cluster__datacentre_id"]] += st_room
        if st["node_id"] is None:
            shared_room[st["cluster_id"]] = max(shared_room[st["cluster_id"]], st_room)
        else:
            local_room[st["node_id"]] = max(local_room[st["node_id"]], st_room)

    headroom: dict[int, list[tuple[int, tuple[int, int], int]]] = defaultdict(list)
    for n in nodes:
        room = (
            math.floor(n["cores"] * envelopes.vcpu) - n["allocated_vcpu"],
            math.floor(n["ram_gb"] * envelopes.ram) - n["allocated_ram_gb"],
        )
        disk = max(local_room.get(n["id"], 0), shared_room.get(n["cluster_id"], 0))
        headroom[n["datacentre_id"]].append((n["id"], room, disk))

    out: dict[tuple[int, int], Availability] = {}
    for offer in offers:
        need = OfferNeed.of(offer)
        for dc in datacentres:
            key = (offer.pk, dc.pk)
            reason = ""
            count = 0
            if not offer.is_orderable:
                reason = choices.UnavailableCode.NOT_ORDERABLE
            elif dc.pk not in offer_dcs.get(offer.pk, ()):
                reason = choices.UnavailableCode.NOT_IN_DATACENTRE
            elif dc.status != catalogue_choices.DatacentreStatus.OPERATIONAL:
                reason = choices.UnavailableCode.DATACENTRE_MAINTENANCE
            else:
                for node_id, room, disk in headroom.get(dc.pk, []):
                    gpus = free.get((node_id, need.gpu_model_id or 0), 0) if need.gpu_count else 0
                    count += need.fits(room, disk, gpus)
                if need.disk_gb:
                    # Shared storage is counted once for the datacentre, not once per node.
                    count = min(count, dc_disk_room.get(dc.pk, 0) // need.disk_gb)
                if need.gpu_count and need.gpu_model_id:
                    gkey = (dc.pk, need.gpu_model_id)
                    cap = math.floor(physical.get(gkey, 0) * envelopes.gpu_fraction(need.gpu_model_id))
                    within = max(0, cap - held.get(gkey, 0)) // need.gpu_count
                    if within < count:
                        count = within
                        reason = choices.UnavailableCode.GPU_ENVELOPE if within == 0 else ""
                if count == 0 and not reason:
                    reason = choices.UnavailableCode.NO_CAPACITY
                if need.vcpu and need.ram_gb and not images.get(key) and reason not in _CATALOGUE_REASONS:
                    # No template can build this offer here: placement would refuse every order.
                    count, reason = 0, choices.UnavailableCode.NO_TEMPLATE
            out[key] = Availability(
                offer_id=offer.pk, datacentre_id=dc.pk, count=count, reason=reason, images=images.get(key, ())
            )
    return out


def offer_availability(
    *, offer: Offer, datacentre: Datacentre, image: OsImage | None = None, gpu_stack: GpuSoftwareStack | None = None
) -> Availability:
    """Can ``offer`` be placed in ``datacentre`` right now (with ``image`` and ``gpu_stack``, when given)?

    Cheap: a handful of aggregate queries. With an image, a configuration no
    template builds is unavailable with ``no_template``.
    """
    avail = availability_matrix(offers=[offer], datacentres=[datacentre])[(offer.pk, datacentre.pk)]
    if image is None:
        return avail
    return avail.for_image(image.pk, gpu_stack.pk if gpu_stack is not None else None)


# ---------------------------------------------------------------------------
# Capacity dashboard: sold against sellable per datacentre
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Staff lists (the API and admin read through these)
# ---------------------------------------------------------------------------
def _require_staff(actor: Actor) -> None:
    if actor is None or not getattr(actor, "is_staff", False):
        raise PermissionDenied("Staff only.")


def cluster_list(*, actor: Actor) -> QuerySet[Cluster]:
    _require_staff(actor)
    return Cluster.objects.select_related("datacentre").annotate(node_count=Count("nodes"))


def cluster_get(*, actor: Actor, cluster_id: int) -> Cluster:
    try:
        return cluster_list(actor=actor).get(pk=cluster_id)
    except Cluster.DoesNotExist as exc:
        raise NotFound("No such cluster.") from exc


def node_list(*, actor: Actor) -> QuerySet[Node]:
    _require_staff(actor)
    return Node.objects.select_related("cluster", "datacentre")


def node_get(*, actor: Actor, node_id: int) -> Node:
    try:
        return node_list(actor=actor).get(pk=node_id)
    except Node.DoesNotExist as exc:
        raise NotFound("No such node.") from exc


def gpu_list(*, actor: Actor) -> QuerySet[GpuDevice]:
    _require_staff(actor)
    return GpuDevice.objects.select_related("node", "node__cluster", "node__datacentre", "gpu_model")


def storage_list(*, actor: Actor) -> QuerySet[Storage]:
    _require_staff(actor)
    return Storage.objects.select_related("cluster", "node")


def template_list(*, actor: Actor) -> QuerySet[VmTemplate]:
    _require_staff(actor)
    return VmTemplate.objects.select_related("cluster", "node", "os_image", "gpu_stack")


def ip_pool_list(*, actor: Actor) -> QuerySet[IpPool]:
    _require_staff(actor)
    return IpPool.objects.select_related("datacentre").annotate(allocated=Count("allocations"))


def sync_report_list(*, actor: Actor, cluster: Cluster | None = None) -> QuerySet[SyncReport]:
    _require_staff(actor)
    qs = SyncReport.objects.select_related("cluster")
    return qs.filter(cluster=cluster) if cluster is not None else qs


def reservation_get(*, reservation_id: Any) -> Reservation:
    """A reservation by id, for the services of higher apps (no actor: they hold the reference)."""
    try:
        return (
            Reservation.objects.select_related("node", "cluster")
            .prefetch_related(Prefetch("gpus", queryset=GpuDevice.objects.order_by("pci_address")))
            .get(pk=reservation_id)
        )
    except (Reservation.DoesNotExist, ValueError) as exc:
        raise NotFound("No such reservation.") from exc


def datacentres_for_capacity() -> list[Datacentre]:
    return list(Datacentre.objects.order_by("position", "code"))
