"""Staff view of SSO: each organisation's SAML connection, its domains (verify them here) and consumed assertions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.admin_audit import AuditedModelAdmin
from apps.core.errors import ApplicationError
from apps.sso import services
from apps.sso.models import SamlAssertionUse, SamlConnection, SamlDomain
from apps.teams.admin import OrganisationAdmin
from apps.teams.models import Organisation


class SamlDomainInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SamlDomain
    extra = 0
    fields = ("domain", "verified_at", "created_at")
    readonly_fields = ("created_at",)


@admin.register(SamlConnection)
class SamlConnectionAdmin(AuditedModelAdmin):
    list_display = ("organisation", "slug", "enabled", "sso_required", "default_role", "idp_entity_id", "updated_at")
    list_filter = ("enabled", "sso_required", "default_role")
    search_fields = ("organisation__name", "organisation__slug", "slug", "idp_entity_id", "domains__domain")
    raw_id_fields = ("organisation",)
    inlines = [SamlDomainInline]
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("organisation", "slug", "enabled", "sso_required", "allow_idp_initiated", "default_role")}),
        (
            _("Identity provider"),
            {"fields": ("idp_metadata_url", "idp_metadata_xml", "idp_entity_id", "idp_sso_url", "idp_x509_cert")},
        ),
        (_("Attribute mapping"), {"fields": ("attr_email", "attr_first_name", "attr_last_name", "attr_uid")}),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )


@admin.register(SamlDomain)
class SamlDomainAdmin(AuditedModelAdmin):
    list_display = ("domain", "connection", "verified_at", "created_at")
    list_filter = (("verified_at", admin.EmptyFieldListFilter),)
    search_fields = ("domain", "connection__organisation__name")
    actions = ["verify_domains"]

    @admin.action(description=_("Mark the selected domains as verified (ownership checked)"))
    def verify_domains(self, request: HttpRequest, queryset: QuerySet[SamlDomain]) -> None:
        for row in queryset:
            try:
                services.saml_domain_verify(domain=row, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{row}: {exc.message}", messages.ERROR)
        self.message_user(request, _("Domains verified."), messages.SUCCESS)


@admin.register(SamlAssertionUse)
class SamlAssertionUseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("assertion_id", "connection", "used_at", "expires_at")
    search_fields = ("assertion_id",)
    readonly_fields = ("assertion_id", "connection", "used_at", "expires_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrganisationSamlConnectionInline(admin.StackedInline):  # type: ignore[type-arg]
    """The organisation's SSO settings at a glance on the Organisation admin page (edit them on the connection)."""

    model = SamlConnection
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("enabled", "sso_required", "default_role", "idp_entity_id", "idp_sso_url", "idp_metadata_url")
    readonly_fields = fields
    verbose_name = verbose_name_plural = _("SAML single sign-on")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# sso sits above teams: it extends the Organisation admin that teams registered.
admin.site.unregister(Organisation)


@admin.register(Organisation)
class OrganisationWithSsoAdmin(OrganisationAdmin):
    """The teams Organisation admin plus, on an existing organisation's page, its SAML settings."""

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[type[InlineModelAdmin[Any, Any]]]:
        inlines = list(super().get_inlines(request, obj))
        return [*inlines, OrganisationSamlConnectionInline] if obj is not None else inlines
