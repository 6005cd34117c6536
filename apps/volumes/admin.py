"""Back office for volumes: read-mostly; writes go through the services (docs/dev/style.md#app-shape)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.core.admin_audit import AuditedModelAdmin
from apps.volumes.models import Volume, VolumeQuota


@admin.register(Volume)
class VolumeAdmin(AuditedModelAdmin):
    """Volumes per organisation and per cluster (list filters), with where Proxmox keeps each one."""

    list_display = [
        "name",
        "organisation",
        "project",
        "tier",
        "size_gb",
        "status",
        "server",
        "datacentre",
        "cluster",
        "storage",
        "holder_vmid",
        "volid",
    ]
    list_filter = ["status", "tier", "datacentre", "cluster", "organisation", "delete_protection"]
    search_fields = ["name", "volid", "organisation__name", "organisation__slug", "server__name", "public_id"]
    list_select_related = ["organisation", "project", "tier", "server", "datacentre", "cluster", "cluster_storage"]

    @admin.display(description=_("holder VMID"), ordering="cluster_storage__holder_vmid")
    def holder_vmid(self, obj: Volume) -> int | None:
        """The VMID that owns the volume on its storage (docs/dev/proxmox-behaviour.md#volume-keeping)."""
        return obj.cluster_storage.holder_vmid if obj.cluster_storage else None

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
        "recent_actions",
    ]

    @admin.display(description=_("actions"))
    def recent_actions(self, obj: Volume) -> str:
        """The volume's last actions (shared Action table) and a link to all of them."""
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:instances_action_change", args=[a.pk]),
                    a.get_type_display(),
                    a.get_status_display(),
                    a.created_at,
                    a.error_code,
                    a.error_message,
                )
                for a in obj.actions[:10]
            ),
        )
        link = reverse("admin:instances_action_changelist") + f"?resource_id={obj.public_id}"
        return format_html(
            '<table><tbody>{}</tbody></table><p><a href="{}">{}</a></p>', rows, link, _("All actions of this volume")
        )

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
