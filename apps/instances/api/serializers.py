"""Serializers of the instances API: one input and one output serializer per shape, uniquely named."""

from __future__ import annotations

from rest_framework import serializers

from apps.instances import choices
from apps.instances.models import Action, Instance, Snapshot, SnapshotSchedule, SshKey


class ActionOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    instance_id = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = ["id", "instance_id", "type", "status", "progress", "created_at", "started_at", "finished_at", "error"]

    def get_instance_id(self, obj: Action) -> str | None:
        return str(obj.instance.public_id) if obj.instance_id and obj.instance else None

    def get_error(self, obj: Action) -> dict[str, str] | None:
        if obj.status != choices.ActionStatus.ERROR:
            return None
        return {"code": obj.error_code, "message": obj.error_message}


class InstanceOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
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
        ]

    def get_gpus(self, obj: Instance) -> int:
        return len(obj.gpu_mappings or [])


class InstanceUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=63)
    labels = serializers.DictField(child=serializers.CharField(max_length=63, allow_blank=True), required=False)
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
        fields = ["id", "name", "status", "size_gb", "scheduled", "created_at"]


class SnapshotCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)


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
        fields = ["id", "organisation_id", "name", "public_key", "key_type", "bits", "fingerprint", "created_at"]


class SshKeyCreateInputSerializer(serializers.Serializer):
    organisation_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    name = serializers.CharField(max_length=100)
    public_key = serializers.CharField(max_length=16384)


class SshKeyUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


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


class MetricsOutputSerializer(serializers.Serializer):
    timeframe = serializers.CharField()
    points = MetricPointOutputSerializer(many=True)


class ConsoleTicketOutputSerializer(serializers.Serializer):
    """A single-use browser console ticket: the proxy URL to open with noVNC, and when it expires."""

    id = serializers.UUIDField(source="session.public_id", help_text="Console session id (in the audit log).")
    url = serializers.CharField(help_text="WebSocket URL of VMCloud's console proxy, with the one-time ticket.")
    expires_at = serializers.DateTimeField(help_text="Connect before this time; the ticket works once.")
