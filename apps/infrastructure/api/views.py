"""Fleet API: staff-only inventory and capacity, and the public availability of offers.

Staff endpoints (``IsAdminUser``) live under ``/api/v1/infrastructure/``; the
token secret of a cluster is write-only (accepted on create, never returned).
``GET /api/v1/availability/`` is public: whether an offer can be ordered in a
datacentre right now, computed from the ledger (never inflated), with a coarse
``level`` rather than exact counts.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalogue import choices as catalogue_choices
from apps.catalogue import selectors as catalogue_selectors
from apps.core.api.pagination import StandardPagination
from apps.core.api.queries import query_refuse_unknown
from apps.infrastructure import choices, selectors, services
from apps.infrastructure.api import serializers as s
from apps.infrastructure.models import Cluster, GpuDevice, IpPool, Node, Storage, VmTemplate

TAG = "infrastructure (staff)"
STAFF_NOTE = "\n\nStaff only (`is_staff`)."


class StaffApi(APIView):
    permission_classes = [IsAdminUser]


class StaffListApi(StaffApi, ListAPIView):  # type: ignore[type-arg]
    """A staff list: paginated, filtered by its FilterSet, and strict about its query string."""

    pagination_class = StandardPagination

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # An unknown parameter is a 400, as on every customer list (api-overview.md, "Filters").
        filterset = getattr(self, "filterset_class", None)
        query_refuse_unknown(request, {"page", "per_page", *(filterset.base_filters if filterset else ())})
        return super().list(request, *args, **kwargs)


# ---------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------
_CLUSTER_EXAMPLE = {
    "id": 1,
    "name": "par1",
    "datacentre": "PAR-1",
    "status": "active",
    "api_url": "https://pve1.par1.vmcloud.internal:8006/api2/json",
    "token_id": "vmcloud@pve!portal",
    "has_token_secret": True,
    "tls_fingerprint": "",
    "vmid_range_start": 100000,
    "vmid_range_end": 899999,
    "sync_status": "ok",
    "last_sync_at": "2026-11-24T18:00:00Z",
    "last_sync_error": "",
    "node_count": 43,
}


class ClusterListCreateApi(StaffListApi):
    serializer_class = s.ClusterOutputSerializer

    def get_queryset(self) -> QuerySet[Cluster]:
        if getattr(self, "swagger_fake_view", False):
            return Cluster.objects.none()
        return selectors.cluster_list(actor=self.request.user).order_by("name")  # type: ignore[arg-type]

    @extend_schema(
        tags=[TAG],
        summary="List clusters",
        description="Proxmox VE clusters the platform drives. The token secret is never returned." + STAFF_NOTE,
        examples=[OpenApiExample("Cluster", value=_CLUSTER_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        tags=[TAG],
        summary="Add a cluster",
        description=(
            "Register a cluster: API URL, token id and secret (stored encrypted, write-only), "
            "TLS CA (PEM) or certificate fingerprint, and the VMID range the platform owns. "
            "Run a sync afterwards to import its nodes, GPUs, storages and templates." + STAFF_NOTE
        ),
        request=s.ClusterCreateInputSerializer,
        responses={201: s.ClusterOutputSerializer},
        examples=[
            OpenApiExample(
                "New cluster",
                value={
                    "name": "par1",
                    "datacentre": "PAR-1",
                    "api_url": "https://pve1.par1.vmcloud.internal:8006/api2/json",
                    "token_id": "vmcloud@pve!portal",
                    "token_secret": "3f1c2b9e-0d6a-4c8e-9b7a-1d2e3f405162",
                    "tls_ca_pem": "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
                    "vmid_range_start": 100000,
                    "vmid_range_end": 899999,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.ClusterCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        cluster = services.cluster_create(
            datacentre=fields.pop("datacentre"),
            token_secret=fields.pop("token_secret"),
            actor=request.user,  # type: ignore[arg-type]
            **fields,
        )
        cluster = selectors.cluster_get(actor=request.user, cluster_id=cluster.pk)  # type: ignore[arg-type]
        return Response(s.ClusterOutputSerializer(cluster).data, status=status.HTTP_201_CREATED)


class ClusterDetailApi(StaffApi, RetrieveAPIView):  # type: ignore[type-arg]
    serializer_class = s.ClusterOutputSerializer

    @extend_schema(
        tags=[TAG],
        summary="Get a cluster",
        description="One cluster, its VMID range and its last sync." + STAFF_NOTE,
        examples=[OpenApiExample("Cluster", value=_CLUSTER_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:  # type: ignore[override]
        cluster = selectors.cluster_get(actor=request.user, cluster_id=pk)  # type: ignore[arg-type]
        return Response(s.ClusterOutputSerializer(cluster).data)


class ClusterSyncApi(StaffApi):
    @extend_schema(
        tags=[TAG],
        summary="Sync a cluster's inventory",
        description=(
            "Queue an inventory sync of the cluster (nodes, GPUs, PCI mappings, storages, templates). "
            "Returns 202 at once; the result is a sync report in the admin and `sync_status` on the cluster."
            + STAFF_NOTE
        ),
        request=None,
        responses={202: OpenApiResponse(description="Queued.")},
    )
    def post(self, request: Request, pk: int) -> Response:
        cluster = selectors.cluster_get(actor=request.user, cluster_id=pk)  # type: ignore[arg-type]
        services.inventory_sync_enqueue(cluster=cluster)
        return Response(status=status.HTTP_202_ACCEPTED)


# ---------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------
class NodeFilter(filters.FilterSet):
    datacentre = filters.CharFilter(field_name="datacentre__code", help_text="Datacentre code, e.g. PAR-1.")
    cluster = filters.CharFilter(field_name="cluster__name")
    status = filters.ChoiceFilter(choices=choices.NodeStatus.choices)
    maintenance = filters.BooleanFilter()

    class Meta:
        model = Node
        fields = ["datacentre", "cluster", "status", "maintenance"]


class NodeListApi(StaffListApi):
    serializer_class = s.NodeOutputSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = NodeFilter

    def get_queryset(self) -> QuerySet[Node]:
        if getattr(self, "swagger_fake_view", False):
            return Node.objects.none()
        return selectors.node_list(actor=self.request.user).order_by("cluster__name", "name")  # type: ignore[arg-type]

    @extend_schema(
        tags=[TAG],
        summary="List nodes",
        description="Proxmox nodes with their hardware, health, drain flag and allocation counters." + STAFF_NOTE,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class NodeDrainApi(StaffApi):
    maintenance = True

    @extend_schema(
        tags=[TAG],
        summary="Drain a node",
        description="Put the node in maintenance: it receives no new VMs; running VMs stay." + STAFF_NOTE,
        request=s.NodeDrainInputSerializer,
        responses={200: s.NodeOutputSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = s.NodeDrainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        node = selectors.node_get(actor=request.user, node_id=pk)  # type: ignore[arg-type]
        node = services.node_set_maintenance(
            node=node,
            maintenance=self.maintenance,
            reason=data.validated_data["reason"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(s.NodeOutputSerializer(node).data)


class NodeUndrainApi(NodeDrainApi):
    maintenance = False

    @extend_schema(
        tags=[TAG],
        summary="Undrain a node",
        description="Take the node out of maintenance: placement may use it again." + STAFF_NOTE,
        request=None,
        responses={200: s.NodeOutputSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


# ---------------------------------------------------------------------------
# GPUs, storages, templates, IP pools
# ---------------------------------------------------------------------------
class GpuFilter(filters.FilterSet):
    datacentre = filters.CharFilter(field_name="node__datacentre__code")
    node = filters.CharFilter(field_name="node__name")
    gpu_model = filters.CharFilter(field_name="gpu_model__slug", help_text="GPU model slug, e.g. a100-80gb.")
    state = filters.ChoiceFilter(choices=choices.GpuState.choices)
    missing = filters.BooleanFilter(field_name="missing_since", lookup_expr="isnull", exclude=True)

    class Meta:
        model = GpuDevice
        fields = ["datacentre", "node", "gpu_model", "state", "missing"]


class GpuListApi(StaffListApi):
    serializer_class = s.GpuOutputSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = GpuFilter

    def get_queryset(self) -> QuerySet[GpuDevice]:
        if getattr(self, "swagger_fake_view", False):
            return GpuDevice.objects.none()
        return selectors.gpu_list(actor=self.request.user).order_by("node__name", "pci_address")  # type: ignore[arg-type]

    @extend_schema(
        tags=[TAG],
        summary="List GPUs",
        description=(
            "Every GPU device: PCI address and ids, model, IOMMU group, NVLink peer group, PCI mapping, "
            "ledger state (free, reserved, in_use, faulty) and drift (`missing_since`)." + STAFF_NOTE
        ),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class StorageListApi(StaffListApi):
    serializer_class = s.StorageOutputSerializer

    def get_queryset(self) -> QuerySet[Storage]:
        if getattr(self, "swagger_fake_view", False):
            return Storage.objects.none()
        return selectors.storage_list(actor=self.request.user).order_by("cluster__name", "name", "node__name")  # type: ignore[arg-type]

    @extend_schema(
        tags=[TAG],
        summary="List storages",
        description="PVE storages (shared ones have no node), their tier, capacity and what is allocated." + STAFF_NOTE,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class TemplateListApi(StaffListApi):
    serializer_class = s.TemplateOutputSerializer

    def get_queryset(self) -> QuerySet[VmTemplate]:
        if getattr(self, "swagger_fake_view", False):
            return VmTemplate.objects.none()
        return selectors.template_list(actor=self.request.user).order_by("cluster__name", "vmid")  # type: ignore[arg-type]

    @extend_schema(
        tags=[TAG],
        summary="List VM templates",
        description="Templates placement clones, per OS image (and GPU readiness), per cluster or node." + STAFF_NOTE,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class IpPoolListApi(StaffListApi):
    serializer_class = s.IpPoolOutputSerializer

    def get_queryset(self) -> QuerySet[IpPool]:
        if getattr(self, "swagger_fake_view", False):
            return IpPool.objects.none()
        return selectors.ip_pool_list(actor=self.request.user).order_by("datacentre__position", "family", "cidr")  # type: ignore[arg-type]

    @extend_schema(
        tags=[TAG],
        summary="List IP pools",
        description="IPv4 and IPv6 subnets per datacentre, with gateway, DNS and the number allocated." + STAFF_NOTE,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


# ---------------------------------------------------------------------------
# Capacity and availability
# ---------------------------------------------------------------------------
class CapacityApi(StaffApi):
    @extend_schema(
        tags=[TAG],
        summary="Capacity per datacentre",
        description=(
            "Sold against sellable for vCPU, RAM, storage and each GPU model, per datacentre. Sellable is "
            "the physical capacity in service × oversell × target utilisation (the catalogue's capacity "
            "envelopes)." + STAFF_NOTE
        ),
        responses={200: s.DatacentreCapacityOutputSerializer(many=True)},
        examples=[
            OpenApiExample(
                "PAR-1",
                value=[
                    {
                        "datacentre": "PAR-1",
                        "nodes_total": 43,
                        "nodes_in_service": 43,
                        "lines": [
                            {
                                "resource": "vcpu",
                                "name": "vCPU",
                                "unit": "vCPU",
                                "gpu_model_id": None,
                                "physical": 3136,
                                "sellable": 4390,
                                "sold": 212,
                                "remaining": 4178,
                                "percent": 5,
                            }
                        ],
                    }
                ],
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        views = selectors.datacentre_capacity(datacentres=selectors.datacentres_for_capacity())
        return Response(s.DatacentreCapacityOutputSerializer(views, many=True).data)


class AvailabilityApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["catalogue"],
        summary="Offer availability",
        description=(
            "Whether each offer can be ordered in each datacentre right now, from the fleet's real free "
            "capacity under the capacity envelopes (never the website's marketing figures), and with which "
            "images. Availability is per offer, datacentre **and image**: `images` lists the images (and, for "
            "GPU offers, the GPU software stacks) that a template of the datacentre can build for the offer, "
            "and a server offer with none is `unavailable` with reason `no_template`. Filter with `offer` and "
            "`datacentre` codes; add `image` (and `gpu_stack`) to ask about one image: where no template "
            "builds it, the row is `unavailable` with `no_template`. Without filters, every active offer in "
            "every datacentre. `level` is `available`, `limited` (a few left), `on_request` (a managed "
            "service, set up by our staff) or `unavailable` with a `reason`.\n\nPublic: no authentication."
        ),
        parameters=[
            OpenApiParameter("offer", str, description="Offer code, e.g. GPU-PRO."),
            OpenApiParameter("datacentre", str, description="Datacentre code, e.g. PAR-1."),
            OpenApiParameter("image", str, description="OS image slug, e.g. ubuntu-22.04."),
            OpenApiParameter("gpu_stack", str, description="GPU software stack slug, e.g. ubuntu-22.04-cuda-12."),
        ],
        responses={
            200: s.AvailabilityOutputSerializer(many=True),
            404: OpenApiResponse(
                description="Unknown offer, datacentre, image or stack: the error body, code `not_found`."
            ),
        },
        examples=[
            OpenApiExample(
                "GPU-PRO in PAR-1",
                value=[
                    {
                        "offer": "GPU-PRO",
                        "datacentre": "PAR-1",
                        "available": True,
                        "level": "limited",
                        "reason": "",
                        "images": [
                            {"image": "ubuntu-22.04", "gpu_stack": None},
                            {"image": "ubuntu-22.04", "gpu_stack": "ubuntu-22.04-cuda-11.8"},
                            {"image": "ubuntu-22.04", "gpu_stack": "ubuntu-22.04-cuda-12"},
                        ],
                    }
                ],
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        query = s.AvailabilityQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        code = query.validated_data.get("offer")
        dc_code = query.validated_data.get("datacentre")
        offers = (
            [catalogue_selectors.offer_get_public(code=code)] if code else list(catalogue_selectors.offer_list_public())
        )
        datacentres = (
            [catalogue_selectors.datacentre_get(code=dc_code)]
            if dc_code
            else list(catalogue_selectors.datacentre_list())
        )
        image = stack = None
        if query.validated_data.get("image"):
            image = catalogue_selectors.image_get(slug=query.validated_data["image"])
        if query.validated_data.get("gpu_stack"):
            stack = catalogue_selectors.gpu_stack_get(slug=query.validated_data["gpu_stack"])
        matrix = selectors.availability_matrix(offers=offers, datacentres=datacentres)
        if image is not None:
            matrix = {key: a.for_image(image.pk, stack.pk if stack else None) for key, a in matrix.items()}
        slugs = catalogue_selectors.image_slugs()
        for offer in offers:
            if offer.family.kind != catalogue_choices.FamilyKind.VIRTUAL_MACHINE:
                # Managed services are set up by staff, not placed: orderable wherever the catalogue allows.
                for dc in datacentres:
                    a = matrix[(offer.pk, dc.pk)]
                    if a.reason not in selectors.CATALOGUE_REASONS:
                        matrix[(offer.pk, dc.pk)] = selectors.Availability(
                            offer_id=offer.pk, datacentre_id=dc.pk, count=selectors.ON_REQUEST, reason=""
                        )
        rows = [
            {
                "offer": offer.code,
                "datacentre": dc.code,
                "available": matrix[(offer.pk, dc.pk)].available,
                "level": matrix[(offer.pk, dc.pk)].level,
                "reason": matrix[(offer.pk, dc.pk)].reason,
                "images": [
                    {
                        "image": slugs.images[choice.image_id],
                        "gpu_stack": slugs.stacks[choice.gpu_stack_id] if choice.gpu_stack_id else None,
                    }
                    for choice in matrix[(offer.pk, dc.pk)].images
                ],
            }
            for offer in offers
            for dc in datacentres
        ]
        response = Response(s.AvailabilityOutputSerializer(rows, many=True).data)
        response["Cache-Control"] = "public, max-age=30"
        return response
