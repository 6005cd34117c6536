"""Billing admin: budgets, their alerts (read-only) and portal notices.

Staff read budgets here and may disable, re-enable or delete them (through
``apps.billing.services.budgets``, which audits and lifts a budget's block on orders);
customers edit them in the portal or the API. Alerts are history: read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.billing import services
from apps.billing.models import BillingNotice, Budget, BudgetAlert
from apps.core.admin_audit import AuditedModelAdmin


class BudgetAlertInline(admin.TabularInline):  # type: ignore[type-arg]
    model = BudgetAlert
    fields = ["month", "threshold", "spend", "created_at", "emailed_at", "webhook_status", "webhook_sent_at"]
    readonly_fields = ["month", "threshold", "spend", "created_at", "emailed_at", "webhook_status", "webhook_sent_at"]
    extra = 0
    can_delete = False
    ordering = ["-month", "-threshold"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Budget)
class BudgetAdmin(AuditedModelAdmin):
    list_display = ["name", "organisation", "project", "amount", "basis", "action", "is_active", "created_at"]
    list_filter = ["is_active", "basis", "action"]
    search_fields = ["name", "public_id", "organisation__name", "organisation__slug"]
    list_select_related = ["organisation", "project"]
    readonly_fields = [
        "public_id",
        "organisation",
        "project",
        "name",
        "amount",
        "thresholds",
        "basis",
        "action",
        "notify_emails",
        "webhook_url",
        "is_active",
        "created_by",
        "created_at",
        "updated_at",
    ]
    exclude = ["webhook_secret"]
    inlines = [BudgetAlertInline]
    actions = ["disable", "enable", "delete_budgets"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the "delete budgets" action goes through the service (lifts the order block)

    def _each(self, request: HttpRequest, queryset: QuerySet[Budget], call: Any) -> None:
        done = 0
        for budget in queryset.select_related("organisation", "project"):
            call(budget)
            done += 1
        self.message_user(request, _("%(n)s done.") % {"n": done}, level=messages.SUCCESS)

    @admin.action(description=_("Disable (lifts its block on orders)"))
    def disable(self, request: HttpRequest, queryset: QuerySet[Budget]) -> None:
        self._each(request, queryset, lambda b: services.budget_update(budget=b, actor=request.user, is_active=False))

    @admin.action(description=_("Enable"))
    def enable(self, request: HttpRequest, queryset: QuerySet[Budget]) -> None:
        self._each(request, queryset, lambda b: services.budget_update(budget=b, actor=request.user, is_active=True))

    @admin.action(description=_("Delete (lifts its block on orders)"))
    def delete_budgets(self, request: HttpRequest, queryset: QuerySet[Budget]) -> None:
        self._each(request, queryset, lambda b: services.budget_delete(budget=b, actor=request.user))


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["budget", "month", "threshold", "spend", "created_at", "emailed_at", "webhook_status"]
    list_filter = ["threshold", "month"]
    search_fields = ["budget__name", "budget__organisation__name"]
    list_select_related = ["budget", "budget__organisation"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BillingNotice)
class BillingNoticeAdmin(AuditedModelAdmin):
    """Staff may post a notice to an organisation (a payment arrangement, a planned change) or correct one."""

    list_display = ["organisation", "kind", "short_message", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["message", "organisation__name"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]
    readonly_fields = ["created_at", "read_at"]

    @admin.display(description=_("message"))
    def short_message(self, obj: BillingNotice) -> str:
        return obj.message[:80]
