"""Staff back office for teams: find any organisation or token, see members, roles, tokens
(never secrets) and the audit trail; suspend or unsuspend an organisation with a reason.

Edits go through ``AuditedModelAdmin`` (staff changes are audited); suspension
and token revocation call the services, which audit with ``actor_kind=staff``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin import UserAdmin
from apps.core.admin_audit import AuditedModelAdmin
from apps.core.choices import ActorKind
from apps.teams import services
from apps.teams.models import ApiToken, Invitation, Membership, Organisation, Project


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)


class ProjectInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Project
    extra = 0
    fields = ("name", "slug", "is_default", "created_at")
    readonly_fields = ("created_at",)


class ApiTokenInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ApiToken
    extra = 0
    can_delete = False
    fields = ("name", "user", "prefix", "scope", "expires_at", "last_used_at", "last_used_ip", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason shown to the organisation's members"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(Organisation)
class OrganisationAdmin(AuditedModelAdmin):
    list_display = ("name", "slug", "country", "is_personal", "member_count", "suspended_at", "created_at")
    list_filter = ("is_personal", "require_mfa", ("suspended_at", admin.EmptyFieldListFilter), "country")
    search_fields = ("name", "slug", "legal_name", "vat_id", "billing_email", "memberships__user__email")
    readonly_fields = ("suspended_at", "suspension_reason", "created_at", "updated_at", "audit_trail")
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_personal", "require_mfa")}),
        (_("Billing details"), {"fields": ("legal_name", "country", "vat_id", "billing_email")}),
        (_("Suspension"), {"fields": ("suspended_at", "suspension_reason")}),
        (_("History"), {"fields": ("audit_trail", "created_at", "updated_at")}),
    )
    inlines = [MembershipInline, ProjectInline, ApiTokenInline]
    actions = ["suspend", "unsuspend"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        return super().get_queryset(request).prefetch_related("memberships")

    @admin.display(description=_("members"))
    def member_count(self, obj: Organisation) -> int:
        return len(obj.memberships.all())

    @admin.display(description=_("audit trail"))
    def audit_trail(self, obj: Organisation) -> str:
        url = reverse("admin:core_auditevent_changelist") + f"?organisation_id={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Audit events of this organisation"))

    @admin.action(description=_("Suspend selected organisations"))
    def suspend(self, request: HttpRequest, queryset: QuerySet[Organisation]) -> HttpResponse | None:
        form = SuspendForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for organisation in queryset:
                services.organisation_suspend(
                    organisation=organisation,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            self.message_user(request, _("%(n)d organisation(s) suspended.") % {"n": queryset.count()})
            return None
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "organisations": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "title": _("Suspend organisations"),
        }
        return render(request, "admin/teams/suspend.html", context)

    @admin.action(description=_("Lift the suspension of selected organisations"))
    def unsuspend(self, request: HttpRequest, queryset: QuerySet[Organisation]) -> None:
        for organisation in queryset.filter(suspended_at__isnull=False):
            services.organisation_unsuspend(organisation=organisation, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("Suspension lifted."), messages.SUCCESS)


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "organisation__name", "organisation__slug")
    autocomplete_fields = ("user", "organisation")


@admin.register(Project)
class ProjectAdmin(AuditedModelAdmin):
    list_display = ("name", "organisation", "slug", "is_default", "created_at")
    search_fields = ("name", "slug", "organisation__name")
    autocomplete_fields = ("organisation",)


@admin.register(Invitation)
class InvitationAdmin(AuditedModelAdmin):
    list_display = ("email", "organisation", "role", "status", "expires_at", "invited_by")
    list_filter = ("status", "role")
    search_fields = ("email", "organisation__name")
    readonly_fields = ("token_hash", "accepted_at", "accepted_by", "declined_at", "revoked_at")
    autocomplete_fields = ("organisation", "project", "invited_by")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    """Tokens are read-only here (the hash is never displayed); staff may only revoke them."""

    list_display = ("prefix", "name", "user", "organisation", "scope", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "name", "user__email", "organisation__name")
    fields = (
        "name",
        "prefix",
        "user",
        "organisation",
        "scope",
        "projects",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
        "created_at",
    )
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(token=token, actor=request.user, actor_kind=ActorKind.STAFF)  # type: ignore[arg-type]
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)


# --- The user's side: staff looking a person up see their organisations, roles and tokens. ---
# accounts sits below teams and cannot import these models, so teams adds the
# inlines to the User admin that accounts registered.


class UserMembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ("organisation", "role", "created_at")
    readonly_fields = fields
    verbose_name_plural = _("Organisations and roles")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserApiTokenInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ApiToken
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ("name", "organisation", "prefix", "scope", "expires_at", "last_used_at", "last_used_ip", "revoked_at")
    readonly_fields = fields
    verbose_name_plural = _("API tokens (secrets are never stored)")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserWithOrganisationsAdmin(UserAdmin):
    """The accounts User admin plus, on an existing user's page, their organisations, roles and tokens."""

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[type[InlineModelAdmin[Any, Any]]]:
        inlines = list(super().get_inlines(request, obj))
        return [*inlines, UserMembershipInline, UserApiTokenInline] if obj is not None else inlines
