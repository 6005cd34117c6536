"""The back office's admin: its site (``site``), its own pages
(``views``) and the staff notes' model admin, registered here when Django's admin autodiscovers it.
"""

from __future__ import annotations

from django.contrib import admin

from apps.backoffice.models import StaffNote


@admin.register(StaffNote)
class StaffNoteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: notes are written on the organisation page (audited by the service)."""

    list_display = ("organisation", "author_label", "created_at", "body")
    list_select_related = ("organisation",)
    search_fields = ("body", "organisation__name", "author_label")
    readonly_fields = ("organisation", "author", "author_label", "body", "created_at")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
