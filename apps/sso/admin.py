"""Staff view of SSO: each organisation's SAML connection (refresh its IdP metadata here), its domains (verify
them here: by their DNS record, or on staff's word after checking ownership) and consumed assertions."""

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
    """Read-only: domains are added by the organisation and verified through the actions of the domain list."""

    model = SamlDomain
    extra = 0
    fields = ("domain", "verified_at", "verification_method", "staff_review", "created_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SamlConnection)
class SamlConnectionAdmin(AuditedModelAdmin):
    list_display = ("organisation", "slug", "enabled", "sso_required", "default_role", "idp_entity_id", "updated_at")
    list_filter = ("enabled", "sso_required", "default_role")
    search_fields = ("organisation__name", "organisation__slug", "slug", "idp_entity_id", "domains__domain")
    raw_id_fields = ("organisation",)
    inlines = [SamlDomainInline]
    actions = ["refresh_metadata"]
    readonly_fields = (
        "created_at",
        "updated_at",
        "idp_x509_cert_next",
        "idp_x509_cert_previous",
        "idp_x509_cert_previous_until",
        "metadata_refreshed_at",
        "metadata_refresh_error",
    )
    fieldsets = (
        (None, {"fields": ("organisation", "slug", "enabled", "sso_required", "allow_idp_initiated", "default_role")}),
        (
            _("Identity provider"),
            {
                "fields": (
                    "idp_metadata_url",
                    "idp_metadata_xml",
                    "idp_entity_id",
                    "idp_sso_url",
                    "idp_slo_url",
                    "idp_x509_cert",
                    "idp_x509_cert_next",
                    "idp_x509_cert_previous",
                    "idp_x509_cert_previous_until",
                    "metadata_refreshed_at",
                    "metadata_refresh_error",
                )
            },
        ),
        (_("Attribute mapping"), {"fields": ("attr_email", "attr_first_name", "attr_last_name", "attr_uid")}),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )

    @admin.action(description=_("Refresh the IdP metadata (certificate rollover)"))
    def refresh_metadata(self, request: HttpRequest, queryset: QuerySet[SamlConnection]) -> None:
        done = 0
        for connection in queryset:
            try:
                services.saml_connection_refresh_metadata(connection=connection, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{connection}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("%(count)d connection(s) refreshed.") % {"count": done}, messages.SUCCESS)


@admin.register(SamlDomain)
class SamlDomainAdmin(AuditedModelAdmin):
    """Domains claimed by organisations. Never edited by hand: the actions below verify them, audited."""

    list_display = ("domain", "connection", "verified_at", "verification_method", "staff_review", "created_at")
    list_filter = (("verified_at", admin.EmptyFieldListFilter), "staff_review", "verification_method")
    search_fields = ("domain", "connection__organisation__name")
    readonly_fields = (
        "connection",
        "domain",
        "verification_token",
        "verified_at",
        "verification_method",
        "staff_review",
        "created_at",
    )
    actions = ["verify_by_dns", "verify_domains"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Check the DNS TXT record of the selected domains now"))
    def verify_by_dns(self, request: HttpRequest, queryset: QuerySet[SamlDomain]) -> None:
        self._verify(request, queryset, services.saml_domain_verify_dns)

    @admin.action(description=_("Mark the selected domains as verified (ownership checked by staff)"))
    def verify_domains(self, request: HttpRequest, queryset: QuerySet[SamlDomain]) -> None:
        self._verify(request, queryset, services.saml_domain_verify)

    def _verify(self, request: HttpRequest, queryset: QuerySet[SamlDomain], verify: Any) -> None:
        done = 0
        for row in queryset:
            try:
                verify(domain=row, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{row}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("%(count)d domain(s) verified.") % {"count": done}, messages.SUCCESS)


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
