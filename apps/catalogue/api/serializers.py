"""Catalogue API serializers: query-parameter inputs and read-only outputs.

Shapes clients rely on (documented in apps/docs/content/pricing-rules.md):
- Money is a decimal string in EUR excluding VAT ("29.00", "0.0397",
  "0.000137"), never a float.
- A quantity that can be unlimited or open-ended is an object:
  ``{"value": 5, "unit": "TB", "unlimited": false, "or_more": false}``;
  unlimited is ``{"value": null, ..., "unlimited": true}``, and "1M+" is
  ``{"value": 1000000, ..., "or_more": true}``.
- Each family's specs sit in their own section (``compute``, ``gpu``,
  ``web_hosting``, ``paas``, ``load_balancer``, ``block_storage``, ``cdn``);
  a section that does not apply to the offer is ``null``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.catalogue import choices
from apps.catalogue.models import (
    Datacentre,
    DatacentreGpuModel,
    GpuModel,
    GpuSoftwareStack,
    Offer,
    OsImage,
    ProductFamily,
)
from apps.catalogue.rules import specs
from apps.core.api.queries import ListQuerySerializer

# ---------------------------------------------------------------------------
# Inputs (query parameters)
# ---------------------------------------------------------------------------


class OfferListFilterInputSerializer(ListQuerySerializer):
    """Query parameters of GET /catalogue/offers/. Unknown values are a 400, not an empty list."""

    family = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=ProductFamily.objects.all(),
        required=False,
        help_text=_("Family slug: vps, gpu, web-hosting, paas, load-balancer, storage, cdn."),
    )
    gpu_model = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=GpuModel.objects.all(),
        required=False,
        help_text=_("GPU model slug, e.g. a100-80gb (see /catalogue/gpu-models/)."),
    )
    datacentre = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Datacentre.objects.all(),
        required=False,
        help_text=_("Datacentre code where the offer is orderable, e.g. PAR-1."),
    )
    tier = serializers.ChoiceField(choices=choices.Tier.choices, required=False, help_text=_("Offer tier."))
    min_vcpu = serializers.IntegerField(
        min_value=0, max_value=100_000, required=False, help_text=_("Only offers with at least this many vCPUs.")
    )
    min_ram_gb = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, help_text=_("Only offers with at least this much RAM (GB).")
    )
    min_price_monthly = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=_("Lowest monthly price in EUR (per GB for storage offers)."),
    )
    max_price_monthly = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=_("Highest monthly price in EUR (per GB for storage offers)."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("min_price_monthly"), attrs.get("max_price_monthly")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"max_price_monthly": [_("Must be greater than or equal to min_price_monthly.")]}
            )
        return attrs


class ImageListFilterInputSerializer(ListQuerySerializer):
    """Query parameters of the image and GPU stack lists."""

    include_deprecated = serializers.BooleanField(
        required=False, default=False, help_text=_("Also list deprecated images (not offered for new servers).")
    )


# ---------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------


class CatalogueMoneyField(serializers.DecimalField):
    """A decimal string without padding noise: "29.00", "0.0397", "0.000137", "0.85"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 6)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return specs.fmt_decimal_money(Decimal(value))


class CatalogueDecimalField(serializers.DecimalField):
    """A decimal string without trailing zeros: "99.9", "0.05"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 6)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return specs.fmt_decimal(Decimal(value))


class CatalogueQuantitySerializer(serializers.Serializer):
    """A number that may be unlimited or open-ended ("1M+", "150+")."""

    value = serializers.IntegerField(allow_null=True, help_text=_("The number; null when unlimited."))
    unit = serializers.CharField(allow_null=True, help_text=_("Unit of value, e.g. TB, GB; null for plain counts."))
    unlimited = serializers.BooleanField(help_text=_("True when there is no limit (value is null)."))
    or_more = serializers.BooleanField(help_text=_("True when value is a floor, e.g. 1M+ requests/s."))


def quantity(value: int | None, *, unit: str | None = None, unlimited: bool = False, or_more: bool = False) -> dict:
    return {"value": None if unlimited else value, "unit": unit, "unlimited": unlimited, "or_more": or_more}


class CatalogueFeatureGroupSerializer(serializers.Serializer):
    title = serializers.CharField(help_text=_("e.g. CPU, Web stack, 1-click apps."))
    items = serializers.ListField(child=serializers.CharField())


class OfferPriceOutputSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text=_("Always EUR, excluding VAT."))
    unit = serializers.ChoiceField(
        choices=choices.BillingUnit.choices, help_text=_("month, or gb_month for storage (prices are per GB).")
    )
    monthly = CatalogueMoneyField(help_text=_("Monthly price, and the cap per calendar month."))
    hourly = CatalogueMoneyField(help_text=_("Price per started hour (per GB for storage)."))
    hourly_price_rule = serializers.ChoiceField(
        choices=choices.HourlyPriceRule.choices, help_text=_("derived: monthly / 730 rounded; list: set by VMCloud.")
    )


class OfferComputeOutputSerializer(serializers.Serializer):
    vcpu = serializers.IntegerField()
    cpu_model = serializers.CharField()
    ram_gb = serializers.IntegerField(allow_null=True)
    storage_gb = serializers.IntegerField(allow_null=True, help_text=_("Decimal GB: 1.28 TB = 1280."))
    storage_type = serializers.CharField(allow_blank=True)
    bandwidth = CatalogueQuantitySerializer(allow_null=True, help_text=_("Monthly traffic in TB, or unlimited."))
    sla_percent = CatalogueDecimalField(allow_null=True, help_text=_("e.g. 99.95; null when none is published."))


class OfferGpuOutputSerializer(serializers.Serializer):
    model = serializers.CharField(help_text=_("GPU model slug."))
    model_name = serializers.CharField()
    count = serializers.IntegerField()
    vram_gb_per_gpu = serializers.IntegerField()
    vram_gb_total = serializers.IntegerField()


class OfferWebHostingOutputSerializer(serializers.Serializer):
    websites = CatalogueQuantitySerializer()
    storage_gb = serializers.IntegerField(allow_null=True)
    bandwidth = CatalogueQuantitySerializer()
    databases = CatalogueQuantitySerializer()
    mailboxes = CatalogueQuantitySerializer()


class OfferPaasOutputSerializer(serializers.Serializer):
    containers = CatalogueQuantitySerializer(allow_null=True, help_text=_("null for a whole Kubernetes cluster."))
    kubernetes_cluster = serializers.BooleanField()
    ram_per_container_gb = serializers.IntegerField(allow_null=True, help_text=_("null when configurable."))
    ram_configurable = serializers.BooleanField()
    deployments_per_day = CatalogueQuantitySerializer()


class OfferLoadBalancerOutputSerializer(serializers.Serializer):
    backends = CatalogueQuantitySerializer()
    requests_per_second = CatalogueQuantitySerializer()
    protocols = serializers.ListField(child=serializers.CharField())


class OfferBlockStorageOutputSerializer(serializers.Serializer):
    storage_type = serializers.CharField()
    iops_per_tb = CatalogueQuantitySerializer()
    latency_below_ms = CatalogueDecimalField(allow_null=True, help_text=_("The seed's '< 0.5ms' is 0.5."))


class OfferCdnOutputSerializer(serializers.Serializer):
    pops = CatalogueQuantitySerializer()
    coverage = serializers.CharField()
    traffic_included = CatalogueQuantitySerializer(help_text=_("TB per month (1 PB = 1000 TB)."))
    waf = serializers.CharField(help_text=_("none, basic, advanced or custom_rules."))


# ---------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------


class OfferOutputSerializer(serializers.ModelSerializer):
    """One offer with its price and the spec sections that apply to it."""

    family: serializers.SlugRelatedField[ProductFamily] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    family_name = serializers.CharField(source="family.name", read_only=True)
    price = serializers.SerializerMethodField()
    compute = serializers.SerializerMethodField()
    gpu = serializers.SerializerMethodField()
    web_hosting = serializers.SerializerMethodField()
    paas = serializers.SerializerMethodField()
    load_balancer = serializers.SerializerMethodField()
    block_storage = serializers.SerializerMethodField()
    cdn = serializers.SerializerMethodField()
    datacentres: serializers.ManyRelatedField = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="code", many=True, read_only=True, help_text=_("Datacentres where the offer is orderable.")
    )

    class Meta:
        model = Offer
        fields = [
            "code",
            "name",
            "family",
            "family_name",
            "tier",
            "status",
            "description",
            "price",
            "compute",
            "gpu",
            "web_hosting",
            "paas",
            "load_balancer",
            "block_storage",
            "cdn",
            "datacentres",
            "snapshot_quota",
        ]
        read_only_fields = fields

    @extend_schema_field(OfferPriceOutputSerializer)
    def get_price(self, o: Offer) -> dict[str, Any]:
        return OfferPriceOutputSerializer(
            {
                "currency": "EUR",
                "unit": o.billing_unit,
                "monthly": o.price_monthly,
                "hourly": o.price_hourly,
                "hourly_price_rule": o.family.hourly_price_rule,
            }
        ).data

    @extend_schema_field(OfferComputeOutputSerializer(allow_null=True))
    def get_compute(self, o: Offer) -> dict[str, Any] | None:
        if o.vcpu is None:
            return None
        return OfferComputeOutputSerializer(
            {
                "vcpu": o.vcpu,
                "cpu_model": o.cpu_model,
                "ram_gb": o.ram_gb,
                "storage_gb": o.disk_gb,
                "storage_type": o.storage_type,
                "bandwidth": (
                    quantity(o.bandwidth_tb, unit="TB", unlimited=o.bandwidth_unlimited)
                    if o.bandwidth_tb is not None or o.bandwidth_unlimited
                    else None
                ),
                "sla_percent": o.sla_percent,
            }
        ).data

    @extend_schema_field(OfferGpuOutputSerializer(allow_null=True))
    def get_gpu(self, o: Offer) -> dict[str, Any] | None:
        if o.gpu_model is None:
            return None
        return {
            "model": o.gpu_model.slug,
            "model_name": o.gpu_model.name,
            "count": o.gpu_count,
            "vram_gb_per_gpu": o.gpu_model.vram_gb,
            "vram_gb_total": o.gpu_vram_gb,
        }

    @extend_schema_field(OfferWebHostingOutputSerializer(allow_null=True))
    def get_web_hosting(self, o: Offer) -> dict[str, Any] | None:
        if o.web_sites is None and not o.web_sites_unlimited:
            return None
        return {
            "websites": quantity(o.web_sites, unlimited=o.web_sites_unlimited),
            "storage_gb": o.disk_gb,
            "bandwidth": quantity(o.bandwidth_tb, unit="TB", unlimited=o.bandwidth_unlimited),
            "databases": quantity(o.web_databases, unlimited=o.web_databases_unlimited),
            "mailboxes": quantity(o.web_mailboxes, unlimited=o.web_mailboxes_unlimited),
        }

    @extend_schema_field(OfferPaasOutputSerializer(allow_null=True))
    def get_paas(self, o: Offer) -> dict[str, Any] | None:
        if o.paas_containers is None and not o.paas_kubernetes_cluster:
            return None
        return {
            "containers": None if o.paas_kubernetes_cluster else quantity(o.paas_containers),
            "kubernetes_cluster": o.paas_kubernetes_cluster,
            "ram_per_container_gb": o.paas_ram_per_container_gb,
            "ram_configurable": o.paas_ram_configurable,
            "deployments_per_day": quantity(o.paas_deployments_per_day, unlimited=o.paas_deployments_per_day_unlimited),
        }

    @extend_schema_field(OfferLoadBalancerOutputSerializer(allow_null=True))
    def get_load_balancer(self, o: Offer) -> dict[str, Any] | None:
        if o.lb_backends is None and not o.lb_backends_unlimited:
            return None
        return {
            "backends": quantity(o.lb_backends, unlimited=o.lb_backends_unlimited),
            "requests_per_second": quantity(o.lb_requests_per_second, or_more=o.lb_requests_per_second_or_more),
            "protocols": list(o.lb_protocols or []),
        }

    @extend_schema_field(OfferBlockStorageOutputSerializer(allow_null=True))
    def get_block_storage(self, o: Offer) -> dict[str, Any] | None:
        if o.storage_iops_per_tb is None:
            return None
        return OfferBlockStorageOutputSerializer(
            {
                "storage_type": o.storage_type,
                "iops_per_tb": quantity(o.storage_iops_per_tb, or_more=o.storage_iops_per_tb_or_more),
                "latency_below_ms": o.storage_latency_ms,
            }
        ).data

    @extend_schema_field(OfferCdnOutputSerializer(allow_null=True))
    def get_cdn(self, o: Offer) -> dict[str, Any] | None:
        if o.cdn_pops is None:
            return None
        return {
            "pops": quantity(o.cdn_pops, or_more=o.cdn_pops_or_more),
            "coverage": o.cdn_coverage,
            "traffic_included": quantity(o.cdn_traffic_tb, unit="TB"),
            "waf": o.cdn_waf,
        }


# ---------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------


class FamilyOutputSerializer(serializers.ModelSerializer):
    """A product family with the number and monthly price range of its active offers."""

    features = CatalogueFeatureGroupSerializer(many=True, read_only=True)
    offer_count = serializers.IntegerField(source="active_offer_count", read_only=True)
    price_monthly_from = CatalogueMoneyField(
        source="price_monthly_min", allow_null=True, help_text=_("Lowest monthly price (per GB for storage).")
    )
    price_monthly_to = CatalogueMoneyField(
        source="price_monthly_max", allow_null=True, help_text=_("Highest monthly price (per GB for storage).")
    )

    class Meta:
        model = ProductFamily
        fields = [
            "slug",
            "name",
            "tagline",
            "description",
            "kind",
            "hourly_price_rule",
            "features",
            "offer_count",
            "price_monthly_from",
            "price_monthly_to",
        ]
        read_only_fields = fields


class FamilyDetailOutputSerializer(FamilyOutputSerializer):
    """A family with its active offers."""

    offers = OfferOutputSerializer(source="public_offers", many=True, read_only=True)

    class Meta(FamilyOutputSerializer.Meta):
        fields = [*FamilyOutputSerializer.Meta.fields, "offers"]
        read_only_fields = fields


# ---------------------------------------------------------------------------
# Images, GPU stacks, datacentres, GPU models
# ---------------------------------------------------------------------------


class OsImageOutputSerializer(serializers.ModelSerializer):
    distribution = serializers.CharField(source="family", read_only=True)
    lifecycle = serializers.ChoiceField(
        source="status",
        choices=choices.ImageStatus.choices,
        read_only=True,
        help_text=_("available, or deprecated (kept for existing servers, not offered for new ones)."),
    )

    class Meta:
        model = OsImage
        fields = [
            "slug",
            "distribution",
            "version",
            "os_type",
            "support",
            "windows_licensing",
            "lifecycle",
            "min_ram_gb",
            "min_disk_gb",
        ]
        read_only_fields = fields


class GpuStackOutputSerializer(serializers.ModelSerializer):
    base_image: serializers.SlugRelatedField[OsImage] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    frameworks = serializers.ListField(child=serializers.CharField(), read_only=True)
    tools = serializers.ListField(child=serializers.CharField(), read_only=True)
    lifecycle = serializers.ChoiceField(
        source="status",
        choices=choices.ImageStatus.choices,
        read_only=True,
        help_text=_("available, or deprecated (kept for existing servers, not offered for new ones)."),
    )

    class Meta:
        model = GpuSoftwareStack
        fields = [
            "slug",
            "name",
            "base_image",
            "cuda_version",
            "cudnn_version",
            "tensorrt_version",
            "frameworks",
            "tools",
            "container_runtime",
            "lifecycle",
        ]
        read_only_fields = fields


class DatacentreGpuOutputSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="gpu_model.slug", read_only=True)
    name = serializers.CharField(source="gpu_model.name", read_only=True)

    class Meta:
        model = DatacentreGpuModel
        fields = ["model", "name", "presence"]
        read_only_fields = fields


class DatacentreOutputSerializer(serializers.ModelSerializer):
    gpu_models = DatacentreGpuOutputSerializer(source="gpu_presence", many=True, read_only=True)

    class Meta:
        model = Datacentre
        fields = ["code", "name", "city", "country", "tier", "status", "status_message", "gpu_models"]
        read_only_fields = fields


class GpuModelDatacentreOutputSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="datacentre.code", read_only=True)

    class Meta:
        model = DatacentreGpuModel
        fields = ["code", "presence"]
        read_only_fields = fields


class GpuModelOutputSerializer(serializers.ModelSerializer):
    datacentres = GpuModelDatacentreOutputSerializer(source="datacentre_presence", many=True, read_only=True)

    class Meta:
        model = GpuModel
        fields = ["slug", "name", "vendor", "vram_gb", "pci_vendor_id", "pci_device_id", "datacentres"]
        read_only_fields = fields
