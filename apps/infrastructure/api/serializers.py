"""Serializers of the fleet API. Names are unique across the project (drf-spectacular components)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.catalogue.models import Datacentre
from apps.infrastructure import choices
from apps.infrastructure.models import Cluster, GpuDevice, IpPool, Node, Storage, VmTemplate


class ClusterOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    datacentre = serializers.CharField(source="datacentre.code", read_only=True)
    has_token_secret = serializers.BooleanField(read_only=True, help_text="Whether a secret is stored (never shown).")
    node_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "datacentre",
            "status",
            "api_url",
            "token_id",
            "has_token_secret",
            "tls_fingerprint",
            "vmid_range_start",
            "vmid_range_end",
            "snippets_storage",
            "snippets_path",
            "sync_status",
            "last_sync_at",
            "last_sync_error",
            "node_count",
        ]
        read_only_fields = fields


class ClusterCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=64)
    datacentre = serializers.SlugRelatedField(slug_field="code", queryset=Datacentre.objects.all())
    api_url = serializers.URLField(max_length=255)
    token_id = serializers.CharField(max_length=128)
    token_secret = serializers.CharField(write_only=True, max_length=256, help_text="Stored encrypted; write-only.")
    tls_ca_pem = serializers.CharField(required=False, allow_blank=True, default="")
    tls_fingerprint = serializers.CharField(required=False, allow_blank=True, default="", max_length=128)
    vmid_range_start = serializers.IntegerField(required=False, min_value=100, max_value=999_999_999)
    vmid_range_end = serializers.IntegerField(required=False, min_value=101, max_value=999_999_999)

    def validate_token_id(self, value: str) -> str:
        user, sep, name = value.partition("!")
        if not sep or "@" not in user or not name:
            raise serializers.ValidationError("Use user@realm!tokenname.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("vmid_range_start"), attrs.get("vmid_range_end")
        if start is not None and end is not None and start >= end:
            raise serializers.ValidationError({"vmid_range_end": ["The last VMID must be above the first."]})
        return attrs


class NodeOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    datacentre = serializers.CharField(source="datacentre.code", read_only=True)

    class Meta:
        model = Node
        fields = [
            "id",
            "name",
            "cluster",
            "datacentre",
            "status",
            "maintenance",
            "maintenance_reason",
            "cpu_model",
            "cores",
            "ram_gb",
            "gpu_count",
            "allocated_vcpu",
            "allocated_ram_gb",
            "last_seen_at",
            "missing_since",
        ]
        read_only_fields = fields


class NodeDrainInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class GpuOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    node = serializers.CharField(source="node.name", read_only=True)
    cluster = serializers.CharField(source="node.cluster.name", read_only=True)
    datacentre = serializers.CharField(source="node.datacentre.code", read_only=True)
    gpu_model = serializers.CharField(source="gpu_model.slug", read_only=True, allow_null=True, default=None)

    class Meta:
        model = GpuDevice
        fields = [
            "id",
            "node",
            "cluster",
            "datacentre",
            "pci_address",
            "vendor_id",
            "device_id",
            "gpu_model",
            "iommu_group",
            "nvlink_peer_group",
            "mapping_name",
            "state",
            "reservation",
            "missing_since",
        ]
        read_only_fields = fields


class StorageOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    node = serializers.CharField(source="node.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Storage
        fields = [
            "id",
            "name",
            "cluster",
            "node",
            "type",
            "content",
            "shared",
            "tier",
            "enabled",
            "capacity_gb",
            "used_gb",
            "allocated_gb",
            "missing_since",
        ]
        read_only_fields = fields


class TemplateOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    node = serializers.CharField(source="node.name", read_only=True, allow_null=True, default=None)
    os_image = serializers.CharField(source="os_image.slug", read_only=True, allow_null=True, default=None)
    gpu_stack = serializers.CharField(source="gpu_stack.slug", read_only=True, allow_null=True, default=None)

    class Meta:
        model = VmTemplate
        fields = ["id", "vmid", "name", "cluster", "node", "os_image", "gpu_stack", "gpu_ready", "missing_since"]
        read_only_fields = fields


class IpPoolOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    datacentre = serializers.CharField(source="datacentre.code", read_only=True)
    allocated = serializers.IntegerField(read_only=True)
    dns_servers = serializers.ListField(child=serializers.IPAddressField(), read_only=True)

    class Meta:
        model = IpPool
        fields = ["id", "name", "datacentre", "family", "cidr", "gateway", "dns_servers", "is_active", "allocated"]
        read_only_fields = fields


class CapacityLineOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    resource = serializers.ChoiceField(choices=["vcpu", "ram", "storage", "gpu"])
    name = serializers.CharField(source="label")
    unit = serializers.CharField()
    gpu_model_id = serializers.IntegerField(allow_null=True)
    physical = serializers.IntegerField()
    sellable = serializers.IntegerField()
    sold = serializers.IntegerField()
    remaining = serializers.IntegerField()
    percent = serializers.IntegerField(help_text="Sold as a percentage of sellable.")


class DatacentreCapacityOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    datacentre = serializers.CharField(source="datacentre.code")
    nodes_total = serializers.IntegerField()
    nodes_in_service = serializers.IntegerField()
    lines = CapacityLineOutputSerializer(many=True)


class AvailabilityQueryInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    offer = serializers.CharField(required=False, max_length=40, help_text="Offer code, e.g. GPU-PRO.")
    datacentre = serializers.CharField(required=False, max_length=16, help_text="Datacentre code, e.g. PAR-1.")
    image = serializers.CharField(
        required=False, max_length=60, help_text="OS image slug, e.g. ubuntu-22.04: answer for this image."
    )
    gpu_stack = serializers.CharField(
        required=False,
        max_length=60,
        help_text="GPU software stack slug, e.g. ubuntu-22.04-cuda-12 (with `image`, its base image).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("gpu_stack") and not attrs.get("image"):
            raise serializers.ValidationError({"image": ["Give the stack's base image too."]})
        return attrs


class AvailabilityImageOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    image = serializers.CharField(help_text="OS image slug.")
    gpu_stack = serializers.CharField(allow_null=True, help_text="GPU software stack slug, or null for none.")


class AvailabilityOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    offer = serializers.CharField(help_text="Offer code.")
    datacentre = serializers.CharField(help_text="Datacentre code.")
    available = serializers.BooleanField()
    # A CharField, not a ChoiceField: the quote's `availability` has the same values under another name,
    # and drf-spectacular would name one enum twice.
    level = serializers.CharField(
        help_text="`available`, `limited` (a few instances left; exact counts are staff-only), `on_request` "
        "(a managed service, set up by our staff) or `unavailable`.",
    )
    reason = serializers.CharField(
        allow_blank=True,
        help_text="Why it is unavailable: "
        + ", ".join(f"`{v}`" for k, v in vars(choices.UnavailableCode).items() if k.isupper()),
    )
    images = AvailabilityImageOutputSerializer(
        many=True,
        help_text="The images (and GPU software stacks) a template of this datacentre can build for the offer; "
        "empty for managed services. Only these can be ordered here.",
    )
