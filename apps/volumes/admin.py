"""Back office for volumes: read-mostly; writes go through the services (docs/dev/style.md#app-shape)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.core.admin_audit import AuditedModelAdmin
from apps.volumes.models import Volume, VolumeAction, VolumeQuota


class VolumeActionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = VolumeAction
    extra = 0
    can_delete = False
    fields = ("type", "status", "progress", "created_at", "finished_at", "error_code", "error_message")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Volume)
class VolumeAdmin(AuditedModelAdmin):
    list_display = ["name", "organisation", "tier", "size_gb", "status", "server", "cluster", "storage", "volid"]
    list_filter = ["status", "tier", "datacentre", "cluster"]
    search_fields = ["name", "volid", "organisation__name", "public_id"]
    list_select_related = ["organisation", "tier", "server", "cluster"]
    readonly_fields = [
        "public_id",
        "organisation",
        "project",
        "name",
        "labels",
        "tier",
        "size_gb",
        "datacentre",
        "server",
        "status",
        "delete_protection",
        "error_message",
        "cluster_storage",
        "cluster",
        "node_name",
        "storage",
        "volid",
        "slot",
        "current_upid",
        "price_hourly",
        "price_monthly",
        "created_by",
        "created_at",
        "deleted_at",
    ]
    inlines = [VolumeActionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(VolumeQuota)
class VolumeQuotaAdmin(AuditedModelAdmin):
    """Staff raise or lower an organisation's volume limits; blank means ``VOLUMES_DEFAULT_QUOTAS``."""

    list_display = ["organisation", "max_volumes", "max_total_gb", "notes"]
    search_fields = ("organisation__name", "organisation__slug")
    autocomplete_fields = ("organisation",)
