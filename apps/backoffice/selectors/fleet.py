"""The fleet pages: each datacentre, cluster and node with its capacity against the envelopes.

Capacity is read through ``apps.infrastructure.selectors`` (``datacentre_capacity`` for a
datacentre, ``envelopes_get`` for a node's sellable vCPU and RAM), the same numbers placement
uses (apps/docs/content/runbook-capacity.md). Each page is a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from apps.catalogue.models import Datacentre
from apps.core.errors import NotFound
from apps.infrastructure import selectors as infra
from apps.infrastructure.choices import GpuState, NodeStatus
from apps.infrastructure.models import Cluster, GpuDevice, Node, Storage
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance

IN_SERVICE = Q(status=NodeStatus.ONLINE, maintenance=False, missing_since__isnull=True)


@dataclass(frozen=True)
class NodeCapacity:
    """One node's vCPU, RAM and GPUs: physical, sellable under the envelopes, and sold."""

    node: Node
    vcpu: infra.CapacityLine
    ram: infra.CapacityLine
    gpus_total: int
    gpus_free: int
    gpus_in_use: int
    gpus_faulty: int

    @property
    def in_service(self) -> bool:
        n = self.node
        return n.status == NodeStatus.ONLINE and not n.maintenance and n.missing_since is None

    @property
    def unreachable(self) -> bool:
        return self.node.status != NodeStatus.ONLINE or self.node.missing_since is not None


@dataclass(frozen=True)
class DatacentreView:
    datacentre: Datacentre
    capacity: infra.DatacentreCapacityView
    clusters: list[Cluster]


@dataclass(frozen=True)
class ClusterView:
    cluster: Cluster
    nodes: list[NodeCapacity]


@dataclass(frozen=True)
class NodeView:
    node: NodeCapacity
    gpus: list[GpuDevice]
    instances: list[Instance]
    storages: list[Storage]


def _node_capacity(node: Any, envelopes: infra.Envelopes) -> NodeCapacity:
    sell_vcpu, sell_ram = envelopes.node_sellable(node)
    return NodeCapacity(
        node=node,
        vcpu=infra.CapacityLine("vcpu", "vCPU", "vCPU", node.cores, sell_vcpu, node.allocated_vcpu),
        ram=infra.CapacityLine("ram", "RAM", "GB", node.ram_gb, sell_ram, node.allocated_ram_gb),
        gpus_total=getattr(node, "gpus_total", 0),
        gpus_free=getattr(node, "gpus_free", 0),
        gpus_in_use=getattr(node, "gpus_in_use", 0),
        gpus_faulty=getattr(node, "gpus_faulty", 0),
    )


def _nodes_with_gpu_counts() -> Any:
    return Node.objects.select_related("cluster", "datacentre").annotate(
        gpus_total=Count("gpus", distinct=True),
        gpus_free=Count("gpus", filter=Q(gpus__state=GpuState.FREE), distinct=True),
        gpus_in_use=Count("gpus", filter=Q(gpus__state__in=[GpuState.IN_USE, GpuState.RESERVED]), distinct=True),
        gpus_faulty=Count("gpus", filter=Q(gpus__state=GpuState.FAULTY), distinct=True),
    )


def _clusters() -> Any:
    return Cluster.objects.select_related("datacentre").annotate(
        nodes_total=Count("nodes", distinct=True),
        nodes_serving=Count(
            "nodes",
            filter=Q(nodes__status=NodeStatus.ONLINE, nodes__maintenance=False, nodes__missing_since__isnull=True),
            distinct=True,
        ),
        nodes_draining=Count("nodes", filter=Q(nodes__maintenance=True), distinct=True),
        nodes_unreachable=Count(
            "nodes", filter=~Q(nodes__status=NodeStatus.ONLINE) | Q(nodes__missing_since__isnull=False), distinct=True
        ),
    )


def datacentre_list() -> list[DatacentreView]:
    """Every datacentre with its capacity and clusters (a fixed number of queries)."""
    datacentres = infra.datacentres_for_capacity()
    capacity = {view.datacentre.pk: view for view in infra.datacentre_capacity(datacentres=datacentres)}
    clusters: dict[int, list[Cluster]] = {}
    for cluster in _clusters().order_by("name"):
        clusters.setdefault(cluster.datacentre_id, []).append(cluster)
    return [DatacentreView(dc, capacity[dc.pk], clusters.get(dc.pk, [])) for dc in datacentres]


def datacentre_view(*, code: str) -> DatacentreView:
    dc = Datacentre.objects.filter(code=code).first()
    if dc is None:
        raise NotFound("No such datacentre.")
    (capacity,) = infra.datacentre_capacity(datacentres=[dc])
    return DatacentreView(dc, capacity, list(_clusters().filter(datacentre=dc).order_by("name")))


def cluster_view(*, cluster_id: int) -> ClusterView:
    cluster = _clusters().filter(pk=cluster_id).first()
    if cluster is None:
        raise NotFound("No such cluster.")
    envelopes = infra.envelopes_get()
    nodes = _nodes_with_gpu_counts().filter(cluster=cluster).order_by("name")
    return ClusterView(cluster, [_node_capacity(node, envelopes) for node in nodes])


def node_view(*, node_id: int) -> NodeView:
    node = _nodes_with_gpu_counts().filter(pk=node_id).first()
    if node is None:
        raise NotFound("No such node.")
    gpus = list(
        GpuDevice.objects.filter(node=node)
        .select_related("gpu_model", "reservation__instance__organisation")
        .order_by("pci_address")
    )
    instances = list(
        Instance.objects.filter(cluster_id=node.cluster_id, node_name=node.name)
        .exclude(status=InstanceStatus.DELETED)
        .select_related("organisation", "offer")
        .order_by("vmid")
    )
    storages = list(Storage.objects.filter(Q(node=node) | Q(node__isnull=True, cluster_id=node.cluster_id)))
    return NodeView(_node_capacity(node, infra.envelopes_get()), gpus, instances, storages)


def gpu_tenant(gpu: GpuDevice) -> Any:
    """The organisation whose server holds ``gpu``, if any (read from the joined rows, no query)."""
    reservation = gpu.reservation
    instance = getattr(reservation, "instance", None) if reservation is not None else None
    return instance.organisation if instance is not None else None
