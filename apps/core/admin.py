"""Staff view of the audit log: searchable, filterable, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.models import AuditEvent, UnsentTask


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ("created_at", "actor_kind", "actor_label", "action", "target_repr", "organisation_id", "ip")
    list_filter = ("actor_kind", "action", "created_at")
    search_fields = ("actor_label", "action", "target_repr", "target_id", "request_id", "ip")
    date_hierarchy = "created_at"
    list_select_related = ("target_type",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UnsentTask)
class UnsentTaskAdmin(admin.ModelAdmin[UnsentTask]):
    """Tasks the broker refused, waiting for ``core.resend_unsent_tasks``: a growing list means the broker is away."""

    list_display = ("task_name", "args", "attempts", "created_at", "last_attempt_at", "error")
    list_filter = ("task_name",)
    readonly_fields = ("task_name", "args", "error", "attempts", "created_at", "last_attempt_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
