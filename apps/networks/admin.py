"""Back office for private networks: SDN zones per cluster and quotas are staff-edited; networks are read-mostly
(writes go through the services; docs/dev/style.md#app-shape). Networks are listed per organisation (search,
filter) and per cluster (filter, and the count on each zone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.admin_audit import AuditedModelAdmin
from apps.networks import rules, services
from apps.networks.choices import LIVE_ATTACHMENT_STATUSES, NetworkStatus
from apps.networks.models import Attachment, Network, NetworkQuota, NetworkZone, Subnet


class NetworkZoneForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = NetworkZone
        fields = ["cluster", "name", "zone_type", "options", "tag_min", "tag_max", "enabled"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        zone_type, low, high = data.get("zone_type"), data.get("tag_min"), data.get("tag_max")
        if zone_type and low is not None and high is not None:
            first, last = rules.tag_bounds(zone_type)
            if not first <= low <= high <= last:
                raise forms.ValidationError(
                    _("Tags of a %(type)s zone are %(first)s to %(last)s, the first not above the last.")
                    % {"type": zone_type, "first": first, "last": last}
                )
        if not isinstance(data.get("options") or {}, dict):
            self.add_error("options", _("An object of option names and values."))
        return data


@admin.register(NetworkZone)
class NetworkZoneAdmin(AuditedModelAdmin):
    """One SDN zone per cluster holds its customer networks (apps/docs/content/networks.md, "Operators")."""

    form = NetworkZoneForm
    list_display = ["name", "cluster", "zone_type", "tag_min", "tag_max", "enabled", "live_networks"]
    list_filter = ["zone_type", "enabled", "cluster__datacentre"]
    list_select_related = ["cluster"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[NetworkZone]:
        return (
            super()
            .get_queryset(request)
            .annotate(live=Count("networks", filter=~Q(networks__status=NetworkStatus.DELETED)))
        )

    @admin.display(description=_("networks"), ordering="live")
    def live_networks(self, obj: Any) -> int:
        return int(getattr(obj, "live", 0))


class SubnetInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Subnet
    extra = 0
    can_delete = False
    fields = ("cidr", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AttachmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Attachment
    extra = 0
    can_delete = False
    fields = ("server_name", "instance", "address", "nic_index", "status", "needs_reboot", "drift", "detached_reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Network)
class NetworkAdmin(AuditedModelAdmin):
    list_display = ["name", "organisation", "ip_range", "datacentre", "cluster", "vnet", "tag", "status", "servers"]
    list_filter = ["status", "datacentre", "cluster"]
    search_fields = ["name", "vnet", "organisation__name", "organisation__slug", "public_id"]
    list_select_related = ["organisation", "datacentre", "cluster"]
    readonly_fields = [
        "public_id",
        "organisation",
        "project",
        "name",
        "labels",
        "datacentre",
        "ip_range",
        "status",
        "cluster",
        "zone",
        "vnet",
        "tag",
        "current_upid",
        "error_message",
        "created_by",
        "created_at",
        "deleted_at",
    ]
    inlines = [SubnetInline, AttachmentInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Network]:
        live = Q(attachments__status__in=LIVE_ATTACHMENT_STATUSES)
        return super().get_queryset(request).annotate(n_servers=Count("attachments", filter=live))

    @admin.display(description=_("servers"), ordering="n_servers")
    def servers(self, obj: Any) -> int:
        return int(getattr(obj, "n_servers", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(AuditedModelAdmin):
    """Servers' cards on private networks; ``drift`` is set by reconciliation when the VM's card differs
    (``services.network_cards_check`` after each inventory sync), repaired by the action below."""

    list_display = ["server_name", "network", "address", "nic_index", "status", "drift", "drift_detail", "checked_at"]
    list_filter = ["drift", "status", "network__cluster", "network__organisation"]
    search_fields = ["server_name", "address", "network__name", "network__vnet", "network__organisation__slug"]
    list_select_related = ["network"]
    readonly_fields = [
        "public_id",
        "network",
        "subnet",
        "instance",
        "server_name",
        "address",
        "nic_index",
        "status",
        "needs_reboot",
        "drift",
        "drift_detail",
        "checked_at",
        "detached_reason",
        "created_at",
        "attached_at",
        "detached_at",
    ]
    actions = ["repair"]

    @admin.action(description=_("Write these drifted cards again on their servers"))
    def repair(self, request: HttpRequest, queryset: QuerySet[Attachment]) -> None:
        actions = services.network_cards_repair(actor=request.user, attachments=queryset)  # type: ignore[arg-type]
        self.message_user(request, _("%(n)s card(s) being written again.") % {"n": len(actions)})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(NetworkQuota)
class NetworkQuotaAdmin(AuditedModelAdmin):
    """Staff raise or lower an organisation's network limit; blank means ``NETWORKS_DEFAULT_QUOTAS``."""

    list_display = ["organisation", "max_networks", "notes"]
    search_fields = ("organisation__name", "organisation__slug")
    autocomplete_fields = ("organisation",)
