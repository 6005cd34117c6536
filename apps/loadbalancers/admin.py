"""Back office for load balancers: every load balancer with its VM, its configuration and the one it last applied.

Read-only: changes go through ``apps.loadbalancers.services`` (the customer's API) and the
service's lifecycle (``apps.managed``'s back office: suspend, resume, terminate). The one action
applies the configuration again (``services.lb_apply_again``, audited; after a failure fixed on the
platform's side). Private keys are never shown: certificates list their names, expiry and fingerprint.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError
from apps.loadbalancers import services
from apps.loadbalancers.models import Certificate, LoadBalancer


class CertificateInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Certificate
    fields = ("names", "not_after", "fingerprint_sha256", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoadBalancer)
class LoadBalancerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every load balancer: its service, VM, generations and the configuration HAProxy runs."""

    list_display = [
        "service_link",
        "organisation",
        "datacentre",
        "state",
        "vm_link",
        "config_generation",
        "applied_generation",
        "applied_at",
        "apply_error_short",
    ]
    list_filter = ("datacentre", "service__state", "service__offer")
    search_fields = ("service__name", "service__public_id", "service__organisation__name", "instance__public_id")
    list_select_related = ("service", "service__organisation", "instance", "datacentre")
    inlines = [CertificateInline]
    actions = ["apply_again"]
    fieldsets = (
        (None, {"fields": ("service_link", "datacentre", "vm_link", "certificate")}),
        (
            _("Configuration"),
            {
                "fields": (
                    "rules",
                    "targets",
                    "health_check",
                    "sticky_sessions",
                    "redirect_http_to_https",
                    "tls_mode",
                    "proxy_protocol",
                )
            },
        ),
        (
            _("Applied"),
            {
                "fields": (
                    "config_generation",
                    "applied_generation",
                    "applied_at",
                    "applied_targets",
                    "apply_error",
                    "apply_task",
                    "applied_config_text",
                )
            },
        ),
        (_("Target health"), {"fields": ("target_health", "health_read_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [str(f) for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("service"), ordering="service__name")
    def service_link(self, obj: LoadBalancer) -> str:
        url = reverse("admin:managed_managedservice_change", args=[obj.service_id])
        return format_html('<a href="{}">{}</a>', url, obj.service.name)

    @admin.display(description=_("organisation"))
    def organisation(self, obj: LoadBalancer) -> str:
        return str(obj.service.organisation)

    @admin.display(description=_("state"), ordering="service__state")
    def state(self, obj: LoadBalancer) -> str:
        return str(obj.service.get_state_display())

    @admin.display(description=_("VM"))
    def vm_link(self, obj: LoadBalancer) -> str:
        if obj.instance is None:
            return "-"
        url = reverse("admin:instances_instance_change", args=[obj.instance_id])
        label = f"{obj.instance.name} ({obj.instance.status}, {obj.instance.node_name}/{obj.instance.vmid})"
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("last apply error"))
    def apply_error_short(self, obj: LoadBalancer) -> str:
        return obj.apply_error[:80]

    @admin.display(description=_("applied configuration"))
    def applied_config_text(self, obj: LoadBalancer) -> str:
        return format_html('<pre id="applied-config" style="white-space: pre">{}</pre>', obj.applied_config or "-")

    @admin.action(description=_("Apply the configuration again"))
    def apply_again(self, request: HttpRequest, queryset: QuerySet[LoadBalancer]) -> None:
        for lb in queryset.select_related("service"):
            try:
                services.lb_apply_again(load_balancer=lb, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as exc:
                messages.error(request, f"{lb.service.name}: {exc.message}")
        messages.success(request, _("The configuration is queued for applying."))
