"""Back office for floating IPs: read-mostly; customer-facing writes go through the services.

Staff see floating IPs per organisation and datacentre, the routes the table
backend recorded, edit quotas, and set the price of the add-on offer (its
description says whether the price is still the demo placeholder).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.admin_audit import AuditedModelAdmin
from apps.core.money import to_rate
from apps.floating_ips.models import FloatingIp, FloatingIpOffer, FloatingIpQuota, FloatingIpRoute


@admin.register(FloatingIp)
class FloatingIpAdmin(AuditedModelAdmin):
    list_display = ["address", "name", "organisation", "project", "datacentre", "status", "server", "price_monthly"]
    list_filter = ["status", "datacentre"]
    search_fields = ["address", "name", "organisation__name", "organisation__slug", "public_id"]
    list_select_related = ["organisation", "project", "datacentre", "server"]
    readonly_fields = [
        "public_id",
        "organisation",
        "project",
        "name",
        "labels",
        "datacentre",
        "family",
        "address",
        "pool",
        "allocation",
        "server",
        "status",
        "delete_protection",
        "error_message",
        "offer",
        "price_hourly",
        "price_monthly",
        "created_by",
        "created_at",
        "deleted_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FloatingIpRoute)
class FloatingIpRouteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """What the ``table`` routing backend recorded: where each floating IP points (read only)."""

    list_display = ["address", "next_hop", "datacentre", "announced_at", "updated_at"]
    list_filter = ["datacentre"]
    search_fields = ["address", "next_hop"]
    readonly_fields = ["address", "next_hop", "datacentre", "announced_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FloatingIpQuota)
class FloatingIpQuotaAdmin(AuditedModelAdmin):
    """Staff raise or lower an organisation's floating IP limit; blank means ``FLOATING_IPS_DEFAULT_QUOTAS``."""

    list_display = ["organisation", "max_floating_ips", "notes"]
    search_fields = ("organisation__name", "organisation__slug")
    autocomplete_fields = ("organisation",)


@admin.register(FloatingIpOffer)
class FloatingIpOfferAdmin(AuditedModelAdmin):
    """The add-on offer that prices floating IPs: staff set the monthly price; hourly follows (monthly / 730)."""

    list_display = ["code", "name", "price_monthly", "price_hourly", "price_note"]
    fields = ["code", "name", "status", "price_monthly", "price_hourly", "description"]
    readonly_fields = ["code", "name", "status", "price_hourly"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FloatingIpOffer]:
        return super().get_queryset(request).filter(code=settings.FLOATING_IPS_OFFER_CODE)

    @admin.display(description=_("price note"))
    def price_note(self, obj: FloatingIpOffer) -> str:
        if "PLACEHOLDER" in (obj.description or ""):
            return str(_("Placeholder price: set the real one (and edit the description)."))
        return str(_("Set by staff."))

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        obj.price_hourly = to_rate(Decimal(obj.price_monthly) / Decimal(730))
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
