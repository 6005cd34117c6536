"""Serializers of the floating IPs API: one input and one output serializer per shape, uniquely named."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import IdField, LabelsField
from apps.core.api.queries import ListQuerySerializer, multiple_choice
from apps.floating_ips import choices
from apps.floating_ips.models import FloatingIp
from apps.instances.api.serializers import ActionOutputSerializer


class FloatingIpOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    project_id = serializers.IntegerField(read_only=True)
    datacentre = serializers.CharField(source="datacentre.code", read_only=True)
    type = serializers.SerializerMethodField()
    server_id = serializers.SerializerMethodField(
        help_text=_("The server it is assigned to (or being assigned to), as volumes name it.")
    )
    price_hourly = serializers.DecimalField(max_digits=12, decimal_places=6, read_only=True)
    price_monthly = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = FloatingIp
        fields = [
            "id",
            "organisation_id",
            "project_id",
            "name",
            "labels",
            "type",
            "address",
            "datacentre",
            "server_id",
            "status",
            "delete_protection",
            "error_message",
            "price_hourly",
            "price_monthly",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=["ipv4", "ipv6"]))
    def get_type(self, obj: FloatingIp) -> str:
        return "ipv4" if obj.family == 4 else "ipv6"

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_server_id(self, obj: FloatingIp) -> str | None:
        return str(obj.server.public_id) if obj.server_id and obj.server else None


class FloatingIpCreateOutputSerializer(serializers.Serializer):
    floating_ip = FloatingIpOutputSerializer()
    action = ActionOutputSerializer(
        allow_null=True, help_text=_("The assign action when a server was given, else null.")
    )


class FloatingIpCreateInputSerializer(serializers.Serializer):
    organisation_id = IdField(
        required=False, help_text=_("The organisation that owns it; the server's when left out with a server.")
    )
    project_id = IdField(
        required=False, help_text=_("Its project; the server's, else the organisation's default project.")
    )
    name = serializers.CharField(max_length=63)
    datacentre = serializers.CharField(
        required=False, max_length=32, help_text=_("Datacentre code, e.g. PAR-1; the server's when left out.")
    )
    server_id = serializers.UUIDField(required=False, help_text=_("Assign it to this server at once."))
    labels = LabelsField(required=False)
    delete_protection = serializers.BooleanField(required=False, default=False)


class FloatingIpUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=63)
    labels = LabelsField(required=False)
    delete_protection = serializers.BooleanField(required=False)


class FloatingIpAssignInputSerializer(serializers.Serializer):
    server_id = serializers.UUIDField(
        help_text=_("A running or stopped server of the floating IP's project and datacentre.")
    )


class FloatingIpListQuerySerializer(ListQuerySerializer):
    lookups = {
        "status": "status__in",
        "organisation": "organisation_id",
        "project": "project_id",
        "datacentre": "datacentre__code",
        "server": "server__public_id",
        "name": "name",
        "address": "address",
    }
    sort_fields = {"name": "name", "address": "address", "created_at": "created_at", "status": "status"}
    label_field = "labels"

    status = multiple_choice(choices.FloatingIpStatus.choices, help_text=_("Only floating IPs in this status."))
    organisation = IdField(required=False, help_text=_("Only this organisation's floating IPs."))
    project = IdField(required=False, help_text=_("Only this project's floating IPs."))
    datacentre = serializers.CharField(required=False, max_length=32, help_text=_("Datacentre code, e.g. PAR-1."))
    server = serializers.UUIDField(required=False, help_text=_("Only floating IPs assigned to this server."))
    name = serializers.CharField(required=False, max_length=63, help_text=_("Exact name."))
    address = serializers.IPAddressField(required=False, protocol="IPv4", help_text=_("Exact address."))
