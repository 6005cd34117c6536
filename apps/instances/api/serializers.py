"""Serializers of the instances API: one input and one output serializer per shape, uniquely named."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import IdField, LabelsField
from apps.core.api.queries import ListQuerySerializer, multiple_choice
from apps.instances import choices
from apps.instances.models import Action, Instance, Snapshot, SnapshotSchedule, SshKey
from apps.instances.selectors.server_extras import server_extras
from apps.instances.services import METRIC_TIMEFRAMES


class ActionResourceSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=choices.ActionResource.choices)
    id = serializers.UUIDField(allow_null=True)


class ActionOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    instance_id = serializers.SerializerMethodField(
        help_text=_("The server the action concerns (a server action, or attaching a volume to it), else null.")
    )
    resource = serializers.SerializerMethodField(
        help_text=_("What the action acts on: a server, volume, network, firewall or floating IP.")
    )
    error = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = [
            "id",
            "instance_id",
            "resource",
            "type",
            "status",
            "progress",
            "created_at",
            "started_at",
            "finished_at",
            "error",
        ]

    def get_instance_id(self, obj: Action) -> str | None:
        return str(obj.instance.public_id) if obj.instance_id and obj.instance else None

    @extend_schema_field(ActionResourceSerializer)
    def get_resource(self, obj: Action) -> dict[str, str | None]:
        return {"type": obj.resource_type, "id": str(obj.resource_id) if obj.resource_id else None}

    def get_error(self, obj: Action) -> dict[str, str] | None:
        if obj.status != choices.ActionStatus.ERROR:
            return None
        return {"code": obj.error_code, "message": obj.error_message}


class ServerPrivateNetworkSerializer(serializers.Serializer):
    network_id = serializers.UUIDField()
    ip = serializers.CharField(help_text=_("The server's address on that network."))


class ServerFloatingIpSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    address = serializers.CharField()


class InstanceOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    # Filled by the apps around a server (apps.instances.selectors.server_extras), like Hetzner's server object.
    volumes = serializers.SerializerMethodField(help_text=_("Ids of the volumes attached to this server."))
    private_networks = serializers.SerializerMethodField(
        help_text=_("The private networks this server is on, with its address there.")
    )
    firewalls = serializers.SerializerMethodField(help_text=_("Ids of the firewalls applied to this server."))
    floating_ips = serializers.SerializerMethodField(help_text=_("The floating IPs assigned to this server."))
    organisation_id = serializers.IntegerField(read_only=True)
    project_id = serializers.IntegerField(read_only=True)
    offer = serializers.CharField(source="offer.code", read_only=True)
    datacentre = serializers.CharField(source="datacentre.code", read_only=True)
    image = serializers.CharField(source="image.slug", read_only=True)
    gpus = serializers.SerializerMethodField()
    error_message = serializers.CharField(read_only=True)

    class Meta:
        model = Instance
        fields = [
            "id",
            "name",
            "organisation_id",
            "project_id",
            "status",
            "power_state",
            "offer",
            "datacentre",
            "image",
            "ipv4",
            "ipv6",
            "gpus",
            "labels",
            "delete_protection",
            "price_hourly",
            "price_monthly",
            "error_message",
            "created_at",
            "updated_at",
            "volumes",
            "private_networks",
            "firewalls",
            "floating_ips",
        ]

    def get_gpus(self, obj: Instance) -> int:
        return len(obj.gpu_mappings or [])

    def to_representation(self, instance: Instance) -> dict[str, Any]:
        self._extras = server_extras([instance.pk])
        return super().to_representation(instance)

    def _extra(self, field: str, obj: Instance) -> list[Any]:
        return list(self._extras[field].get(obj.pk, []))

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_volumes(self, obj: Instance) -> list[Any]:
        return self._extra("volumes", obj)

    @extend_schema_field(ServerPrivateNetworkSerializer(many=True))
    def get_private_networks(self, obj: Instance) -> list[Any]:
        return self._extra("private_networks", obj)

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_firewalls(self, obj: Instance) -> list[Any]:
        return self._extra("firewalls", obj)

    @extend_schema_field(ServerFloatingIpSerializer(many=True))
    def get_floating_ips(self, obj: Instance) -> list[Any]:
        return self._extra("floating_ips", obj)


class InstanceUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=63)
    labels = LabelsField(required=False)
    delete_protection = serializers.BooleanField(required=False)


class InstanceResizeInputSerializer(serializers.Serializer):
    offer = serializers.CharField(help_text="Code of the larger offer, e.g. GPU-A100-L.")


class InstanceRebuildInputSerializer(serializers.Serializer):
    image = serializers.CharField(help_text="Slug of the OS image, e.g. ubuntu-24.04.")


class PasswordResetOutputSerializer(serializers.Serializer):
    action = ActionOutputSerializer()
    password = serializers.CharField(help_text="Shown once; never stored.")


class SnapshotOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Snapshot
        fields = ["id", "name", "status", "size_gb", "scheduled", "labels", "created_at"]


class SnapshotCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    labels = LabelsField(required=False)


class SnapshotUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=100)
    labels = LabelsField(required=False)


class SnapshotCreateOutputSerializer(serializers.Serializer):
    snapshot = SnapshotOutputSerializer()
    action = ActionOutputSerializer()


class SnapshotScheduleOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = SnapshotSchedule
        fields = ["frequency", "hour", "weekday", "retention", "enabled", "created_at", "updated_at"]


class SnapshotScheduleInputSerializer(serializers.Serializer):
    frequency = serializers.ChoiceField(choices=choices.ScheduleFrequency.choices)
    hour = serializers.IntegerField(min_value=0, max_value=23, default=3, help_text="Hour of the day, UTC.")
    weekday = serializers.IntegerField(
        min_value=0, max_value=6, default=0, help_text="Weekly schedules: 0 = Sunday … 6 = Saturday. Ignored daily."
    )
    retention = serializers.IntegerField(
        min_value=1, max_value=30, default=7, help_text="Scheduled snapshots kept; older ones are deleted."
    )
    enabled = serializers.BooleanField(default=True)


class SshKeyOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = SshKey
        fields = [
            "id",
            "organisation_id",
            "name",
            "public_key",
            "key_type",
            "bits",
            "fingerprint",
            "labels",
            "created_at",
        ]


class SshKeyCreateInputSerializer(serializers.Serializer):
    organisation_id = IdField()
    name = serializers.CharField(max_length=100)
    public_key = serializers.CharField(max_length=16384)
    labels = LabelsField(required=False)


class SshKeyUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    labels = LabelsField(required=False)


# -- list queries (apps.core.api.queries: unknown parameters are a 400) ----------------------------
class InstanceListQuerySerializer(ListQuerySerializer):
    lookups = {
        "status": "status__in",
        "organisation": "organisation_id",
        "project": "project_id",
        "datacentre": "datacentre__code",
        "offer": "offer__code",
        "image": "image__slug",
        "name": "name",
    }
    sort_fields = {"name": "name", "status": "status", "created_at": "created_at", "updated_at": "updated_at"}
    label_field = "labels"

    status = multiple_choice(
        choices.InstanceStatus.choices,
        help_text=_("Only instances in this status; repeat for several (deleted instances are never listed)."),
    )
    organisation = IdField(required=False, help_text=_("Only this organisation's instances."))
    project = IdField(required=False, help_text=_("Only this project's instances."))
    datacentre = serializers.CharField(required=False, max_length=32, help_text=_("Datacentre code, e.g. PAR-1."))
    offer = serializers.CharField(required=False, max_length=64, help_text=_("Offer code, e.g. VPS-NANO."))
    image = serializers.CharField(required=False, max_length=64, help_text=_("Image slug, e.g. ubuntu-24.04."))
    name = serializers.CharField(required=False, max_length=63, help_text=_("Exact name."))


class SnapshotListQuerySerializer(ListQuerySerializer):
    lookups = {"status": "status__in", "name": "name", "scheduled": "scheduled"}
    sort_fields = {"name": "name", "created_at": "created_at", "size_gb": "size_gb"}
    label_field = "labels"

    status = multiple_choice(
        choices.SnapshotStatus.choices,
        help_text=_("Only snapshots in this status; repeat for several (deleted snapshots are never listed)."),
    )
    name = serializers.CharField(required=False, max_length=100, help_text=_("Exact name."))
    scheduled = serializers.BooleanField(required=False, help_text=_("Taken by the schedule (true) or by hand."))


class SshKeyListQuerySerializer(ListQuerySerializer):
    # ``organisation_id`` is resolved by the view (404 for an organisation you cannot see).
    lookups = {"name": "name", "fingerprint": "fingerprint"}
    sort_fields = {"name": "name", "created_at": "created_at"}
    label_field = "labels"

    organisation_id = IdField(required=False, help_text=_("Only this organisation's keys."))
    name = serializers.CharField(required=False, max_length=100, help_text=_("Exact name."))
    fingerprint = serializers.CharField(required=False, max_length=64, help_text=_("SHA256 fingerprint."))


class ActionListQuerySerializer(ListQuerySerializer):
    lookups = {
        "status": "status__in",
        "type": "type__in",
        "organisation": "organisation_id",
        "resource_id": "resource_id",
        "resource_type": "resource_type",
        "started_after": "started_at__gte",
        "started_before": "started_at__lt",
    }
    sort_fields = {
        "created_at": "created_at",
        "started_at": "started_at",
        "finished_at": "finished_at",
        "status": "status",
        "type": "type",
    }

    status = multiple_choice(choices.ActionStatus.choices, help_text=_("Only actions in this status."))
    type = multiple_choice(choices.ActionType.choices, help_text=_("Only actions of this type (command)."))
    organisation = IdField(required=False, help_text=_("Only this organisation's actions."))
    resource_type = serializers.ChoiceField(
        choices=[*choices.ActionResource.choices, ("instance", _("Instance (the same as server)"))],
        required=False,
        help_text=_("Only actions on this kind of resource."),
    )
    resource_id = serializers.UUIDField(required=False, help_text=_("Only actions on this resource."))
    started_after = serializers.DateTimeField(required=False, help_text=_("Started at or after (ISO 8601)."))
    started_before = serializers.DateTimeField(required=False, help_text=_("Started before (ISO 8601)."))

    def validate_resource_type(self, value: str) -> str:
        # "instance" was the only value before volumes and networks had actions; it still works.
        return choices.ActionResource.SERVER if value == "instance" else value


class MetricPointOutputSerializer(serializers.Serializer):
    time = serializers.IntegerField()
    cpu = serializers.FloatField(allow_null=True)
    mem = serializers.FloatField(allow_null=True)
    maxmem = serializers.FloatField(allow_null=True)
    disk = serializers.FloatField(allow_null=True)
    netin = serializers.FloatField(allow_null=True)
    netout = serializers.FloatField(allow_null=True)
    diskread = serializers.FloatField(allow_null=True)
    diskwrite = serializers.FloatField(allow_null=True)


class MetricsQuerySerializer(serializers.Serializer):
    timeframe = serializers.ChoiceField(choices=list(METRIC_TIMEFRAMES), default="hour", help_text=_("Default hour."))


class MetricsOutputSerializer(serializers.Serializer):
    timeframe = serializers.CharField()
    points = MetricPointOutputSerializer(many=True)


class ConsoleTicketOutputSerializer(serializers.Serializer):
    """A single-use browser console ticket: the proxy URL to open with noVNC, and when it expires."""

    id = serializers.UUIDField(source="session.public_id", help_text="Console session id (in the audit log).")
    url = serializers.CharField(help_text="WebSocket URL of VMCloud's console proxy, with the one-time ticket.")
    expires_at = serializers.DateTimeField(help_text="Connect before this time; the ticket works once.")
