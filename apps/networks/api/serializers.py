"""Serializers of the networks API: one input and one output serializer per shape, uniquely named."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import IdField, LabelsField
from apps.core.api.queries import ListQuerySerializer, multiple_choice
from apps.instances.api.serializers import ActionOutputSerializer
from apps.networks import choices, rules
from apps.networks.models import Attachment, Network, Subnet


class SubnetOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    capacity = serializers.SerializerMethodField(help_text=_("How many servers the subnet holds."))

    class Meta:
        model = Subnet
        fields = ["id", "cidr", "capacity", "created_at"]

    def get_capacity(self, obj: Subnet) -> int:
        return rules.capacity(obj.block)


class NetworkAttachmentOutputSerializer(serializers.ModelSerializer):
    server_id = serializers.SerializerMethodField()
    server_name = serializers.CharField(read_only=True)
    subnet = serializers.CharField(source="subnet.cidr", read_only=True)
    interface = serializers.SerializerMethodField(help_text=_("The VM's card, e.g. net1 (eth1 in most guests)."))

    class Meta:
        model = Attachment
        fields = [
            "server_id",
            "server_name",
            "address",
            "subnet",
            "interface",
            "status",
            "needs_reboot",
            "attached_at",
        ]

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_server_id(self, obj: Attachment) -> str | None:
        return str(obj.instance.public_id) if obj.instance_id and obj.instance else None

    def get_interface(self, obj: Attachment) -> str:
        return f"net{obj.nic_index}"


class NetworkOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    project_id = serializers.IntegerField(read_only=True)
    datacentre = serializers.CharField(source="datacentre.code", read_only=True)
    subnets = SubnetOutputSerializer(many=True, read_only=True)
    servers = serializers.SerializerMethodField(help_text=_("Servers on the network, with their addresses."))

    class Meta:
        model = Network
        fields = [
            "id",
            "organisation_id",
            "project_id",
            "name",
            "labels",
            "datacentre",
            "ip_range",
            "subnets",
            "servers",
            "status",
            "error_message",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(NetworkAttachmentOutputSerializer(many=True))
    def get_servers(self, obj: Network) -> list[dict[str, Any]]:
        rows = getattr(obj, "live_attachments", None)
        if rows is None:
            rows = list(
                obj.attachments.filter(status__in=choices.LIVE_ATTACHMENT_STATUSES).select_related("instance", "subnet")
            )
        return NetworkAttachmentOutputSerializer(rows, many=True).data  # type: ignore[return-value]


class NetworkCreateOutputSerializer(serializers.Serializer):
    """What a create answers (201), like the other resources' creates: the network and its ``create`` Action."""

    network = NetworkOutputSerializer()
    action = ActionOutputSerializer(help_text=_("The create action: the network is usable once it succeeded."))


class NetworkCreateInputSerializer(serializers.Serializer):
    organisation_id = IdField(help_text=_("The organisation that owns the network."))
    project_id = IdField(required=False, help_text=_("Its project; the organisation's default project if left out."))
    name = serializers.CharField(max_length=63)
    datacentre = serializers.CharField(max_length=32, help_text=_("Datacentre code, e.g. PAR-1."))
    ip_range = serializers.CharField(
        max_length=18, help_text=_("A private (RFC 1918) IPv4 range from /8 to /24, e.g. 10.0.0.0/16.")
    )
    subnets = serializers.ListField(
        child=serializers.CharField(max_length=18),
        required=False,
        max_length=10,
        help_text=_("Subnets inside the range (/16 to /29); the range itself (or its first /16) if left out."),
    )
    labels = LabelsField(required=False)


class NetworkUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=63)
    labels = LabelsField(required=False)


class SubnetCreateInputSerializer(serializers.Serializer):
    cidr = serializers.CharField(max_length=18, help_text=_("A block inside the network's range, e.g. 10.0.2.0/24."))


class NetworkAttachInputSerializer(serializers.Serializer):
    server_id = serializers.UUIDField(
        help_text=_("A running or stopped server of the network's project and datacentre.")
    )
    ip = serializers.IPAddressField(
        protocol="IPv4",
        required=False,
        help_text=_("The address to give it (must be free); the next free one if left out."),
    )


class NetworkDetachInputSerializer(serializers.Serializer):
    server_id = serializers.UUIDField(help_text=_("The server to take off the network."))


class NetworkListQuerySerializer(ListQuerySerializer):
    lookups = {
        "status": "status__in",
        "organisation": "organisation_id",
        "project": "project_id",
        "datacentre": "datacentre__code",
        "name": "name",
        "server": "attachments__instance__public_id",
    }
    sort_fields = {"name": "name", "created_at": "created_at", "status": "status"}
    label_field = "labels"

    status = multiple_choice(choices.NetworkStatus.choices, help_text=_("Only networks in this status."))
    organisation = IdField(required=False, help_text=_("Only this organisation's networks."))
    project = IdField(required=False, help_text=_("Only this project's networks."))
    datacentre = serializers.CharField(required=False, max_length=32, help_text=_("Datacentre code, e.g. PAR-1."))
    name = serializers.CharField(required=False, max_length=63, help_text=_("Exact name."))
    server = serializers.UUIDField(required=False, help_text=_("Only networks this server is (or was) on."))
