"""Placement: reserve a node, GPUs, a VMID and addresses for one VM, in one transaction.

Proxmox cannot reserve anything for us: ``/cluster/nextid`` only reports
(docs/dev/proxmox-behaviour.md#vmid-allocation) and a mapped GPU is chosen at VM start
(docs/dev/proxmox-behaviour.md#gpu-allocation). So the platform keeps a ledger and guards it with PostgreSQL row locks,
always taken in the same order so two placements can never deadlock:

1. the datacentre row (GPU offers only: the per-datacentre GPU envelope),
2. one node row at a time (a conditional UPDATE of its counters),
3. that node's free GPU rows,
4. one storage row (a conditional UPDATE of its counter; shared storages
   are one row per cluster),
5. the cluster row (VMID cursor),
6. the datacentre's IP pool rows, by id.

Every lock is ``FOR NO KEY UPDATE`` (``select_for_update(no_key=True)``) so it
does not conflict with the ``FOR KEY SHARE`` locks that inserting rows which
reference these (reservations, allocations) takes. A node that turns out to
lack GPUs is abandoned by rolling back to a savepoint, which releases its row
locks (PostgreSQL docs, "Explicit Locking", row-level locks), so at most one
unfinished node lock is held at a time. On SQLite (the embedded ``make run``)
``select_for_update`` is a no-op and write transactions are serialised whole.
Either the whole reservation commits or nothing does.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.core.actors import Actor, actor_user
from apps.core.errors import Conflict, Unavailable, ValidationFailed
from apps.core.services import audit_record
from apps.infrastructure import choices
from apps.infrastructure.models import (
    Cluster,
    GpuDevice,
    IpAllocation,
    IpPool,
    Node,
    Reservation,
    Storage,
    VmidAllocation,
    VmTemplate,
)
from apps.infrastructure.selectors.availability import OfferNeed
from apps.infrastructure.selectors.envelopes import (
    HELD_GPU_STATES,
    Envelopes,
    eligible_nodes,
    envelopes_get,
    gpu_usable_q,
    vm_disk_storages,
)

# Candidate nodes tried per placement, best first; beyond this the datacentre
# is effectively full for the offer.
MAX_CANDIDATES = 24
# The error code of a resize that does not fit on the instance's node or storage (public API contract).
RESIZE_UNAVAILABLE = "resize_unavailable"
# How many VMIDs / addresses are checked per query when looking for a free one.
SCAN_WINDOW = 256


class _NodeUnfit(Exception):
    """Internal: the locked node cannot take the VM after all; roll back to the savepoint."""


# ---------------------------------------------------------------------------
# Reserve
# ---------------------------------------------------------------------------
def placement_reserve(
    *,
    offer: Offer,
    datacentre: Datacentre,
    image: OsImage,
    gpu_stack: GpuSoftwareStack | None = None,
    holder_ref: uuid.UUID | None = None,
    actor: Actor = None,
) -> Reservation:
    """Reserve everything one VM of ``offer`` needs in ``datacentre``, all or nothing.

    Picks a healthy node with headroom under the capacity envelopes (and,
    for GPU offers, ``gpu_count`` free GPUs of the offer's model on that same
    node, NVLink peers first), a template of ``image`` it can clone, a VMID of
    the cluster's platform range, one IPv4 and one IPv6 address.

    Raises ``ValidationFailed`` for a request that can never succeed (not a VM
    offer, image too small) and ``Unavailable`` (codes in
    ``choices.UnavailableCode``) when capacity is missing now.
    """
    need = OfferNeed.of(offer)
    _validate(offer=offer, datacentre=datacentre, image=image, need=need)
    envelopes = envelopes_get()
    with transaction.atomic():
        if need.gpu_count:
            _check_gpu_envelope(datacentre=datacentre, need=need, envelopes=envelopes)
        templates = _templates(datacentre=datacentre, image=image, gpu_stack=gpu_stack, gpu=bool(need.gpu_count))
        if not templates:
            raise Unavailable(
                _("No template of %(image)s in %(dc)s yet.") % {"image": image, "dc": datacentre.code},
                code=choices.UnavailableCode.NO_TEMPLATE,
            )
        storages = _storages_with_room(datacentre=datacentre, need=need, envelopes=envelopes)
        candidates = _candidate_nodes(
            datacentre=datacentre, need=need, envelopes=envelopes, templates=templates, storages=storages
        )
        node_id, cluster_id, gpu_ids, storage_id = _claim_node(
            candidates=candidates,
            need=need,
            envelopes=envelopes,
            storages=storages,
            local_template_nodes={node for _cluster, node in templates if node is not None},
        )
        template = templates.get((cluster_id, node_id)) or templates[(cluster_id, None)]
        # The reservation's id is known before its row exists: the allocation
        # rows below point at it, and the FK is checked at commit (Django
        # creates PostgreSQL FKs DEFERRABLE INITIALLY DEFERRED).
        reservation_id = uuid.uuid4()
        vmid = _claim_vmid(cluster_id=cluster_id, reservation_id=reservation_id)
        addresses = _claim_addresses(datacentre=datacentre, reservation_id=reservation_id)
        reservation = Reservation.objects.create(
            id=reservation_id,
            holder_ref=holder_ref,
            offer=offer,
            datacentre=datacentre,
            os_image=image,
            gpu_stack=gpu_stack,
            cluster_id=cluster_id,
            node_id=node_id,
            storage_id=storage_id,
            template=template,
            vmid=vmid,
            ipv4=str(addresses[4][1]),
            ipv6=str(addresses[6][1]),
            vcpu=need.vcpu,
            ram_gb=need.ram_gb,
            disk_gb=need.disk_gb,
            gpu_model_id=need.gpu_model_id if need.gpu_count else None,
            gpu_count=need.gpu_count,
            created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        )
        if gpu_ids:
            GpuDevice.objects.filter(pk__in=gpu_ids).update(
                state=choices.GpuState.RESERVED, reservation=reservation, updated_at=timezone.now()
            )
        audit_record(
            actor=actor,
            action="infrastructure.reservation.create",
            target=reservation,
            changes={
                "offer": offer.code,
                "datacentre": datacentre.code,
                "node_id": node_id,
                "vmid": vmid,
                "gpu_ids": gpu_ids,
                "ipv4": reservation.ipv4,
                "ipv6": reservation.ipv6,
                "holder_ref": str(holder_ref) if holder_ref else None,
            },
        )
    return reservation


def _validate(*, offer: Offer, datacentre: Datacentre, image: OsImage, need: OfferNeed) -> None:
    if not need.vcpu or not need.ram_gb:
        raise ValidationFailed(_("This offer is not a virtual machine."), code="offer_not_a_vm")
    if image.status != catalogue_choices.ImageStatus.AVAILABLE:
        raise ValidationFailed(_("This image is no longer offered."), code="image_not_available")
    if need.ram_gb < image.min_ram_gb or (need.disk_gb and need.disk_gb < image.min_disk_gb):
        raise ValidationFailed(_("This image needs a larger plan."), code="image_too_large_for_offer")
    if not offer.is_orderable:
        raise Unavailable(_("This offer can no longer be ordered."), code=choices.UnavailableCode.NOT_ORDERABLE)
    if datacentre.status != catalogue_choices.DatacentreStatus.OPERATIONAL:
        raise Unavailable(
            _("%(dc)s is in maintenance.") % {"dc": datacentre.code},
            code=choices.UnavailableCode.DATACENTRE_MAINTENANCE,
        )
    prefetched = getattr(offer, "_prefetched_objects_cache", {}).get("datacentres")
    if prefetched is not None:  # catalogue selectors prefetch it: no query
        sold_here = any(dc.pk == datacentre.pk for dc in prefetched)
    else:
        sold_here = Offer.datacentres.through.objects.filter(offer_id=offer.pk, datacentre_id=datacentre.pk).exists()
    if not sold_here:
        raise Unavailable(
            _("%(offer)s is not sold in %(dc)s.") % {"offer": offer.code, "dc": datacentre.code},
            code=choices.UnavailableCode.NOT_IN_DATACENTRE,
        )


def _check_gpu_envelope(*, datacentre: Datacentre, need: OfferNeed, envelopes: Envelopes) -> None:
    """Hold the datacentre row and check the GPU envelope: GPU placements in a datacentre run one at a time."""
    list(Datacentre.objects.select_for_update(no_key=True).filter(pk=datacentre.pk).values_list("pk"))
    counts = GpuDevice.objects.filter(node__datacentre=datacentre, gpu_model_id=need.gpu_model_id).aggregate(
        in_service=Count("id", filter=gpu_usable_q() & ~Q(state=choices.GpuState.FAULTY)),
        held=Count("id", filter=Q(state__in=HELD_GPU_STATES)),
    )
    cap = int(counts["in_service"] * envelopes.gpu_fraction(need.gpu_model_id))
    if counts["held"] + need.gpu_count > cap:
        raise Unavailable(
            _("No more GPUs of this model can be sold in %(dc)s right now.") % {"dc": datacentre.code},
            code=choices.UnavailableCode.GPU_ENVELOPE,
        )


def _templates(
    *, datacentre: Datacentre, image: OsImage, gpu_stack: GpuSoftwareStack | None, gpu: bool
) -> dict[tuple[int, int | None], VmTemplate]:
    """Templates of the image keyed by (cluster id, node id or None for cluster-wide).

    GPU VMs clone only ``gpu_ready`` templates (OVMF + q35, docs/dev/proxmox-behaviour.md#gpu-templates), other VMs only
    the others.
    """
    rows = (
        VmTemplate.objects.only("id", "cluster_id", "node_id")
        .filter(
            gpu_ready=gpu,
            cluster__datacentre=datacentre,
            cluster__status=choices.ClusterStatus.ACTIVE,
            os_image=image,
            gpu_stack=gpu_stack,
            missing_since__isnull=True,
        )
        .order_by("id")
    )
    out: dict[tuple[int, int | None], VmTemplate] = {}
    for template in rows:
        out.setdefault((template.cluster_id, template.node_id), template)
    return out


def _headroom_q(need: OfferNeed, envelopes: Envelopes) -> Q:
    """Nodes whose counters leave room for ``need`` under the envelopes (sellable = physical x fraction)."""

    def sellable(column: str, fraction: Decimal) -> ExpressionWrapper:
        output = DecimalField(max_digits=14, decimal_places=3)
        return ExpressionWrapper(F(column) * Value(fraction), output_field=output)

    q = Q()
    for counter, column, fraction, amount in (
        ("allocated_vcpu", "cores", envelopes.vcpu, need.vcpu),
        ("allocated_ram_gb", "ram_gb", envelopes.ram, need.ram_gb),
    ):
        if amount:
            q &= Q(**{f"{counter}__lte": sellable(column, fraction) - Value(amount)})
    return q


def _candidate_nodes(
    *,
    datacentre: Datacentre,
    need: OfferNeed,
    envelopes: Envelopes,
    templates: dict[tuple[int, int | None], VmTemplate],
    storages: list[tuple[int, int, int | None]],
) -> list[tuple[int, int]]:
    """(node id, cluster id) of nodes that fit, best first; read without locks (re-checked under lock)."""
    shared_clusters = [cluster_id for cluster_id, node_id in templates if node_id is None]
    template_nodes = [node_id for _cluster, node_id in templates if node_id is not None]
    qs = (
        eligible_nodes()
        .filter(datacentre=datacentre)
        .filter(Q(cluster_id__in=shared_clusters) | Q(pk__in=template_nodes))
        .filter(_headroom_q(need, envelopes))
    )
    if need.disk_gb:
        # A node with its own template clones locally: any storage it can use will do. The
        # others clone the cluster-wide template (on shared storage, maybe from another
        # node), and PVE only clones across nodes onto shared storage: they need a shared one.
        disk_clusters = [cluster_id for _pk, cluster_id, node_id in storages if node_id is None]
        disk_nodes = [node_id for _pk, _cluster, node_id in storages if node_id is not None]
        qs = qs.filter(
            Q(cluster_id__in=disk_clusters) | (Q(pk__in=disk_nodes) & Q(pk__in=template_nodes)),
        )
    if need.gpu_count:
        qs = (
            qs.annotate(
                free_gpus=Count(
                    "gpus",
                    filter=gpu_usable_q("gpus__")
                    & Q(gpus__state=choices.GpuState.FREE, gpus__gpu_model_id=need.gpu_model_id),
                )
            )
            .filter(free_gpus__gte=need.gpu_count)
            # Best fit: the node with the fewest free GPUs that still fits, so
            # nodes with many free GPUs stay whole for the multi-GPU offers.
            .order_by("free_gpus", "id")
        )
    else:
        # Keep GPU nodes for GPU offers; among the rest, spread the load.
        qs = qs.order_by("gpu_count", "allocated_vcpu", "id")
    return list(qs.values_list("pk", "cluster_id")[:MAX_CANDIDATES])


def _claim_node(
    *,
    candidates: Sequence[tuple[int, int]],
    need: OfferNeed,
    envelopes: Envelopes,
    storages: list[tuple[int, int, int | None]],
    local_template_nodes: set[int],
) -> tuple[int, int, list[int], int | None]:
    """Take the first candidate that still fits under its row lock.

    Returns (node id, cluster id, GPU ids, storage id). A node without a
    template of its own gets a shared storage only (see ``_claim_storage``).
    """
    headroom = _headroom_q(need, envelopes)
    for node_id, cluster_id in candidates:
        try:
            # A savepoint for GPU offers, whose GPU step can fail after the node
            # claim and must release the GPU row locks too; a CPU offer whose
            # storage step fails undoes its node claim with one UPDATE instead.
            with transaction.atomic() if need.gpu_count else nullcontext():
                # Columns of the node row only: with a join Django would emit
                # "WHERE id IN (subquery)", and PostgreSQL re-checks a row that
                # changed while we waited for its lock against the outer qual
                # only, with the subquery's stale snapshot (a test caught 41
                # winners for 3 places). A direct qual is re-checked on the new
                # row version (READ COMMITTED, "UPDATE ... EvalPlanQual").
                claimed = (
                    Node.objects.filter(
                        pk=node_id, status=choices.NodeStatus.ONLINE, maintenance=False, missing_since__isnull=True
                    )
                    .filter(headroom)
                    .update(
                        allocated_vcpu=F("allocated_vcpu") + need.vcpu,
                        allocated_ram_gb=F("allocated_ram_gb") + need.ram_gb,
                    )
                )
                if not claimed:
                    continue
                gpu_ids = _pick_gpus(node_id=node_id, need=need) if need.gpu_count else []
                storage_id = None
                if need.disk_gb:
                    storage_id = _claim_storage(
                        node_id=node_id,
                        cluster_id=cluster_id,
                        need=need,
                        envelopes=envelopes,
                        storages=storages,
                        shared_only=node_id not in local_template_nodes,
                    )
                    if storage_id is None:
                        if need.gpu_count:
                            raise _NodeUnfit
                        Node.objects.filter(pk=node_id).update(
                            allocated_vcpu=F("allocated_vcpu") - need.vcpu,
                            allocated_ram_gb=F("allocated_ram_gb") - need.ram_gb,
                        )
                        continue
                return node_id, cluster_id, gpu_ids, storage_id
        except _NodeUnfit:
            continue
    raise Unavailable(_("No capacity left for this offer here right now."), code=choices.UnavailableCode.NO_CAPACITY)


def _storages_with_room(
    *, datacentre: Datacentre, need: OfferNeed, envelopes: Envelopes
) -> list[tuple[int, int, int | None]]:
    """(storage id, cluster id, node id or None) of VM-disk storages with room, local ones first."""
    if not need.disk_gb:
        return []
    sellable = ExpressionWrapper(
        F("capacity_gb") * Value(envelopes.storage), output_field=DecimalField(max_digits=14, decimal_places=3)
    )
    rows: list[tuple[int, int, int | None]] = list(
        vm_disk_storages()
        .filter(cluster__datacentre=datacentre, allocated_gb__lte=sellable - Value(need.disk_gb))
        .order_by(F("node_id").asc(nulls_last=True), "id")
        .values_list("pk", "cluster_id", "node_id")
    )
    if not rows:
        raise Unavailable(
            _("No storage room left for this offer here right now."), code=choices.UnavailableCode.NO_CAPACITY
        )
    return rows


def _claim_storage(
    *,
    node_id: int,
    cluster_id: int,
    need: OfferNeed,
    envelopes: Envelopes,
    storages: list[tuple[int, int, int | None]],
    shared_only: bool = False,
) -> int | None:
    """Raise the counter of the first storage the node can use that still has room (conditional UPDATE).

    ``shared_only``: the VM is cloned from the cluster-wide template, whose disks
    are on shared storage, possibly on another node. PVE refuses to clone a VM to
    another node unless its disks are on shared storage ("can't clone VM to node
    ... (VM uses local storage)", ``qm clone --target``), and the clone's disk
    must land where the target node can reach it: so the ledger counts the
    shared storage the disk really goes to, never a local one.
    """
    output = DecimalField(max_digits=14, decimal_places=3)
    sellable = ExpressionWrapper(F("capacity_gb") * Value(envelopes.storage), output_field=output)
    for storage_id, storage_cluster, storage_node in storages:
        if storage_node != node_id and not (storage_node is None and storage_cluster == cluster_id):
            continue
        if shared_only and storage_node is not None:
            continue
        # Columns of the storage row only, re-checked under its row lock (see _claim_node).
        if (
            Storage.objects.filter(pk=storage_id, allocated_gb__lte=sellable - Value(need.disk_gb)).update(
                allocated_gb=F("allocated_gb") + need.disk_gb
            )
            == 1
        ):
            return storage_id
    return None


def _pick_gpus(*, node_id: int, need: OfferNeed) -> list[int]:
    free = list(
        GpuDevice.objects.select_for_update(no_key=True)
        .filter(gpu_usable_q(), node_id=node_id, gpu_model_id=need.gpu_model_id, state=choices.GpuState.FREE)
        .order_by("id")
        .values_list("pk", "nvlink_peer_group", "pci_address")
    )
    chosen = choose_gpus([(pk, group, address) for pk, group, address in free], need.gpu_count)
    if chosen is None:
        raise _NodeUnfit
    return chosen


def choose_gpus(free: Sequence[tuple[int, str, str]], count: int) -> list[int] | None:
    """Pick ``count`` GPU ids among ``free`` (id, NVLink peer group, PCI address), or None.

    Multi-GPU VMs get NVLink peers first: a peer group that holds them all,
    the one with the fewest left over (so a whole group of exactly ``count``
    wins); failing that, as few groups as possible. Single-GPU VMs take an
    unbridged GPU first, else one from the most broken-into group, so whole
    peer groups stay available for multi-GPU offers.
    """
    if count <= 0:
        return []
    if len(free) < count:
        return None
    groups: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for gpu in sorted(free, key=lambda g: g[2]):
        groups[gpu[1]].append(gpu)
    if count == 1:
        if groups.get(""):
            return [groups[""][0][0]]
        name = min(groups, key=lambda k: (len(groups[k]), k))
        return [groups[name][0][0]]
    fitting = [name for name, members in groups.items() if name and len(members) >= count]
    if fitting:
        name = min(fitting, key=lambda k: (len(groups[k]) - count, k))
        return [gpu[0] for gpu in groups[name][:count]]
    picked: list[int] = []
    for _name, members in sorted(groups.items(), key=lambda kv: (kv[0] == "", -len(kv[1]), kv[0])):
        for gpu in members:
            picked.append(gpu[0])
            if len(picked) == count:
                return picked
    return None


FAST_ATTEMPTS = 8


def _is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def _uuid_param(value: uuid.UUID) -> Any:
    # Django stores UUIDs as char(32) hex on SQLite and as uuid on PostgreSQL.
    return value.hex if _is_sqlite() else value


def _insert_returning(sql: str, params: list[Any]) -> bool:
    """Run an ``INSERT ... ON CONFLICT DO NOTHING RETURNING 1``: True if the row went in."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _bump(sql: str, params: list[Any]) -> int:
    """Advance a round-robin cursor (wrapping at the end of its range) and return its new value.

    One ``UPDATE ... RETURNING``; the row lock it takes keeps concurrent
    placements on this cluster (or pool) one after the other until commit.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


_CLUSTER_BUMP = (
    f"UPDATE {Cluster._meta.db_table} SET vmid_cursor = CASE WHEN vmid_cursor < vmid_range_start "  # noqa: S608
    "OR vmid_cursor >= vmid_range_end THEN vmid_range_start ELSE vmid_cursor + 1 END WHERE id = %s "
    "RETURNING vmid_cursor"
)
_POOL_BUMP = (
    f"UPDATE {IpPool._meta.db_table} SET cursor = CASE WHEN cursor < %s OR cursor >= %s "  # noqa: S608
    "THEN %s ELSE cursor + 1 END WHERE id = %s RETURNING cursor"
)
_VMID_INSERT = (
    f"INSERT INTO {VmidAllocation._meta.db_table} (cluster_id, vmid, reservation_id, note, created_at) "  # noqa: S608
    "VALUES (%s, %s, %s, '', %s) ON CONFLICT (cluster_id, vmid) DO NOTHING RETURNING 1"
)
_ADDRESS_INSERT = (
    f"INSERT INTO {IpAllocation._meta.db_table} (pool_id, address, reservation_id, note, created_at) "  # noqa: S608
    "VALUES (%s, %s, %s, '', %s) ON CONFLICT (address) DO NOTHING RETURNING 1"
)


def _claim_vmid(*, cluster_id: int, reservation_id: uuid.UUID) -> int:
    """Take the next free VMID of the cluster's platform range, round-robin, and record it.

    The cursor holds the last VMID handed out, so a freed VMID is not reused at
    once. The unique (cluster, vmid) constraint is the guard: a VMID staff
    blocked, or one still held, is skipped by ``ON CONFLICT DO NOTHING``; after
    a few misses in a row the range is scanned for a gap.
    """
    params: list[Any] = [cluster_id, 0, _uuid_param(reservation_id), timezone.now()]
    for _attempt in range(FAST_ATTEMPTS):
        params[1] = _bump(_CLUSTER_BUMP, [cluster_id])
        if _insert_returning(_VMID_INSERT, params):
            return int(params[1])
    start, end = Cluster.objects.filter(pk=cluster_id).values_list("vmid_range_start", "vmid_range_end").get()
    for low, high in _windows(start, end, start):
        used = set(
            VmidAllocation.objects.filter(cluster_id=cluster_id, vmid__gte=low, vmid__lte=high)
            .order_by()
            .values_list("vmid", flat=True)
        )
        for vmid in range(low, high + 1):
            params[1] = vmid
            if vmid not in used and _insert_returning(_VMID_INSERT, params):
                Cluster.objects.filter(pk=cluster_id).update(vmid_cursor=vmid)
                return vmid
    raise Unavailable(_("The cluster's VMID range is exhausted."), code=choices.UnavailableCode.NO_VMID)


def _windows(start: int, end: int, cursor: int) -> Iterator[tuple[int, int]]:
    """Inclusive windows of at most SCAN_WINDOW covering [cursor, end] then [start, cursor)."""
    for low, high in ((cursor, end), (start, cursor - 1)):
        while low <= high:
            yield low, min(high, low + SCAN_WINDOW - 1)
            low += SCAN_WINDOW


def _host_offsets(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    """First and last usable offsets: skip the network address, and IPv4's broadcast."""
    size = network.num_addresses
    if network.version == 4:
        return (0, size - 1) if size <= 2 else (1, size - 2)
    # IPv6: offset 0 is the subnet-router anycast address (RFC 4291 §2.6.1);
    # the cursor is a bigint, so very large subnets are used from their start.
    return 1, min(size - 1, 2**62)


def _claim_addresses(
    *, datacentre: Datacentre, reservation_id: uuid.UUID
) -> dict[int, tuple[int, ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """Take one free IPv4 and one free IPv6 address of the datacentre: {family: (pool id, address)}."""
    pools = list(
        IpPool.objects.filter(datacentre=datacentre, is_active=True)
        .order_by("id")
        .only("id", "family", "cidr", "gateway")
    )
    out: dict[int, tuple[int, ipaddress.IPv4Address | ipaddress.IPv6Address]] = {}
    for family, code in ((4, choices.UnavailableCode.NO_IPV4), (6, choices.UnavailableCode.NO_IPV6)):
        for pool in (p for p in pools if p.family == family):
            found = _claim_address(pool, reservation_id)
            if found is not None:
                out[family] = (pool.pk, found)
                break
        else:
            raise Unavailable(
                _("No free IPv%(family)s address in %(dc)s.") % {"family": family, "dc": datacentre.code}, code=code
            )
    return out


def _claim_address(pool: IpPool, reservation_id: uuid.UUID) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Round-robin from the pool's cursor, like VMIDs; the unique address column is the guard."""
    network = pool.network
    first, last = _host_offsets(network)
    gateway = ipaddress.ip_address(pool.gateway)
    base = int(network.network_address)
    params: list[Any] = [pool.pk, "", _uuid_param(reservation_id), timezone.now()]
    for _attempt in range(FAST_ATTEMPTS):
        address = ipaddress.ip_address(base + _bump(_POOL_BUMP, [first, last, first, pool.pk]))
        params[1] = str(address)
        if address != gateway and _insert_returning(_ADDRESS_INSERT, params):
            return address
    # Many misses in a row: scan the subnet for a gap (or find it full).
    for low, high in _windows(first, last, first):
        candidates = [ipaddress.ip_address(base + offset) for offset in range(low, high + 1)]
        used = set(
            IpAllocation.objects.filter(address__in=[str(a) for a in candidates])
            .order_by()
            .values_list("address", flat=True)
        )
        for offset, address in zip(range(low, high + 1), candidates, strict=True):
            params[1] = str(address)
            if address != gateway and str(address) not in used and _insert_returning(_ADDRESS_INSERT, params):
                IpPool.objects.filter(pk=pool.pk).update(cursor=offset)
                return address
    return None


# ---------------------------------------------------------------------------
# Commit and release
# ---------------------------------------------------------------------------
@contextmanager
def _locked(reservation: Reservation) -> Iterator[Reservation]:
    with transaction.atomic():
        yield Reservation.objects.select_for_update(no_key=True).get(pk=reservation.pk)


def placement_commit(*, reservation: Reservation, actor: Actor = None) -> Reservation:
    """Mark the reservation as used by a delivered VM: its GPUs become ``in_use``. Idempotent."""
    with _locked(reservation) as locked:
        if locked.state == choices.ReservationState.COMMITTED:
            return locked
        if locked.state == choices.ReservationState.RELEASED:
            raise Conflict(_("This reservation was released."), code="reservation_released")
        GpuDevice.objects.filter(reservation=locked, state=choices.GpuState.RESERVED).update(
            state=choices.GpuState.IN_USE, updated_at=timezone.now()
        )
        locked.state = choices.ReservationState.COMMITTED
        locked.committed_at = timezone.now()
        locked.save(update_fields=["state", "committed_at"])
        audit_record(actor=actor, action="infrastructure.reservation.commit", target=locked)
    return locked


def placement_release(*, reservation: Reservation, actor: Actor = None) -> Reservation:
    """Give back everything the reservation holds. Idempotent.

    Call it when placement's caller failed before creating the VM, or after
    the VM was destroyed: the VMID becomes free again, and docs/dev/proxmox-behaviour.md#vmid-allocation says to
    free a VMID only after a successful destroy.
    """
    with _locked(reservation) as locked:
        if locked.state == choices.ReservationState.RELEASED:
            return locked
        Node.objects.filter(pk=locked.node_id).update(
            allocated_vcpu=Greatest(F("allocated_vcpu") - locked.vcpu, 0),
            allocated_ram_gb=Greatest(F("allocated_ram_gb") - locked.ram_gb, 0),
        )
        if locked.storage_id and locked.disk_gb:
            Storage.objects.filter(pk=locked.storage_id).update(
                allocated_gb=Greatest(F("allocated_gb") - locked.disk_gb, 0)
            )
        now = timezone.now()
        gpu_ids = list(GpuDevice.objects.filter(reservation=locked).values_list("pk", flat=True))
        # A GPU staff marked faulty while held stays faulty; the others are free again.
        GpuDevice.objects.filter(pk__in=gpu_ids).exclude(state=choices.GpuState.FAULTY).update(
            state=choices.GpuState.FREE, reservation=None, updated_at=now
        )
        GpuDevice.objects.filter(pk__in=gpu_ids).update(reservation=None, updated_at=now)
        VmidAllocation.objects.filter(reservation=locked).delete()
        IpAllocation.objects.filter(reservation=locked).delete()
        locked.state = choices.ReservationState.RELEASED
        locked.released_at = now
        locked.save(update_fields=["state", "released_at"])
        audit_record(
            actor=actor,
            action="infrastructure.reservation.release",
            target=locked,
            changes={"vmid": locked.vmid, "gpu_ids": gpu_ids},
        )
    return locked


def placement_resize(*, reservation: Reservation, offer: Offer, actor: Actor = None) -> dict[str, int]:
    """Grow a live reservation to ``offer`` on the same node and storage, all or nothing.

    The extra vCPU/RAM are taken on the reservation's node and the extra disk on
    its storage with conditional UPDATEs under the same envelope rule as
    ``placement_reserve`` (allocated + extra <= physical x fraction), in the
    same lock order (node, then storage), so a resize never oversells and never
    deadlocks with a placement. Raises ``Unavailable`` (``resize_unavailable``)
    when either has no room; then nothing changed. Shrinking is not offered
    (disks cannot shrink), so amounts below the current ones count as 0.
    Returns what was added: ``{"vcpu", "ram_gb", "disk_gb"}``.
    """
    need = OfferNeed.of(offer)
    envelopes = envelopes_get()
    with _locked(reservation) as locked:
        if locked.state == choices.ReservationState.RELEASED:
            raise Conflict(_("This reservation was released."), code="reservation_released")
        extra = {
            "vcpu": max(0, need.vcpu - locked.vcpu),
            "ram_gb": max(0, need.ram_gb - locked.ram_gb),
            "disk_gb": max(0, need.disk_gb - locked.disk_gb) if locked.storage_id else 0,
        }
        unavailable = Unavailable(_("There is no room to resize this instance on its host."), code=RESIZE_UNAVAILABLE)
        if extra["vcpu"] or extra["ram_gb"]:
            grown = (
                Node.objects.filter(pk=locked.node_id)
                .filter(_headroom_q(OfferNeed(extra["vcpu"], extra["ram_gb"], 0, None, 0), envelopes))
                .update(
                    allocated_vcpu=F("allocated_vcpu") + extra["vcpu"],
                    allocated_ram_gb=F("allocated_ram_gb") + extra["ram_gb"],
                )
            )
            if not grown:
                raise unavailable
        if extra["disk_gb"] and locked.storage_id is not None:
            sellable = ExpressionWrapper(
                F("capacity_gb") * Value(envelopes.storage), output_field=DecimalField(max_digits=14, decimal_places=3)
            )
            grown = Storage.objects.filter(
                pk=locked.storage_id, allocated_gb__lte=sellable - Value(extra["disk_gb"])
            ).update(allocated_gb=F("allocated_gb") + extra["disk_gb"])
            if not grown:
                # The node's UPDATE above is undone with the transaction (``_locked`` is atomic).
                raise unavailable
        locked.offer = offer
        locked.vcpu += extra["vcpu"]
        locked.ram_gb += extra["ram_gb"]
        locked.disk_gb = max(locked.disk_gb, need.disk_gb)
        locked.save(update_fields=["offer", "vcpu", "ram_gb", "disk_gb"])
        audit_record(
            actor=actor,
            action="infrastructure.reservation.resize",
            target=locked,
            changes={"offer": offer.code, **extra},
        )
    reservation.refresh_from_db()
    return extra


def node_recount(*, node: Node) -> Node:
    """Rebuild a node's allocation counters from its live reservations (repairs drift in the ledger)."""
    with transaction.atomic():
        Node.objects.select_for_update(no_key=True).filter(pk=node.pk).values_list("pk").first()
        totals = (
            Reservation.objects.filter(node=node)
            .exclude(state=choices.ReservationState.RELEASED)
            .aggregate(vcpu=Sum("vcpu"), ram=Sum("ram_gb"))
        )
        Node.objects.filter(pk=node.pk).update(
            allocated_vcpu=totals["vcpu"] or 0,
            allocated_ram_gb=totals["ram"] or 0,
        )
        node.refresh_from_db()
    return node
