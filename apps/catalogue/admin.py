"""Catalogue back office: staff own families, offers, GPU models, datacentres, images and envelopes here.

Every change is audited (``AuditedModelAdmin``). Offers are never deleted
(orders point at them): staff retire them with the bulk actions, which go
through ``services.offers_set_status``. For families whose hourly price is
derived, the offer form computes the hourly price from the monthly one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.catalogue import choices, services
from apps.catalogue.models import (
    CapacityEnvelope,
    Datacentre,
    DatacentreGpuModel,
    GpuModel,
    GpuSoftwareStack,
    Offer,
    OsImage,
    ProductFamily,
)
from apps.core.admin_audit import AuditedModelAdmin
from apps.core.choices import ActorKind
from apps.core.errors import ApplicationError
from apps.core.services import audit_record


class OfferInline(admin.TabularInline):  # type: ignore[type-arg]
    """Read-only list of a family's offers, linking to each."""

    model = Offer
    fields = ["code", "tier", "status", "price_monthly", "price_hourly"]
    readonly_fields = ["code", "tier", "status", "price_monthly", "price_hourly"]
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["position", "code"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProductFamily)
class ProductFamilyAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "kind", "hourly_price_rule", "offer_count", "position"]
    list_filter = ["kind", "hourly_price_rule"]
    search_fields = ["name", "slug", "tagline"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    inlines = [OfferInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductFamily]:
        return super().get_queryset(request).annotate(n_offers=Count("offers"))

    @admin.display(description=_("offers"), ordering="n_offers")
    def offer_count(self, obj: Any) -> int:
        return int(obj.n_offers)


@admin.register(GpuModel)
class GpuModelAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "vendor", "vram_gb", "pci_ids"]
    list_filter = ["vendor", "vram_gb"]
    search_fields = ["name", "slug", "pci_device_id"]

    @admin.display(description=_("PCI id"))
    def pci_ids(self, obj: GpuModel) -> str:
        return f"{obj.pci_vendor_id}:{obj.pci_device_id}" if obj.pci_device_id else "—"


class DatacentreGpuModelInline(admin.TabularInline):  # type: ignore[type-arg]
    model = DatacentreGpuModel
    extra = 0
    autocomplete_fields = ["gpu_model"]


@admin.register(Datacentre)
class DatacentreAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "city", "country", "tier", "status", "gpu_list", "position"]
    list_filter = ["status", "country", "tier"]
    search_fields = ["code", "name", "city"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [DatacentreGpuModelInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Datacentre]:
        return super().get_queryset(request).prefetch_related("gpu_presence__gpu_model")

    @admin.display(description=_("GPU models"))
    def gpu_list(self, obj: Datacentre) -> str:
        return ", ".join(f"{p.gpu_model.name} ({p.get_presence_display()})" for p in obj.gpu_presence.all()) or "—"

    def save_formset(self, request: HttpRequest, form: Any, formset: BaseInlineFormSet, change: bool) -> None:  # type: ignore[type-arg]
        """Audit GPU presence changes made through the inline, beside the datacentre's own event."""
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            self._audit_presence(request, obj, "create")
        for obj, changed in formset.changed_objects:
            self._audit_presence(request, obj, "update", {name: str(getattr(obj, name)) for name in changed})
        for obj in formset.deleted_objects:
            self._audit_presence(request, obj, "delete")

    def _audit_presence(self, request: HttpRequest, obj: Any, verb: str, changes: dict[str, Any] | None = None) -> None:
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            actor_kind=ActorKind.STAFF,
            action=f"catalogue.datacentregpumodel.{verb}",
            target=obj if obj.pk else obj.datacentre,
            changes=changes or {"gpu_model": str(obj.gpu_model), "presence": obj.presence},
        )


class OfferAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """Computes the hourly price for families whose hourly price is derived from the monthly one."""

    class Meta:
        model = Offer
        exclude: list[str] = []  # every field: the fieldsets of OfferAdmin lay them out

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "price_hourly" in self.fields:
            self.fields["price_hourly"].required = False
            self.fields["price_hourly"].help_text = _(
                "Only for families with list hourly prices (GPU). Other families: computed as monthly / 730 "
                "(4 decimals; 6 per GB for storage) when you save."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        family, monthly = data.get("family"), data.get("price_monthly")
        if family is not None and monthly is not None:
            try:
                data["price_hourly"] = services.offer_hourly_price(
                    family=family,
                    billing_unit=data.get("billing_unit") or choices.BillingUnit.MONTH,
                    monthly=Decimal(monthly),
                    listed=data.get("price_hourly"),
                )
            except ApplicationError as exc:
                raise ValidationError({"price_hourly": exc.message}) from exc
            # Keep the instance in step so model validation sees the computed value.
            self.instance.price_hourly = data["price_hourly"]
        return data


@admin.register(Offer)
class OfferAdmin(AuditedModelAdmin):
    form = OfferAdminForm
    list_display = [
        "code",
        "family",
        "tier",
        "status",
        "price_monthly",
        "price_hourly",
        "vcpu",
        "ram_gb",
        "gpu_summary",
        "snapshot_quota",
    ]
    list_filter = ["family", "status", "tier", "gpu_model", "datacentres", "billing_unit"]
    search_fields = ["code", "name", "description"]
    list_select_related = ["family", "gpu_model"]
    filter_horizontal = ["datacentres"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["activate_offers", "hide_offers", "retire_offers"]
    save_on_top = True
    fieldsets = [
        (None, {"fields": ["family", "code", "name", "tier", "status", "position", "description", "datacentres"]}),
        (_("Price (EUR, excl. VAT)"), {"fields": ["billing_unit", "price_monthly", "price_hourly"]}),
        (
            _("Compute"),
            {
                "fields": [
                    "vcpu",
                    "cpu_model",
                    "ram_gb",
                    "disk_gb",
                    "storage_type",
                    ("bandwidth_tb", "bandwidth_unlimited"),
                    "sla_percent",
                    "snapshot_quota",
                ]
            },
        ),
        (_("GPU"), {"fields": ["gpu_model", "gpu_count", "gpu_vram_gb"], "classes": ["collapse"]}),
        (
            _("Web hosting (storage and bandwidth above)"),
            {
                "fields": [
                    ("web_sites", "web_sites_unlimited"),
                    ("web_databases", "web_databases_unlimited"),
                    ("web_mailboxes", "web_mailboxes_unlimited"),
                ],
                "classes": ["collapse"],
            },
        ),
        (
            _("PaaS"),
            {
                "fields": [
                    ("paas_containers", "paas_kubernetes_cluster"),
                    ("paas_ram_per_container_gb", "paas_ram_configurable"),
                    ("paas_deployments_per_day", "paas_deployments_per_day_unlimited"),
                ],
                "classes": ["collapse"],
            },
        ),
        (
            _("Load balancer"),
            {
                "fields": [
                    ("lb_backends", "lb_backends_unlimited"),
                    ("lb_requests_per_second", "lb_requests_per_second_or_more"),
                    "lb_protocols",
                ],
                "classes": ["collapse"],
            },
        ),
        (
            _("Block storage (type above)"),
            {
                "fields": [("storage_iops_per_tb", "storage_iops_per_tb_or_more"), "storage_latency_ms"],
                "classes": ["collapse"],
            },
        ),
        (
            _("CDN"),
            {
                "fields": [("cdn_pops", "cdn_pops_or_more"), "cdn_coverage", "cdn_traffic_tb", "cdn_waf"],
                "classes": ["collapse"],
            },
        ),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Sold offers are referenced by orders and instances: retire, never delete.
        return False

    @admin.display(description=_("GPU"))
    def gpu_summary(self, obj: Offer) -> str:
        return f"{obj.gpu_count}× {obj.gpu_model}" if obj.gpu_model else "—"

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Offer], status: str) -> None:
        changed = services.offers_set_status(
            actor=request.user,  # type: ignore[arg-type]
            offers=queryset,
            status=status,
            actor_kind=ActorKind.STAFF,
        )
        label = choices.OfferStatus(status).label
        self.message_user(
            request,
            ngettext("%(n)d offer set to %(status)s.", "%(n)d offers set to %(status)s.", changed)
            % {"n": changed, "status": label},
            messages.SUCCESS,
        )

    @admin.action(description=_("Activate selected offers (listed and orderable)"))
    def activate_offers(self, request: HttpRequest, queryset: QuerySet[Offer]) -> None:
        self._set_status(request, queryset, choices.OfferStatus.ACTIVE)

    @admin.action(description=_("Hide selected offers (orderable by code, not listed)"))
    def hide_offers(self, request: HttpRequest, queryset: QuerySet[Offer]) -> None:
        self._set_status(request, queryset, choices.OfferStatus.HIDDEN)

    @admin.action(description=_("Retire selected offers (no new orders)"))
    def retire_offers(self, request: HttpRequest, queryset: QuerySet[Offer]) -> None:
        self._set_status(request, queryset, choices.OfferStatus.RETIRED)


@admin.register(OsImage)
class OsImageAdmin(AuditedModelAdmin):
    list_display = ["__str__", "slug", "os_type", "support", "windows_licensing", "status", "min_ram_gb", "position"]
    list_filter = ["os_type", "support", "status", "family"]
    search_fields = ["slug", "family", "version"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(GpuSoftwareStack)
class GpuSoftwareStackAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "base_image", "cuda_version", "cudnn_version", "tensorrt_version", "status"]
    list_filter = ["status", "cuda_version", "base_image"]
    search_fields = ["name", "slug", "cuda_version"]
    list_select_related = ["base_image"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(CapacityEnvelope)
class CapacityEnvelopeAdmin(AuditedModelAdmin):
    """Staff tune oversell and target utilisation here (editable in the list)."""

    list_display = [
        "__str__",
        "resource",
        "gpu_model",
        "physical_capacity",
        "unit",
        "oversell_ratio",
        "target_utilisation",
        "sellable_seed",
    ]
    list_editable = ["oversell_ratio", "target_utilisation"]
    list_filter = ["resource"]
    search_fields = ["notes", "gpu_model__name"]
    list_select_related = ["gpu_model"]
    autocomplete_fields = ["gpu_model"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description=_("sellable (seed figures)"))
    def sellable_seed(self, obj: CapacityEnvelope) -> str:
        if obj.physical_capacity is None:
            return "—"
        return f"{obj.sellable(obj.physical_capacity).quantize(Decimal('1'))} {obj.unit}".strip()
