"""Staff lists of the fleet (the API and admin read through these), and a reservation for higher apps.

Every list is staff only (``PermissionDenied`` otherwise) and selects what its page shows.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from apps.core.actors import Actor
from apps.core.errors import NotFound, PermissionDenied
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
