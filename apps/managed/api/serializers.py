"""Serializers of the managed services API: one input and one output serializer per shape, uniquely named."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import IdField, LabelsField
from apps.core.api.queries import ListQuerySerializer, multiple_choice
from apps.managed import choices
from apps.managed.models import ManagedService, ServiceTransition


class ServiceCredentialOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    revealed_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When it was shown to the customer (once); null: not yet.")
    )


class ServiceEndpointsOutputSerializer(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField(), required=False)
    hostnames = serializers.ListField(child=serializers.CharField(), required=False)


class ServiceOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    project_id = serializers.IntegerField(read_only=True)
    family = serializers.ChoiceField(choices=choices.ServiceFamily.choices, read_only=True)
    state = serializers.ChoiceField(choices=choices.ServiceState.choices, read_only=True)
    tier = serializers.CharField(source="offer.code", read_only=True)
    datacentre = serializers.SerializerMethodField()
    endpoints = serializers.SerializerMethodField()
    credentials = serializers.SerializerMethodField()
    price_hourly = serializers.DecimalField(max_digits=12, decimal_places=6, read_only=True)
    price_monthly = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = ManagedService
        fields = [
            "id",
            "organisation_id",
            "project_id",
            "family",
            "tier",
            "datacentre",
            "name",
            "labels",
            "state",
            "state_reason",
            "config",
            "endpoints",
            "delivery_notes",
            "credentials",
            "delete_protection",
            "price_hourly",
            "price_monthly",
            "activated_at",
            "ended_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_datacentre(self, obj: ManagedService) -> str | None:
        return obj.datacentre.code if obj.datacentre_id and obj.datacentre else None

    @extend_schema_field(ServiceEndpointsOutputSerializer)
    def get_endpoints(self, obj: ManagedService) -> dict[str, Any]:
        endpoints = obj.endpoints or {}
        return {"urls": list(endpoints.get("urls") or []), "hostnames": list(endpoints.get("hostnames") or [])}

    @extend_schema_field(ServiceCredentialOutputSerializer(many=True))
    def get_credentials(self, obj: ManagedService) -> list[dict[str, Any]]:
        """Names of the delivered credentials (values only through ``reveal_credentials``, once)."""
        rows = getattr(obj, "credential_rows", None)
        if rows is None:
            rows = list(obj.secrets.filter(kind=choices.SecretKind.CREDENTIAL).order_by("name"))
        return [{"name": r.name, "revealed_at": r.revealed_at} for r in rows]


class ServiceUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=63)
    labels = LabelsField(required=False)
    delete_protection = serializers.BooleanField(required=False)


class ServiceCancelInputSerializer(serializers.Serializer):
    confirm = serializers.CharField(
        max_length=63, help_text=_("The service's name, typed again: the cancellation cannot be undone.")
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ServiceChangeTierInputSerializer(serializers.Serializer):
    tier = serializers.CharField(max_length=40, help_text=_("Offer code of another tier of the same family."))


class ServiceCredentialsOutputSerializer(serializers.Serializer):
    credentials = serializers.DictField(
        child=serializers.CharField(),
        help_text=_("Name → value, in clear. Shown once: a second request answers 409."),
    )


class ServiceTransitionOutputSerializer(serializers.ModelSerializer):
    from_state = serializers.CharField()
    to_state = serializers.ChoiceField(choices=choices.ServiceState.choices)
    by = serializers.CharField(source="actor_label")
    at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = ServiceTransition
        fields = ["from_state", "to_state", "by", "reason", "at"]
        read_only_fields = fields


class ServiceListQuerySerializer(ListQuerySerializer):
    lookups = {
        "family": "family__in",
        "state": "state__in",
        "organisation": "organisation_id",
        "project": "project_id",
        "tier": "offer__code",
        "name": "name",
    }
    sort_fields = {"name": "name", "created_at": "created_at", "state": "state", "family": "family"}
    label_field = "labels"

    family = multiple_choice(choices.ServiceFamily.choices, help_text=_("Only services of this family."))
    state = multiple_choice(choices.ServiceState.choices, help_text=_("Only services in this state."))
    organisation = IdField(required=False, help_text=_("Only this organisation's services."))
    project = IdField(required=False, help_text=_("Only this project's services."))
    tier = serializers.CharField(required=False, max_length=40, help_text=_("Tier (offer) code."))
    name = serializers.CharField(required=False, max_length=63, help_text=_("Exact name."))
