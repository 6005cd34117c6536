"""Back office for orders: every order, the staff approval queue and the fulfilment queue.

Orders are read-only here: state only changes through admin actions that call
the services (approve, reject with a reason the customer sees, retry a failed
order, mark that staff started on a managed service's order; its delivery is the
service's, in apps.managed's back office), so every change
follows the state machine and is recorded (transition + audit event).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from apps.core.admin_audit import AuditedModelAdmin, StaffActionsMixin
from apps.orders import selectors, services
from apps.orders.models import (
    ApprovalQueueOrder,
    FulfilmentQueueOrder,
    GpuRiskPolicy,
    Order,
    OrderTransition,
    OrganisationQuota,
)
from apps.orders.selectors import gpu_risk


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (shown to the customer)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class OrderTransitionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrderTransition
    extra = 0
    can_delete = False
    fields = ("created_at", "from_state", "to_state", "actor_label", "reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderAdmin(StaffActionsMixin, AuditedModelAdmin):
    list_display = [
        "public_id",
        "organisation",
        "offer",
        "datacentre",
        "name",
        "state",
        "fulfilment_status",
        "price_monthly",
        "created_at",
    ]
    list_filter = ["state", "fulfilment_status", "options_status", "offer__family", "datacentre", "created_at"]
    search_fields = ("public_id", "name", "organisation__name", "organisation__slug", "idempotency_key")
    list_select_related = ("organisation", "offer", "datacentre")
    date_hierarchy = "created_at"
    inlines = [OrderTransitionInline]
    actions = ["approve", "reject", "retry", "fulfilment_start", "options_retry"]
    fieldsets = (
        (None, {"fields": ("public_id", "state", "organisation", "project", "created_by", "created_at")}),
        (_("Ordered"), {"fields": ("offer", "datacentre", "image", "gpu_stack", "name", "ssh_key_ids", "user_data")}),
        (_("Price (frozen)"), {"fields": ("price_hourly", "price_monthly", "currency")}),
        (
            _("Delivery"),
            {
                "fields": (
                    "reservation",
                    "instance",
                    "service",
                    "service_config",
                    "fulfilment_status",
                    "fulfilment_notes",
                )
            },
        ),
        (
            _("Options"),
            {
                "fields": (
                    "labels",
                    "network_ids",
                    "firewall_ids",
                    "volumes",
                    "options_status",
                    "options_done",
                    "options_errors",
                )
            },
        ),
        (_("Decision"), {"fields": ("flags", "risk_signals", "rejection_reason", "error_message")}),
        (_("Idempotency"), {"fields": ("idempotency_key", "request_hash", "response_status")}),
    )

    @admin.display(description=_("GPU risk signals"))
    def risk_signals(self, obj: Order) -> str:
        """What the GPU risk policy looks at, now, for the order's organisation (apps/orders/selectors/gpu_risk.py)."""
        if obj is None or not obj.offer_id or not obj.offer.is_gpu:
            return "—"
        signals = gpu_risk.risk_signals(organisation=obj.organisation)
        payment = {True: _("yes"), False: _("no"), None: _("unknown")}[signals.has_payment_method]
        return str(
            _("Organisation %(age)s days old · payment method: %(payment)s · billing identity: %(identity)s")
            % {
                "age": signals.age_days,
                "payment": payment,
                "identity": _("yes") if signals.has_billing_identity else _("no"),
            }
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Order._meta.concrete_fields] + ["risk_signals"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed by customers (API, portal), never typed in

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # -- actions -------------------------------------------------------------
    def action_row_label(self, obj: Order) -> str:
        return f"{obj.offer.code} “{obj.name}” — {obj.organisation.name} ({obj.public_id})"

    @admin.action(description=_("Approve (start provisioning)"))
    def approve(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request,
            queryset,
            lambda order: services.order_approve(order=order, actor=request.user),
            str(_("%(n)d order(s) approved.")),
        )

    @admin.action(description=_("Reject (with a reason the customer sees)"))
    def reject(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            form_class=ReasonForm,
            action="reject",
            title=str(_("Reject orders")),
            intro=str(_("The reserved capacity is released; the customer sees the reason below.")),
            submit_label=str(_("Reject")),
            call=lambda order, data: services.order_reject(order=order, actor=request.user, reason=data["reason"]),
            done_message=str(_("%(n)d order(s) rejected.")),
        )

    @admin.action(description=_("Retry failed orders"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request,
            queryset,
            lambda order: services.order_retry(order=order, actor=request.user),
            str(_("%(n)d order(s) retried.")),
        )

    @admin.action(description=_("Fulfilment: staff started (the customer can no longer cancel the order)"))
    def fulfilment_start(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request,
            queryset,
            lambda order: services.order_fulfilment_start(order=order, actor=request.user),
            str(_("%(n)d order(s) in progress.")),
        )

    @admin.action(description=_("Apply the options that failed again (networks, firewalls, volumes)"))
    def options_retry(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request,
            queryset,
            lambda order: services.order_options_retry(order=order, actor=request.user),
            str(_("%(n)d order(s): options applied again.")),
        )


admin.site.register(Order, OrderAdmin)


@admin.register(ApprovalQueueOrder)
class ApprovalQueueAdmin(OrderAdmin):
    """Flagged orders, oldest first: approve or reject."""

    list_display = [
        "public_id",
        "organisation",
        "offer",
        "datacentre",
        "price_monthly",
        "flags",
        "risk_signals",
        "created_at",
    ]
    list_filter = ["offer__family", "datacentre"]
    actions = ["approve", "reject"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return selectors.approval_queue()


@admin.register(FulfilmentQueueOrder)
class FulfilmentQueueAdmin(OrderAdmin):
    """Managed-service orders whose service is not delivered yet, oldest first.

    Staff mark here that they started on an order (the customer can no longer
    cancel it), then deliver its service in the managed services' back office
    (``apps.managed``: endpoints, credentials, notes), which completes the order.
    """

    list_display = [
        "public_id",
        "organisation",
        "offer",
        "datacentre",
        "name",
        "service",
        "fulfilment_status",
        "created_at",
    ]
    list_filter = ["fulfilment_status", "offer__family", "datacentre"]
    actions = ["fulfilment_start"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return selectors.fulfilment_queue()


@admin.register(OrganisationQuota)
class OrganisationQuotaAdmin(AuditedModelAdmin):
    list_display = ["organisation", "max_instances", "max_gpus", "notes", "updated_at"]
    search_fields = ("organisation__name", "organisation__slug")
    autocomplete_fields = ("organisation",)


@admin.register(GpuRiskPolicy)
class GpuRiskPolicyAdmin(AuditedModelAdmin):
    """The one GPU risk policy row: which signals hold a GPU order for approval (apps/orders/selectors/gpu_risk.py)."""

    list_display = [
        "__str__",
        "enabled",
        "review_all",
        "min_organisation_age_days",
        "require_payment_method",
        "require_billing_identity",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not GpuRiskPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        gpu_risk.gpu_risk_policy_get()  # the row exists once staff open the page
        return super().changelist_view(request, extra_context)
