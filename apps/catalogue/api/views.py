"""Public, read-only catalogue API: no login, cacheable.

Every response carries ``ETag`` and ``Last-Modified`` taken from the newest
catalogue change (``selectors.catalogue_version``, one query) and
``Cache-Control: public, max-age=60``; a request with a matching
``If-None-Match`` or a current ``If-Modified-Since`` gets a 304 without the
body being built. Query parameters are validated before anything else: a bad
value is a 400 with per-field messages.
Docs: https://docs.djangoproject.com/en/5.2/topics/conditional-view-processing/
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalogue import selectors
from apps.catalogue.api import serializers as s
from apps.core.api.pagination import PAGE_HEADERS, StandardPagination
from apps.core.api.queries import PageQuerySerializer, list_query

CACHE_MAX_AGE = 60  # seconds: short, so a price change reaches clients within a minute
TAG = "catalogue"

_CACHE_NOTE = (
    "\n\nPublic: no authentication needed (a token, if sent, is checked and its rate limit applies). "
    "Responses carry `ETag`, `Last-Modified` and "
    "`Cache-Control: public, max-age=60`; send `If-None-Match` or `If-Modified-Since` to get a 304."
)
_NOT_MODIFIED = OpenApiResponse(description="Not modified: the catalogue has not changed since your copy.")


class PublicCatalogueApi(APIView):
    """Open to anonymous callers, conditional GET, short public caching.

    Tokens and sessions are still authenticated (the project's default
    classes): a script's requests then count against its token's rate-limit
    bucket rather than the anonymous bucket of its address, which everyone
    behind the same NAT or proxy shares (apps/docs/content/api-tokens.md,
    "Rate limits"). An invalid token is a 401, as everywhere else.
    """

    permission_classes = [AllowAny]

    def conditional(self, request: Request, build: Callable[[], HttpResponseBase]) -> HttpResponseBase:
        version = selectors.catalogue_version()
        last_modified = int(version.last_modified.timestamp()) if version.last_modified else None
        not_modified = get_conditional_response(request, etag=version.etag, last_modified=last_modified)
        response: HttpResponseBase = not_modified if not_modified is not None else build()
        response["ETag"] = version.etag
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
        response["Cache-Control"] = f"public, max-age={CACHE_MAX_AGE}"
        # Choice labels and messages are translated.
        patch_vary_headers(response, ["Accept-Language"])
        return response


class CatalogueListApi(PublicCatalogueApi, ListAPIView):  # type: ignore[type-arg]
    """A paginated public list whose queryset comes from a selector."""

    pagination_class = StandardPagination
    filter_backends = []

    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        self.validate_query(request)
        return self.conditional(request, lambda: self.list(request, *args, **kwargs))

    def validate_query(self, request: Request) -> None:
        """Validate query parameters before any work (override to read filters): an unknown one is a 400."""
        list_query(request, PageQuerySerializer)


# ---------------------------------------------------------------------------
# Examples (one item; drf-spectacular wraps list examples in the pagination envelope)
# ---------------------------------------------------------------------------

_VPS_EXAMPLE = {
    "code": "VPS-NANO",
    "name": "VPS-NANO",
    "family": "vps",
    "family_name": "VPS",
    "tier": "starter",
    "status": "active",
    "description": "",
    "price": {
        "currency": "EUR",
        "unit": "month",
        "monthly": "29.00",
        "hourly": "0.0397",
        "hourly_price_rule": "derived",
    },
    "compute": {
        "vcpu": 1,
        "cpu_model": "AMD EPYC 7003",
        "ram_gb": 2,
        "storage_gb": 40,
        "storage_type": "nvme",
        "bandwidth": {"value": 5, "unit": "TB", "unlimited": False, "or_more": False},
        "sla_percent": "99.9",
    },
    "gpu": None,
    "web_hosting": None,
    "paas": None,
    "load_balancer": None,
    "block_storage": None,
    "cdn": None,
    "datacentres": ["PAR-1", "AMS-1"],
    "snapshot_quota": 3,
}
_GPU_EXAMPLE = {
    **_VPS_EXAMPLE,
    "code": "GPU-TITAN",
    "name": "GPU-TITAN",
    "family": "gpu",
    "family_name": "GPU Cloud",
    "tier": "premium",
    "price": {"currency": "EUR", "unit": "month", "monthly": "3035.00", "hourly": "5.50", "hourly_price_rule": "list"},
    "compute": {
        "vcpu": 96,
        "cpu_model": "AMD EPYC 7003",
        "ram_gb": 384,
        "storage_gb": 16000,
        "storage_type": "nvme",
        "bandwidth": None,
        "sla_percent": None,
    },
    "gpu": {"model": "a100-80gb", "model_name": "A100 80GB", "count": 1, "vram_gb_per_gpu": 80, "vram_gb_total": 80},
    "datacentres": ["PAR-1"],
    "snapshot_quota": 5,
}
_WEB_EXAMPLE = {
    **_VPS_EXAMPLE,
    "code": "WEB-ENTERPRISE",
    "name": "WEB-ENTERPRISE",
    "family": "web-hosting",
    "family_name": "Web Hosting",
    "tier": "enterprise",
    "price": {
        "currency": "EUR",
        "unit": "month",
        "monthly": "199.00",
        "hourly": "0.2726",
        "hourly_price_rule": "derived",
    },
    "compute": None,
    "web_hosting": {
        "websites": {"value": None, "unit": None, "unlimited": True, "or_more": False},
        "storage_gb": 2000,
        "bandwidth": {"value": None, "unit": "TB", "unlimited": True, "or_more": False},
        "databases": {"value": None, "unit": None, "unlimited": True, "or_more": False},
        "mailboxes": {"value": None, "unit": None, "unlimited": True, "or_more": False},
    },
    "snapshot_quota": 0,
}
_STORAGE_EXAMPLE = {
    **_VPS_EXAMPLE,
    "code": "STORAGE-DEDICATED",
    "name": "STORAGE-DEDICATED",
    "family": "storage",
    "family_name": "Storage",
    "tier": "premium",
    "price": {
        "currency": "EUR",
        "unit": "gb_month",
        "monthly": "0.40",
        "hourly": "0.000548",
        "hourly_price_rule": "derived",
    },
    "compute": None,
    "block_storage": {
        "storage_type": "nvme_raid10",
        "iops_per_tb": {"value": 500000, "unit": None, "unlimited": False, "or_more": True},
        "latency_below_ms": "0.05",
    },
    "snapshot_quota": 0,
}
_FAMILY_EXAMPLE = {
    "slug": "vps",
    "name": "VPS",
    "tagline": "High-performance virtual servers on AMD EPYC",
    "description": "The heart of VMCloud: high-performance virtual private servers on AMD EPYC.",
    "kind": "vm",
    "hourly_price_rule": "derived",
    "features": [{"title": "Network", "items": ["10 Gbps port", "DDoS protection included", "Native IPv6"]}],
    "offer_count": 8,
    "price_monthly_from": "29.00",
    "price_monthly_to": "3199.00",
}


# ---------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="catalogue_families_list",
        summary="List product families",
        description="The 7 product families in catalogue order, with the count and monthly price range of their active "
        "offers (storage prices are per GB per month)." + _CACHE_NOTE,
        parameters=[PageQuerySerializer, *PAGE_HEADERS],
        responses={200: s.FamilyOutputSerializer(many=True), 304: _NOT_MODIFIED},
        examples=[OpenApiExample("VPS family", value=_FAMILY_EXAMPLE, response_only=True)],
    )
)
class FamilyListApi(CatalogueListApi):
    serializer_class = s.FamilyOutputSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.family_list()


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="catalogue_families_retrieve",
        summary="Get a product family and its offers",
        description="One family by slug (`vps`, `gpu`, `web-hosting`, `paas`, `load-balancer`, `storage`, `cdn`) with "
        "its features and its active offers." + _CACHE_NOTE,
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, description="Family slug, e.g. `gpu`.")],
        responses={200: s.FamilyDetailOutputSerializer, 304: _NOT_MODIFIED},
        examples=[
            OpenApiExample("VPS family", value={**_FAMILY_EXAMPLE, "offers": [_VPS_EXAMPLE]}, response_only=True)
        ],
    )
)
class FamilyDetailApi(PublicCatalogueApi):
    def get(self, request: Request, slug: str) -> HttpResponseBase:
        family = selectors.family_get_public(slug=slug)
        return self.conditional(request, lambda: Response(s.FamilyDetailOutputSerializer(family).data))


# ---------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="catalogue_offers_list",
        summary="List offers",
        description="Active offers in catalogue order, with prices (decimal strings, EUR excluding VAT) and the spec "
        "sections that apply. Filters combine with AND; an unknown family, GPU model or datacentre, or a bad number, "
        "is "
        'a 400 with `error.fields`. Unlimited values are `{"value": null, "unlimited": true}`; open-ended ones '
        '("1M+") set `or_more`.' + _CACHE_NOTE,
        parameters=[s.OfferListFilterInputSerializer, *PAGE_HEADERS],
        responses={200: s.OfferOutputSerializer(many=True), 304: _NOT_MODIFIED},
        examples=[
            OpenApiExample("VPS offer", value=_VPS_EXAMPLE, response_only=True),
            OpenApiExample("GPU offer (list hourly price)", value=_GPU_EXAMPLE, response_only=True),
            OpenApiExample("Web hosting with unlimited values", value=_WEB_EXAMPLE, response_only=True),
            OpenApiExample("Storage priced per GB", value=_STORAGE_EXAMPLE, response_only=True),
        ],
    )
)
class OfferListApi(CatalogueListApi):
    serializer_class = s.OfferOutputSerializer
    filters: selectors.OfferFilters = selectors.OfferFilters()

    def validate_query(self, request: Request) -> None:
        query = list_query(request, s.OfferListFilterInputSerializer)
        values = {k: v for k, v in query.values.items() if k not in ("page", "per_page")}
        self.filters = selectors.OfferFilters(**values)

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.offer_list_public(filters=self.filters)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="catalogue_offers_retrieve",
        summary="Get an offer",
        description="One offer by code, e.g. `GPU-TITAN`. Hidden offers (orderable by code, not listed) are returned; "
        "retired offers are a 404." + _CACHE_NOTE,
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH, description="Offer code, e.g. `VPS-NANO`.")],
        responses={200: s.OfferOutputSerializer, 304: _NOT_MODIFIED},
        examples=[
            OpenApiExample("VPS offer", value=_VPS_EXAMPLE, response_only=True),
            OpenApiExample("GPU offer", value=_GPU_EXAMPLE, response_only=True),
        ],
    )
)
class OfferDetailApi(PublicCatalogueApi):
    def get(self, request: Request, code: str) -> HttpResponseBase:
        offer = selectors.offer_get_public(code=code)
        return self.conditional(request, lambda: Response(s.OfferOutputSerializer(offer).data))


# ---------------------------------------------------------------------------
# Images, GPU stacks, datacentres, GPU models
# ---------------------------------------------------------------------------


class _DeprecatedFilterListApi(CatalogueListApi):
    """A list whose deprecated rows are hidden unless ``?include_deprecated=true`` (images, GPU stacks)."""

    include_deprecated = False

    def validate_query(self, request: Request) -> None:
        query = list_query(request, s.ImageListFilterInputSerializer)
        self.include_deprecated = query.get("include_deprecated", False)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="catalogue_images_list",
        summary="List OS images",
        description="Operating system images for servers: distribution, version, support level (official or community) "
        "and, for Windows Server, licensing (bring your own licence or licence included). Deprecated images are left "
        "out unless `include_deprecated=true`. Custom images are not offered yet." + _CACHE_NOTE,
        parameters=[s.ImageListFilterInputSerializer, *PAGE_HEADERS],
        responses={200: s.OsImageOutputSerializer(many=True), 304: _NOT_MODIFIED},
        examples=[
            OpenApiExample(
                "Ubuntu 24.04",
                value={
                    "slug": "ubuntu-24.04",
                    "distribution": "Ubuntu",
                    "version": "24.04 LTS",
                    "os_type": "linux",
                    "support": "official",
                    "windows_licensing": "n/a",
                    "lifecycle": "available",
                    "min_ram_gb": 1,
                    "min_disk_gb": 10,
                },
                response_only=True,
            ),
            OpenApiExample(
                "Windows Server 2022",
                value={
                    "slug": "windows-server-2022",
                    "distribution": "Windows Server",
                    "version": "2022",
                    "os_type": "windows",
                    "support": "official",
                    "windows_licensing": "byol_or_included",
                    "lifecycle": "available",
                    "min_ram_gb": 4,
                    "min_disk_gb": 40,
                },
                response_only=True,
            ),
        ],
    )
)
class ImageListApi(_DeprecatedFilterListApi):
    serializer_class = s.OsImageOutputSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.image_list(include_deprecated=self.include_deprecated)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="catalogue_gpu_stacks_list",
        summary="List GPU software stacks",
        description="Image variants for GPU offers: a base image (Ubuntu 22.04 or Rocky Linux 9) with CUDA 11.8 or "
        "12.x, cuDNN, TensorRT, PyTorch/TensorFlow/JAX, Jupyter Lab/MLflow/W&B and Docker with the NVIDIA Container "
        "Toolkit." + _CACHE_NOTE,
        parameters=[s.ImageListFilterInputSerializer, *PAGE_HEADERS],
        responses={200: s.GpuStackOutputSerializer(many=True), 304: _NOT_MODIFIED},
        examples=[
            OpenApiExample(
                "Ubuntu 22.04 + CUDA 12.x",
                value={
                    "slug": "ubuntu-22.04-cuda-12",
                    "name": "Ubuntu 22.04 + CUDA 12.x",
                    "base_image": "ubuntu-22.04",
                    "cuda_version": "12.x",
                    "cudnn_version": "8.9.x",
                    "tensorrt_version": "8.6 LTS",
                    "frameworks": ["PyTorch", "TensorFlow", "JAX"],
                    "tools": ["Jupyter Lab", "MLflow", "W&B"],
                    "container_runtime": "Docker + NVIDIA Container Toolkit",
                    "lifecycle": "available",
                },
                response_only=True,
            )
        ],
    )
)
class GpuStackListApi(_DeprecatedFilterListApi):
    serializer_class = s.GpuStackOutputSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.gpu_stack_list(include_deprecated=self.include_deprecated)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="catalogue_datacentres_list",
        summary="List datacentres",
        description="Datacentres (regions) with their Uptime tier, status (operational or maintenance: no new orders) "
        "and the GPU models present or planned there." + _CACHE_NOTE,
        parameters=[PageQuerySerializer, *PAGE_HEADERS],
        responses={200: s.DatacentreOutputSerializer(many=True), 304: _NOT_MODIFIED},
        examples=[
            OpenApiExample(
                "PAR-1",
                value={
                    "code": "PAR-1",
                    "name": "Paris 1",
                    "city": "Paris",
                    "country": "FR",
                    "tier": "III+",
                    "status": "operational",
                    "status_message": "",
                    "gpu_models": [
                        {"model": "rtx-4090", "name": "GeForce RTX 4090", "presence": "available"},
                        {"model": "a100-80gb", "name": "A100 80GB", "presence": "available"},
                    ],
                },
                response_only=True,
            )
        ],
    )
)
class DatacentreListApi(CatalogueListApi):
    serializer_class = s.DatacentreOutputSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.datacentre_list()


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        operation_id="catalogue_gpu_models_list",
        summary="List GPU models",
        description="GPU models with their memory, PCI ids (as Proxmox reports them) and the datacentres where each is "
        "available or planned." + _CACHE_NOTE,
        parameters=[PageQuerySerializer, *PAGE_HEADERS],
        responses={200: s.GpuModelOutputSerializer(many=True), 304: _NOT_MODIFIED},
        examples=[
            OpenApiExample(
                "A100 80GB",
                value={
                    "slug": "a100-80gb",
                    "name": "A100 80GB",
                    "vendor": "NVIDIA",
                    "vram_gb": 80,
                    "pci_vendor_id": "10de",
                    "pci_device_id": "20b5",
                    "datacentres": [
                        {"code": "PAR-1", "presence": "available"},
                        {"code": "FRA-1", "presence": "planned"},
                    ],
                },
                response_only=True,
            )
        ],
    )
)
class GpuModelListApi(CatalogueListApi):
    serializer_class = s.GpuModelOutputSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.gpu_model_list()
