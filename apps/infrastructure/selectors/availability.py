"""True availability of offers in datacentres: how many more VMs fit now, and with which images.

Availability is computed from the ledger (node counters, GPU states) under the catalogue's capacity
envelopes (``envelopes``), never from marketing figures: the seed warns that the website's numbers are
inflated (docs/dev/catalogue.md#envelopes). ``availability_matrix`` answers for many
offers and datacentres in a constant number of queries, so the pricing page can call it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.infrastructure import choices
from apps.infrastructure.models import GpuDevice, VmTemplate
from apps.infrastructure.selectors.envelopes import (
    _gpu_ledger,
    eligible_nodes,
    envelopes_get,
    gpu_usable_q,
    vm_disk_storages,
)

# Above this many placeable instances an offer is simply "available"; at or
# below it the public figure is "limited" (the exact count stays staff-only).
LIMITED_THRESHOLD = 3
# A managed service is not placed on nodes: its public level is "on_request" (the API, quotes).
ON_REQUEST = -1
# Reasons the catalogue alone gives (they win over capacity and templates).
CATALOGUE_REASONS = _CATALOGUE_REASONS = (
    choices.UnavailableCode.NOT_ORDERABLE,
    choices.UnavailableCode.NOT_IN_DATACENTRE,
    choices.UnavailableCode.DATACENTRE_MAINTENANCE,
)


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
