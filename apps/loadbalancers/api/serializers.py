"""Serializers of the load balancer API (under a service): one input and one output serializer per shape."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.loadbalancers.models import LoadBalancer, TlsModeChoice


class LbRuleSerializer(serializers.Serializer):
    protocol = serializers.CharField(
        help_text=_("HTTP, HTTPS, TCP, UDP, WebSocket, gRPC or HTTP/3, as the tier allows.")
    )
    port = serializers.IntegerField()
    target_protocol = serializers.CharField()
    target_port = serializers.IntegerField()


class LbTargetSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["server", "label_selector"])
    id = serializers.CharField(required=False, help_text=_("A server id (kind server)."))
    label_selector = serializers.CharField(required=False, help_text=_("e.g. role=web (kind label_selector)."))


class LbHealthCheckSerializer(serializers.Serializer):
    protocol = serializers.ChoiceField(choices=["tcp", "http", "https"], required=False)
    port = serializers.IntegerField(required=False, allow_null=True)
    path = serializers.CharField(required=False)
    host = serializers.CharField(required=False, allow_blank=True)
    interval_seconds = serializers.IntegerField(required=False)
    timeout_seconds = serializers.IntegerField(required=False)
    rise = serializers.IntegerField(required=False)
    fall = serializers.IntegerField(required=False)


class LbStickySerializer(serializers.Serializer):
    cookie_name = serializers.CharField(required=False)
    ttl_seconds = serializers.IntegerField(required=False)


class LbCertificateOutputSerializer(serializers.Serializer):
    names = serializers.ListField(child=serializers.CharField())
    not_after = serializers.DateTimeField(help_text=_("When it expires."))
    fingerprint_sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()


class LbAppliedTargetOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text=_("The server's id."))
    name = serializers.CharField()
    address = serializers.CharField()
    health = serializers.ChoiceField(
        choices=["up", "down", "maint", "unknown"], help_text=_("As HAProxy last reported it; unknown otherwise.")
    )


class LoadBalancerOutputSerializer(serializers.Serializer):
    service_id = serializers.UUIDField(source="service.public_id")
    datacentre = serializers.CharField(source="datacentre.code")
    rules = LbRuleSerializer(many=True)
    targets = LbTargetSerializer(many=True)
    health_check = LbHealthCheckSerializer()
    sticky_sessions = LbStickySerializer(allow_null=True)
    redirect_http_to_https = serializers.BooleanField()
    tls_mode = serializers.ChoiceField(choices=TlsModeChoice.choices)
    proxy_protocol = serializers.BooleanField()
    certificate = LbCertificateOutputSerializer(allow_null=True)
    config_generation = serializers.IntegerField()
    applied_generation = serializers.IntegerField()
    applied_at = serializers.DateTimeField(allow_null=True)
    apply_status = serializers.SerializerMethodField(
        help_text=_(
            "applied: the VM runs the newest configuration; pending: it is being applied; failed: the last "
            "apply failed (apply_error_code says why) and the VM still runs the one before."
        )
    )
    apply_error_code = serializers.SerializerMethodField(
        help_text=_(
            "Why the last apply failed (invalid, haproxy_inactive, private_card_missing, proxmox, vm_error, …); "
            "empty otherwise. Staff see the details in the back office."
        )
    )
    applied_targets = serializers.SerializerMethodField()
    health_read_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=["applied", "pending", "failed"]))
    def get_apply_status(self, obj: LoadBalancer) -> str:
        if obj.applied_generation >= obj.config_generation:
            return "applied"
        return "failed" if obj.apply_error else "pending"

    @extend_schema_field(serializers.CharField())
    def get_apply_error_code(self, obj: LoadBalancer) -> str:
        # Only the code: the message can carry Proxmox's or the VM's own text, which is for staff.
        if self.get_apply_status(obj) != "failed":
            return ""
        return obj.apply_error.split(":", 1)[0].strip()[:40]

    @extend_schema_field(LbAppliedTargetOutputSerializer(many=True))
    def get_applied_targets(self, obj: LoadBalancer) -> list[dict[str, Any]]:
        health = obj.target_health or {}
        return [{**t, "health": health.get(t["id"], "unknown")} for t in obj.applied_targets or []]


class LbRulesInputSerializer(serializers.Serializer):
    rules = serializers.ListField(child=serializers.DictField(), max_length=64)


class LbTargetsInputSerializer(serializers.Serializer):
    targets = serializers.ListField(child=serializers.DictField(), max_length=1000)


class LbCertificateInputSerializer(serializers.Serializer):
    certificate = serializers.CharField(max_length=65536, trim_whitespace=False)
    chain = serializers.CharField(max_length=65536, allow_blank=True, required=False, default="", trim_whitespace=False)
    private_key = serializers.CharField(max_length=65536, trim_whitespace=False)


class LbSettingsInputSerializer(serializers.Serializer):
    sticky_sessions = serializers.DictField(required=False, allow_null=True)
    redirect_http_to_https = serializers.BooleanField(required=False)
    proxy_protocol = serializers.BooleanField(required=False)
    tls_mode = serializers.ChoiceField(choices=TlsModeChoice.choices, required=False)
