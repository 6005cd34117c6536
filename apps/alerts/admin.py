"""Back office of alerts: policies (staff may disable a noisy one, audited), incidents and notices (read-only).

Customers create and change policies through the services (API, portal); staff only look, and
switch a policy off, so the admin adds nothing and edits ``enabled`` alone.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.alerts.models import AlertIncident, AlertNotice, AlertPolicy
from apps.core.admin_audit import AuditedModelAdmin


@admin.register(AlertPolicy)
class AlertPolicyAdmin(AuditedModelAdmin):
    list_display = ("name", "organisation", "metric", "comparison", "threshold", "duration_minutes", "enabled")
    list_filter = ("metric", "enabled")
    search_fields = ("name", "organisation__name", "organisation__slug", "label_selector")
    list_select_related = ("organisation",)
    readonly_fields = (
        "public_id",
        "organisation",
        "project",
        "name",
        "labels",
        "metric",
        "instance",
        "label_selector",
        "comparison",
        "threshold",
        "duration_minutes",
        "email_members",
        "emails",
        "portal_notice",
        "webhook_url",
        "created_by",
        "created_at",
        "updated_at",
    )
    fields = ("enabled", *readonly_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AlertIncident)
class AlertIncidentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("policy", "instance", "opened_at", "resolved_at", "peak_value", "webhook_status")
    list_filter = ("resolved_at",)
    search_fields = ("policy__name", "instance__name", "policy__organisation__name")
    list_select_related = ("policy", "instance")
    date_hierarchy = "opened_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AlertNotice)
class AlertNoticeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("message", "organisation", "event", "created_at", "dismissed_at")
    list_filter = ("event",)
    search_fields = ("message", "organisation__name")
    list_select_related = ("organisation",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
