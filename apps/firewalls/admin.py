"""Back office for firewalls: per organisation and per cluster, application status, drift flags, quotas,
and the clusters whose datacentre firewall is off. Read-mostly; writes go through the services
(docs/dev/style.md#app-shape)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.core.admin_audit import AuditedModelAdmin
from apps.core.errors import ApplicationError
from apps.firewalls import selectors, services
from apps.firewalls.models import ClusterFirewallCheck, Firewall, FirewallQuota, FirewallServer, ServerFirewall


class FirewallServerInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FirewallServer
    extra = 0
    can_delete = False
    fields = ["instance", "direct", "selected", "status", "error_message", "applied_at"]
    readonly_fields = ["instance", "direct", "selected", "status", "error_message", "applied_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Firewall)
class FirewallAdmin(AuditedModelAdmin):
    list_display = ["name", "organisation", "project", "status", "rule_count", "server_count", "applied"]
    list_filter = ["status", "groups__cluster", "organisation"]
    search_fields = ["name", "organisation__name", "public_id"]
    list_select_related = ["organisation", "project"]
    inlines = [FirewallServerInline]
    actions = ["reapply"]
    readonly_fields = [
        "public_id",
        "organisation",
        "project",
        "name",
        "labels",
        "rules",
        "label_selectors",
        "status",
        "generation",
        "applied_generation",
        "security_groups",
        "created_by",
        "created_at",
        "deleted_at",
        "recent_actions",
    ]

    @admin.display(description=_("rules"))
    def rule_count(self, obj: Firewall) -> int:
        return len(obj.rules)

    @admin.display(description=_("servers"))
    def server_count(self, obj: Firewall) -> int:
        return obj.members.count()

    @admin.display(description=_("applied everywhere"), boolean=True)
    def applied(self, obj: Firewall) -> bool:
        return selectors.firewall_is_applied(obj)

    @admin.display(description=_("security groups"))
    def security_groups(self, obj: Firewall) -> str:
        return format_html_join(
            "", "<div>{} on {} (generation {})</div>", ((obj.group, g.cluster, g.generation) for g in obj.groups.all())
        )

    @admin.display(description=_("actions"))
    def recent_actions(self, obj: Firewall) -> str:
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:instances_action_change", args=[a.pk]),
                    a.get_type_display(),
                    a.get_status_display(),
                    a.created_at,
                    a.error_message,
                )
                for a in selectors.firewall_action_list(firewall=obj)[:10]
            ),
        )
        link = reverse("admin:instances_action_changelist") + f"?resource_id={obj.public_id}"
        return format_html('<table><tbody>{}</tbody></table><p><a href="{}">{}</a></p>', rows, link, _("All"))

    @admin.action(description=_("Re-apply to every server (rewrite security groups)"))
    def reapply(self, request: HttpRequest, queryset: QuerySet[Firewall]) -> None:
        for firewall in queryset:
            try:
                services.firewall_reapply(firewall=firewall, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as exc:
                self.message_user(request, f"{firewall}: {exc.message}", messages.ERROR)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ServerFirewall)
class ServerFirewallAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Each server's applied firewall state; ``drift`` is set by reconciliation when the VM differs."""

    list_display = ["instance", "cluster", "groups", "policy_out", "drift", "drift_detail", "checked_at"]
    list_filter = ["drift", "instance__cluster", "instance__organisation"]
    search_fields = ["instance__name", "instance__public_id"]
    list_select_related = ["instance", "instance__cluster"]
    readonly_fields = ["instance", "groups", "policy_out", "applied_at", "drift", "drift_detail", "checked_at"]
    actions = ["reapply"]

    @admin.display(description=_("cluster"))
    def cluster(self, obj: ServerFirewall) -> Any:
        return obj.instance.cluster

    @admin.action(description=_("Re-apply the firewalls of these servers"))
    def reapply(self, request: HttpRequest, queryset: QuerySet[ServerFirewall]) -> None:
        for state in queryset:
            for member in FirewallServer.objects.filter(instance_id=state.instance_id).select_related("firewall"):
                try:
                    services.firewall_reapply(
                        firewall=member.firewall,
                        actor=request.user,  # type: ignore[arg-type]
                        server_ids=[state.instance_id],
                    )
                except ApplicationError as exc:
                    self.message_user(request, f"{member.firewall}: {exc.message}", messages.ERROR)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FirewallQuota)
class FirewallQuotaAdmin(AuditedModelAdmin):
    """Staff raise or lower an organisation's firewall limits; blank means ``FIREWALLS_DEFAULT_QUOTAS``."""

    list_display = ["organisation", "max_firewalls", "max_rules_per_firewall", "notes"]
    search_fields = ("organisation__name", "organisation__slug")
    autocomplete_fields = ("organisation",)


@admin.register(ClusterFirewallCheck)
class ClusterFirewallCheckAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Clusters whose datacentre firewall is off are flagged: no customer firewall filters there."""

    list_display = ["cluster", "flag", "enabled", "checked_at", "error"]
    list_filter = ["enabled"]
    readonly_fields = ["cluster", "enabled", "checked_at", "error"]
    actions = ["check_now"]

    @admin.display(description=_("flag"))
    def flag(self, obj: ClusterFirewallCheck) -> str:
        if obj.enabled:
            return format_html('<span style="color:green">{}</span>', _("firewall on"))
        return format_html(
            '<strong style="color:#b00">{}</strong>', _("FIREWALL OFF: customer firewalls do not filter")
        )

    @admin.action(description=_("Check the datacentre firewall now"))
    def check_now(self, request: HttpRequest, queryset: QuerySet[ClusterFirewallCheck]) -> None:
        for row in queryset.select_related("cluster"):
            services.cluster_firewall_check(cluster=row.cluster)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
