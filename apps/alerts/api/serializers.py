"""Serializers of the alerts API: one input and one output serializer per shape, uniquely named."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.alerts import choices
from apps.alerts.models import AlertIncident, AlertPolicy
from apps.core.api.fields import IdField, LabelsField
from apps.core.api.queries import ListQuerySerializer, multiple_choice

THRESHOLD_HELP = _("% (0 to 100) for cpu, memory and disk; bytes per second for network_in and network_out.")


class AlertPolicyOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    project_id = serializers.IntegerField(read_only=True)
    server_id = serializers.SerializerMethodField()
    unit = serializers.CharField(read_only=True, help_text=_("The unit of the threshold: % or bytes/s."))
    threshold = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    labels = serializers.DictField(child=serializers.CharField(), read_only=True)
    emails = serializers.ListField(
        child=serializers.EmailField(), read_only=True, help_text=_("Also e-mail these addresses.")
    )

    class Meta:
        model = AlertPolicy
        fields = [
            "id",
            "organisation_id",
            "project_id",
            "name",
            "labels",
            "metric",
            "unit",
            "comparison",
            "threshold",
            "duration_minutes",
            "server_id",
            "label_selector",
            "email_members",
            "emails",
            "portal_notice",
            "webhook_url",
            "enabled",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_server_id(self, obj: AlertPolicy) -> str | None:
        return str(obj.instance.public_id) if obj.instance_id and obj.instance else None


class AlertPolicyCreateOutputSerializer(AlertPolicyOutputSerializer):
    """A create also answers the webhook signing secret, once."""

    webhook_secret = serializers.CharField(
        read_only=True, help_text=_("Signs the webhooks (X-VMCloud-Signature). Shown in this response only.")
    )

    class Meta(AlertPolicyOutputSerializer.Meta):
        fields = [*AlertPolicyOutputSerializer.Meta.fields, "webhook_secret"]


class AlertPolicyUpdateOutputSerializer(AlertPolicyOutputSerializer):
    """A change that gives the policy its first webhook URL also answers the new signing secret, once."""

    # Not read_only, so that the schema leaves it out of `required` (it is absent from every other answer);
    # this serializer only ever answers, it never reads a body.
    webhook_secret = serializers.CharField(
        required=False,
        help_text=_(
            "Signs the webhooks (X-VMCloud-Signature). Only when this change gave the policy its first "
            "webhook URL; shown in this response only."
        ),
    )

    class Meta(AlertPolicyOutputSerializer.Meta):
        fields = [*AlertPolicyOutputSerializer.Meta.fields, "webhook_secret"]

    def to_representation(self, instance: AlertPolicy) -> dict[str, object]:
        data = super().to_representation(instance)
        if not self.context.get("with_secret"):
            data.pop("webhook_secret", None)
        return data


class AlertPolicyCreateInputSerializer(serializers.Serializer):
    organisation_id = IdField(help_text=_("The organisation that owns the policy."))
    project_id = IdField(required=False, help_text=_("Its project; the organisation's default project if left out."))
    name = serializers.CharField(max_length=63)
    metric = serializers.ChoiceField(choices=choices.AlertMetric.choices)
    comparison = serializers.ChoiceField(choices=choices.AlertComparison.choices, help_text=_("gt: above; lt: below."))
    threshold = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, help_text=THRESHOLD_HELP)
    duration_minutes = serializers.ChoiceField(
        choices=choices.AlertDuration.choices, required=False, default=choices.AlertDuration.FIVE
    )
    server_id = serializers.UUIDField(required=False, help_text=_("Watch this server (or give label_selector)."))
    label_selector = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text=_("Watch the project's servers it matches.")
    )
    email_members = serializers.BooleanField(required=False, default=True)
    emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=10)
    portal_notice = serializers.BooleanField(required=False, default=True)
    webhook_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    labels = LabelsField(required=False)
    enabled = serializers.BooleanField(required=False, default=True)


class AlertPolicyUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=63)
    metric = serializers.ChoiceField(choices=choices.AlertMetric.choices, required=False)
    comparison = serializers.ChoiceField(choices=choices.AlertComparison.choices, required=False)
    threshold = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False, help_text=THRESHOLD_HELP
    )
    duration_minutes = serializers.ChoiceField(choices=choices.AlertDuration.choices, required=False)
    server_id = serializers.UUIDField(required=False, allow_null=True)
    label_selector = serializers.CharField(required=False, allow_blank=True, max_length=500)
    email_members = serializers.BooleanField(required=False)
    emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=10)
    portal_notice = serializers.BooleanField(required=False)
    webhook_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    labels = LabelsField(required=False)
    enabled = serializers.BooleanField(required=False)


class AlertIncidentOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    policy_id = serializers.UUIDField(source="policy.public_id", read_only=True)
    server_id = serializers.UUIDField(source="instance.public_id", read_only=True)
    server_name = serializers.CharField(source="instance.name", read_only=True)
    state = serializers.SerializerMethodField()
    value = serializers.DecimalField(max_digits=20, decimal_places=2, read_only=True)
    peak_value = serializers.DecimalField(max_digits=20, decimal_places=2, read_only=True)
    last_value = serializers.DecimalField(max_digits=20, decimal_places=2, read_only=True)

    class Meta:
        model = AlertIncident
        fields = [
            "id",
            "policy_id",
            "server_id",
            "server_name",
            "state",
            "opened_at",
            "resolved_at",
            "value",
            "peak_value",
            "last_value",
            "notified_at",
            "resolved_notified_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=["firing", "resolved"]))
    def get_state(self, obj: AlertIncident) -> str:
        return "firing" if obj.resolved_at is None else "resolved"


class AlertPolicyListQuerySerializer(ListQuerySerializer):
    lookups = {
        "organisation": "organisation_id",
        "project": "project_id",
        "metric": "metric__in",
        "enabled": "enabled",
        "server": "instance__public_id",
        "name": "name",
    }
    sort_fields = {"name": "name", "created_at": "created_at", "metric": "metric"}
    label_field = "labels"

    organisation = IdField(required=False, help_text=_("Only this organisation's policies."))
    project = IdField(required=False, help_text=_("Only this project's policies."))
    metric = multiple_choice(choices.AlertMetric.choices, help_text=_("Only policies on this metric."))
    enabled = serializers.BooleanField(required=False, help_text=_("Only enabled (true) or disabled (false) ones."))
    server = serializers.UUIDField(required=False, help_text=_("Only policies naming this server."))
    name = serializers.CharField(required=False, max_length=63, help_text=_("Exact name."))


class AlertIncidentListQuerySerializer(ListQuerySerializer):
    lookups = {"server": "instance__public_id"}
    sort_fields = {"opened_at": "opened_at"}

    server = serializers.UUIDField(required=False, help_text=_("Only incidents on this server."))
