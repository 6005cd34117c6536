"""Serializers of the firewalls API: one input and one output serializer per shape, uniquely named.

Rules are passed through to ``apps.firewalls.rules.rules_clean`` unvalidated here, so that a bad rule
answers 400 with the exact field in error (``rules[3].port``); ``FirewallRuleSerializer`` documents
their shape in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import IdField, LabelsField
from apps.core.api.queries import ListQuerySerializer, multiple_choice
from apps.firewalls import choices, rules, selectors
from apps.firewalls.models import Firewall, FirewallServer
from apps.instances.api.serializers import ActionOutputSerializer


class FirewallRuleSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=choices.Direction.choices)
    protocol = serializers.ChoiceField(choices=choices.Protocol.choices)
    port = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=11,
        help_text=_("tcp and udp only: a port (`80`) or a range (`80-85`), 1 to 65535; left out means every port."),
    )
    source_ips = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        max_length=rules.MAX_IPS_PER_RULE,
        help_text=_("Inbound rules: IPv4/IPv6 addresses or CIDRs the traffic may come from (`0.0.0.0/0`, `::/0`)."),
    )
    destination_ips = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        max_length=rules.MAX_IPS_PER_RULE,
        help_text=_("Outbound rules: IPv4/IPv6 addresses or CIDRs the traffic may go to."),
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=rules.MAX_DESCRIPTION)


@extend_schema_field(FirewallRuleSerializer(many=True))
class RulesField(serializers.Field):
    """The rules as sent (a list), checked in full by the service."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, list):
            raise serializers.ValidationError(_("A list of rules."))
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ServerRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()


class LabelSelectorRefSerializer(serializers.Serializer):
    selector = serializers.CharField(max_length=2000)


class ApplyToInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=choices.ApplyToType.choices)
    server = ServerRefSerializer(required=False, help_text=_("With type `server`."))
    label_selector = LabelSelectorRefSerializer(required=False, help_text=_("With type `label_selector`."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["type"]
        if kind == choices.ApplyToType.SERVER and "server" not in attrs:
            raise serializers.ValidationError({"server": [_("Required with type server.")]})
        if kind == choices.ApplyToType.LABEL_SELECTOR and "label_selector" not in attrs:
            raise serializers.ValidationError({"label_selector": [_("Required with type label_selector.")]})
        return attrs


class AppliedServerSerializer(serializers.Serializer):
    type = serializers.CharField()
    server = ServerRefSerializer()
    status = serializers.ChoiceField(choices=choices.MemberStatus.choices)


class AppliedToSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=choices.ApplyToType.choices)
    server = ServerRefSerializer(required=False)
    label_selector = LabelSelectorRefSerializer(required=False)
    applied_to_resources = AppliedServerSerializer(many=True, required=False)
    status = serializers.ChoiceField(choices=choices.MemberStatus.choices, required=False)


class FirewallOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    project_id = serializers.IntegerField(read_only=True)
    rules = RulesField(read_only=True)
    applied_to = serializers.SerializerMethodField()
    applied = serializers.SerializerMethodField(
        help_text=_("True once the current rules are written on every server it applies to; false while applying.")
    )

    class Meta:
        model = Firewall
        fields = [
            "id",
            "organisation_id",
            "project_id",
            "name",
            "labels",
            "rules",
            "applied_to",
            "applied",
            "status",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(AppliedToSerializer(many=True))
    def get_applied_to(self, obj: Firewall) -> list[dict[str, Any]]:
        members: list[FirewallServer] = list(obj.members.all())
        out: list[dict[str, Any]] = []
        for m in members:
            if m.direct:
                out.append({"type": "server", "server": {"id": str(m.instance.public_id)}, "status": m.status})
        for selector in obj.label_selectors:
            out.append(
                {
                    "type": "label_selector",
                    "label_selector": {"selector": selector},
                    "applied_to_resources": [
                        {"type": "server", "server": {"id": str(m.instance.public_id)}, "status": m.status}
                        for m in members
                        if m.selected
                    ],
                }
            )
        return out

    def get_applied(self, obj: Firewall) -> bool:
        return selectors.firewall_is_applied(obj)


class FirewallCreateOutputSerializer(serializers.Serializer):
    firewall = FirewallOutputSerializer()
    actions = ActionOutputSerializer(many=True)


class FirewallCreateInputSerializer(serializers.Serializer):
    organisation_id = IdField(help_text=_("The organisation that owns the firewall."))
    project_id = IdField(required=False, help_text=_("Its project; the organisation's default project if left out."))
    name = serializers.CharField(max_length=63)
    labels = LabelsField(required=False)
    rules = RulesField(required=False, help_text=_("At most 50 rules (your organisation's quota may say fewer)."))
    apply_to = serializers.ListField(child=ApplyToInputSerializer(), required=False, max_length=100)


class FirewallUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=63)
    labels = LabelsField(required=False)


class FirewallSetRulesInputSerializer(serializers.Serializer):
    rules = RulesField(help_text=_("Every rule of the firewall (replaced whole); an empty list allows nothing in."))


class FirewallApplyInputSerializer(serializers.Serializer):
    apply_to = serializers.ListField(child=ApplyToInputSerializer(), max_length=100)


class FirewallRemoveInputSerializer(serializers.Serializer):
    remove_from = serializers.ListField(child=ApplyToInputSerializer(), max_length=100)


class FirewallListQuerySerializer(ListQuerySerializer):
    lookups = {
        "status": "status__in",
        "organisation": "organisation_id",
        "project": "project_id",
        "name": "name",
    }
    sort_fields = {"name": "name", "created_at": "created_at"}
    label_field = "labels"

    status = multiple_choice(
        [c for c in choices.FirewallStatus.choices if c[0] != "deleted"], help_text=_("Only firewalls in this status.")
    )
    organisation = IdField(required=False, help_text=_("Only this organisation's firewalls."))
    project = IdField(required=False, help_text=_("Only this project's firewalls."))
    name = serializers.CharField(required=False, max_length=63, help_text=_("Exact name."))
