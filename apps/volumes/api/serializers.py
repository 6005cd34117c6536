"""Serializers of the volumes API: one input and one output serializer per shape, uniquely named."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import IdField, LabelsField
from apps.core.api.queries import ListQuerySerializer, multiple_choice
from apps.instances.api.serializers import ActionOutputSerializer
from apps.volumes import choices, rules
from apps.volumes.models import Volume


class VolumeOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    project_id = serializers.IntegerField(read_only=True)
    tier = serializers.CharField(source="tier.code", read_only=True)
    datacentre = serializers.CharField(source="datacentre.code", read_only=True)
    server_id = serializers.SerializerMethodField()
    device_path = serializers.SerializerMethodField()
    price_hourly = serializers.DecimalField(max_digits=12, decimal_places=6, read_only=True)
    price_monthly = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Volume
        fields = [
            "id",
            "organisation_id",
            "project_id",
            "name",
            "labels",
            "tier",
            "size_gb",
            "datacentre",
            "server_id",
            "status",
            "delete_protection",
            "device_path",
            "error_message",
            "price_hourly",
            "price_monthly",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_server_id(self, obj: Volume) -> str | None:
        return str(obj.server.public_id) if obj.server_id and obj.server else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_device_path(self, obj: Volume) -> str | None:
        """The stable path in a Linux guest while attached (``/dev/disk/by-id/…``, from the disk serial)."""
        return obj.device_path if obj.server_id else None


class VolumeCreateOutputSerializer(serializers.Serializer):
    """What a create answers (201), like the other resources' creates: the volume and its ``create`` Action."""

    volume = VolumeOutputSerializer()
    action = ActionOutputSerializer(help_text=_("The create action (it attaches the volume too, when asked)."))


class VolumeCreateInputSerializer(serializers.Serializer):
    organisation_id = IdField(help_text=_("The organisation that owns the volume."))
    project_id = IdField(required=False, help_text=_("Its project; the organisation's default project if left out."))
    name = serializers.CharField(max_length=63)
    tier = serializers.CharField(max_length=40, help_text=_("Storage offer code, e.g. STORAGE-NVME."))
    size_gb = serializers.IntegerField(min_value=rules.SIZE_MIN_GB, max_value=rules.SIZE_MAX_GB)
    datacentre = serializers.CharField(max_length=32, help_text=_("Datacentre code, e.g. PAR-1."))
    server_id = serializers.UUIDField(required=False, help_text=_("Attach to this server at once."))
    labels = LabelsField(required=False)
    delete_protection = serializers.BooleanField(required=False, default=False)


class VolumeUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=63)
    labels = LabelsField(required=False)
    delete_protection = serializers.BooleanField(required=False)


class VolumeAttachInputSerializer(serializers.Serializer):
    server_id = serializers.UUIDField(
        help_text=_("A running or stopped server of the volume's project and datacentre.")
    )


class VolumeResizeInputSerializer(serializers.Serializer):
    size_gb = serializers.IntegerField(
        min_value=rules.SIZE_MIN_GB, max_value=rules.SIZE_MAX_GB, help_text=_("The new, larger size.")
    )


class VolumeListQuerySerializer(ListQuerySerializer):
    lookups = {
        "status": "status__in",
        "organisation": "organisation_id",
        "project": "project_id",
        "datacentre": "datacentre__code",
        "tier": "tier__code",
        "server": "server__public_id",
        "name": "name",
    }
    sort_fields = {"name": "name", "size_gb": "size_gb", "created_at": "created_at", "status": "status"}
    label_field = "labels"

    status = multiple_choice(choices.VolumeStatus.choices, help_text=_("Only volumes in this status."))
    organisation = IdField(required=False, help_text=_("Only this organisation's volumes."))
    project = IdField(required=False, help_text=_("Only this project's volumes."))
    datacentre = serializers.CharField(required=False, max_length=32, help_text=_("Datacentre code, e.g. PAR-1."))
    tier = serializers.CharField(required=False, max_length=40, help_text=_("Tier code, e.g. STORAGE-SSD."))
    server = serializers.UUIDField(required=False, help_text=_("Only volumes attached to this server."))
    name = serializers.CharField(required=False, max_length=63, help_text=_("Exact name."))
