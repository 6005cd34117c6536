"""Back office for the fleet: clusters, nodes, GPUs, storages, templates, IP pools, the ledger.

Staff edits are audited (``AuditedModelAdmin``). Rows that carry ledger
counters (nodes, GPUs, storages) are saved with ``update_fields`` limited to
what the form changed, so an admin save can never write back a stale counter
over a placement that committed meanwhile. State changes (drain, faulty,
release, sync) go through the services as admin actions. The cluster's token
secret is write-only: the form has an empty password field, and the secret is
never rendered.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.admin_audit import AuditedModelAdmin
from apps.core.errors import ApplicationError
from apps.infrastructure import selectors, services
from apps.infrastructure.models import (
    Cluster,
    ClusterStorage,
    DatacentreCapacity,
    GpuDevice,
    IpAllocation,
    IpPool,
    Node,
    Reservation,
    Storage,
    SyncReport,
    VmidAllocation,
    VmTemplate,
)
from apps.infrastructure.proxmox import ProxmoxError


class PartialSaveMixin(admin.ModelAdmin):  # type: ignore[type-arg]
    """On change, save only the fields the form changed (never the ledger counters it did not show)."""

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        if change:
            fields = [f for f in form.changed_data if f in {field.name for field in obj._meta.concrete_fields}]
            if fields:
                if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
                    fields.append("updated_at")
                obj.save(update_fields=fields)
        else:
            obj.save()


class MissingFilter(admin.SimpleListFilter):
    title = _("drift")
    parameter_name = "missing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Missing from the cluster")), ("no", _("Present"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(missing_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(missing_since__isnull=True)
        return queryset


# ---------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------
class ClusterAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    token_secret = forms.CharField(
        label=_("API token secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only: stored encrypted, never shown. Leave empty to keep the current secret."),
    )

    class Meta:
        model = Cluster
        fields = [
            "name",
            "datacentre",
            "status",
            "api_url",
            "token_id",
            "token_secret",
            "tls_ca_pem",
            "tls_ca_file",
            "tls_fingerprint",
            "vmid_range_start",
            "vmid_range_end",
            "snippets_storage",
            "snippets_path",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and not data.get("token_secret"):
            self.add_error("token_secret", _("A new cluster needs its API token secret."))
        return data


class SyncReportInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SyncReport
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-started_at"]
    fields = ["started_at", "status", "counts", "drift_count", "error"]
    readonly_fields = ["started_at", "status", "counts", "drift_count", "error"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncReport]:
        return super().get_queryset(request).order_by("-started_at")

    @admin.display(description=_("drift"))
    def drift_count(self, obj: SyncReport) -> int:
        return len(obj.drift or [])


@admin.register(Cluster)
class ClusterAdmin(AuditedModelAdmin):
    form = ClusterAdminForm
    list_display = ["name", "datacentre", "status", "sync_status", "last_sync_at", "vmid_range", "has_secret"]
    list_filter = ["datacentre", "status", "sync_status"]
    search_fields = ["name", "api_url", "token_id"]
    readonly_fields = ["sync_status", "last_sync_at", "last_sync_error", "vmid_cursor"]
    inlines = [SyncReportInline]
    actions = ["sync_now"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return [
            (None, {"fields": ["name", "datacentre", "status"]}),
            (
                _("API"),
                {"fields": ["api_url", "token_id", "token_secret", "tls_ca_pem", "tls_ca_file", "tls_fingerprint"]},
            ),
            (_("VMID range owned by the platform"), {"fields": ["vmid_range_start", "vmid_range_end", "vmid_cursor"]}),
            (
                _("Cloud-init user-data (snippets)"),
                {
                    "fields": ["snippets_storage", "snippets_path"],
                    "description": _(
                        "Customers' user-data is written as a vendor-data snippet into this shared storage "
                        "(docs: Instances, operators). Leave both empty to refuse user-data in this cluster."
                    ),
                },
            ),
            (_("Sync"), {"fields": ["sync_status", "last_sync_at", "last_sync_error"]}),
        ]

    @admin.display(description=_("VMIDs"))
    def vmid_range(self, obj: Cluster) -> str:
        return f"{obj.vmid_range_start}–{obj.vmid_range_end}"

    @admin.display(description=_("secret set"), boolean=True)
    def has_secret(self, obj: Cluster) -> bool:
        return obj.has_token_secret

    def save_model(self, request: HttpRequest, obj: Cluster, form: forms.ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        data = form.cleaned_data
        fields = {name: data[name] for name in services.fleet.CLUSTER_FIELDS if name in data}
        try:
            if change:
                updated = services.cluster_update(
                    cluster=Cluster.objects.get(pk=obj.pk),
                    actor=request.user,  # type: ignore[arg-type]
                    token_secret=data.get("token_secret") or None,
                    datacentre=data["datacentre"],
                    **fields,
                )
            else:
                updated = services.cluster_create(
                    datacentre=data["datacentre"],
                    token_secret=data["token_secret"],
                    actor=request.user,  # type: ignore[arg-type]
                    **fields,
                )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            raise
        obj.pk = updated.pk

    @admin.action(description=_("Sync inventory now"))
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Cluster]) -> None:
        for cluster in queryset:
            try:
                report = services.inventory_sync(cluster=cluster, actor=request.user)  # type: ignore[arg-type]
            except ProxmoxError as exc:
                self.message_user(request, _("%(c)s: sync failed: %(e)s") % {"c": cluster, "e": exc}, messages.ERROR)
                continue
            level = messages.WARNING if report.drift else messages.SUCCESS
            self.message_user(
                request,
                _("%(c)s: synced, %(n)d drift item(s).") % {"c": cluster, "n": len(report.drift)},
                level,
            )


# ---------------------------------------------------------------------------
# Nodes and GPUs
# ---------------------------------------------------------------------------
class GpuInline(admin.TabularInline):  # type: ignore[type-arg]
    model = GpuDevice
    extra = 0
    can_delete = False
    fields = ["pci_address", "gpu_model", "state", "mapping_name", "nvlink_peer_group", "missing_since"]
    readonly_fields = ["pci_address", "state", "mapping_name", "missing_since"]
    show_change_link = True


@admin.register(Node)
class NodeAdmin(AuditedModelAdmin, PartialSaveMixin):
    list_display = [
        "name",
        "cluster",
        "datacentre",
        "status",
        "maintenance",
        "cores",
        "ram_gb",
        "allocated_vcpu",
        "allocated_ram_gb",
        "gpu_count",
        "last_seen_at",
        "missing_since",
    ]
    list_filter = ["datacentre", "cluster", "status", "maintenance", MissingFilter]
    search_fields = ["name", "cpu_model", "cluster__name"]
    list_select_related = ["cluster", "datacentre"]
    fields = [
        "cluster",
        "datacentre",
        "name",
        "status",
        "maintenance",
        "maintenance_reason",
        "cpu_model",
        "cores",
        "ram_gb",
        "gpu_count",
        "allocated_vcpu",
        "allocated_ram_gb",
        "last_seen_at",
        "missing_since",
    ]
    readonly_fields = [
        "cluster",
        "datacentre",
        "name",
        "status",
        "cpu_model",
        "cores",
        "ram_gb",
        "gpu_count",
        "allocated_vcpu",
        "allocated_ram_gb",
        "last_seen_at",
        "missing_since",
    ]
    inlines = [GpuInline]
    actions = ["drain", "undrain", "recount"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # nodes come from the sync

    @admin.action(description=_("Drain (maintenance: no new VMs)"))
    def drain(self, request: HttpRequest, queryset: QuerySet[Node]) -> None:
        for node in queryset:
            services.node_set_maintenance(node=node, maintenance=True, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("%(n)d node(s) drained.") % {"n": len(queryset)}, messages.SUCCESS)

    @admin.action(description=_("Undrain (back in service)"))
    def undrain(self, request: HttpRequest, queryset: QuerySet[Node]) -> None:
        for node in queryset:
            services.node_set_maintenance(node=node, maintenance=False, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("%(n)d node(s) back in service.") % {"n": len(queryset)}, messages.SUCCESS)

    @admin.action(description=_("Recount allocations from reservations"))
    def recount(self, request: HttpRequest, queryset: QuerySet[Node]) -> None:
        for node in queryset:
            services.node_recount(node=node)
        self.message_user(request, _("Counters rebuilt."), messages.SUCCESS)


@admin.register(GpuDevice)
class GpuDeviceAdmin(AuditedModelAdmin, PartialSaveMixin):
    list_display = [
        "pci_address",
        "node",
        "gpu_model",
        "state",
        "mapping_name",
        "nvlink_peer_group",
        "iommu_group",
        "missing_since",
        "reservation_link",
    ]
    list_filter = ["state", "gpu_model", "node__datacentre", MissingFilter, "mapping_name"]
    search_fields = ["pci_address", "node__name", "mapping_name", "nvlink_peer_group", "device_name"]
    list_select_related = ["node", "node__cluster", "gpu_model", "reservation"]
    readonly_fields = [
        "node",
        "pci_address",
        "vendor_id",
        "device_id",
        "device_name",
        "iommu_group",
        "mapping_name",
        "state",
        "state_reason",
        "reservation",
        "last_seen_at",
        "missing_since",
    ]
    fields = [*readonly_fields[:6], "gpu_model", "nvlink_peer_group", *readonly_fields[6:]]
    actions = ["mark_faulty", "mark_free"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("reservation"))
    def reservation_link(self, obj: GpuDevice) -> str:
        if not obj.reservation_id:
            return "—"
        url = reverse("admin:infrastructure_reservation_change", args=[obj.reservation_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.reservation_id)[:8])

    @admin.action(description=_("Mark faulty (out of service)"))
    def mark_faulty(self, request: HttpRequest, queryset: QuerySet[GpuDevice]) -> None:
        for gpu in queryset:
            services.gpu_mark_faulty(gpu=gpu, reason="marked in the admin", actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("%(n)d GPU(s) marked faulty.") % {"n": len(queryset)}, messages.SUCCESS)

    @admin.action(description=_("Mark free (back in service)"))
    def mark_free(self, request: HttpRequest, queryset: QuerySet[GpuDevice]) -> None:
        done = 0
        for gpu in queryset:
            try:
                services.gpu_mark_free(gpu=gpu, actor=request.user)  # type: ignore[arg-type]
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{gpu}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, _("%(n)d GPU(s) back in service.") % {"n": done}, messages.SUCCESS)


@admin.register(Storage)
class StorageAdmin(AuditedModelAdmin, PartialSaveMixin):
    list_display = ["name", "cluster", "node", "type", "tier", "shared", "capacity_gb", "allocated_gb", "used_gb"]
    list_filter = ["cluster", "tier", "type", "shared", "enabled", MissingFilter]
    search_fields = ["name", "node__name", "cluster__name"]
    list_select_related = ["cluster", "node"]
    readonly_fields = [
        "cluster",
        "node",
        "name",
        "type",
        "content",
        "shared",
        "capacity_gb",
        "used_gb",
        "allocated_gb",
        "last_seen_at",
        "missing_since",
    ]
    fields = [*readonly_fields[:6], "tier", "enabled", *readonly_fields[6:]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ClusterStorage)
class ClusterStorageAdmin(AuditedModelAdmin, PartialSaveMixin):
    """Which PVE storage holds each block storage tier (docs/dev/proxmox-behaviour.md#volume-keeping).

    ``reserved_gb`` is the volumes' ledger and the sync's figures are read-only; saves write only the
    fields the form changed (``PartialSaveMixin``), never a stale ledger.
    """

    list_display = ["cluster", "tier", "storage", "node_name", "holder_vmid", "capacity_gb", "reserved_gb", "free_gb"]
    list_filter = ["cluster", "tier", "enabled"]
    search_fields = ["storage", "cluster__name", "tier__code"]
    list_select_related = ["cluster", "tier"]
    readonly_fields = ["reserved_gb", "free_gb", "last_sync_at", "last_sync_error"]
    fields = [
        "cluster",
        "tier",
        "storage",
        "node_name",
        "shared",
        "holder_vmid",
        "capacity_gb",
        "envelope_ratio",
        "enabled",
        *readonly_fields,
    ]


@admin.register(VmTemplate)
class VmTemplateAdmin(AuditedModelAdmin):
    list_display = [
        "vmid",
        "name",
        "cluster",
        "node",
        "os_image",
        "gpu_ready",
        "gpu_stack",
        "uefi_ready",
        "uefi_problem",
        "missing_since",
    ]
    list_filter = ["cluster", "gpu_ready", "uefi_ready", "os_image", MissingFilter]
    search_fields = ["name", "vmid"]
    list_select_related = ["cluster", "node", "os_image", "gpu_stack"]
    readonly_fields = [
        "cluster",
        "vmid",
        "name",
        "disk_gb",
        "uefi_ready",
        "uefi_problem",
        "last_seen_at",
        "missing_since",
    ]


class IpAllocationInline(admin.TabularInline):  # type: ignore[type-arg]
    model = IpAllocation
    extra = 0
    fields = ["address", "reservation", "note"]
    readonly_fields = ["reservation"]


@admin.register(IpPool)
class IpPoolAdmin(AuditedModelAdmin):
    list_display = ["cidr", "datacentre", "family", "gateway", "is_active", "allocated"]
    list_filter = ["datacentre", "family", "is_active"]
    search_fields = ["cidr", "name", "gateway"]
    list_select_related = ["datacentre"]
    inlines = [IpAllocationInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[IpPool]:
        return selectors.ip_pool_list(actor=request.user)  # type: ignore[arg-type]

    @admin.display(description=_("allocated"), ordering="allocated")
    def allocated(self, obj: Any) -> int:
        return int(getattr(obj, "allocated", 0))


@admin.register(IpAllocation)
class IpAllocationAdmin(AuditedModelAdmin):
    list_display = ["address", "pool", "reservation", "note", "created_at"]
    list_filter = ["pool__datacentre", "pool"]
    search_fields = ["address", "note"]
    list_select_related = ["pool", "pool__datacentre", "reservation"]
    readonly_fields = ["reservation"]


@admin.register(VmidAllocation)
class VmidAllocationAdmin(AuditedModelAdmin):
    list_display = ["vmid", "cluster", "reservation", "note", "created_at"]
    list_filter = ["cluster"]
    search_fields = ["vmid", "note"]
    list_select_related = ["cluster", "reservation"]
    readonly_fields = ["reservation"]


class ExpiredReservationFilter(admin.SimpleListFilter):
    """Reservations the expiry sweep would release now (``services.expiry``): never committed, past the
    deadline, referenced by no order or instance."""

    title = _("expiry")
    parameter_name = "expired"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Unused past the deadline"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(pk__in=services.reservations_expired())
        return queryset


@admin.register(Reservation)
class ReservationAdmin(AuditedModelAdmin):
    list_display = ["id", "state", "offer", "datacentre", "node", "vmid", "gpu_count", "ipv4", "created_at"]
    list_filter = ["state", ExpiredReservationFilter, "datacentre", "gpu_model"]
    search_fields = ["id", "holder_ref", "vmid", "ipv4", "ipv6", "node__name"]
    list_select_related = ["offer", "datacentre", "node", "node__cluster"]
    actions = ["release"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Reservation._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Release (free node share, GPUs, VMID, addresses)"))
    def release(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        for reservation in queryset:
            services.placement_release(reservation=reservation, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("%(n)d reservation(s) released.") % {"n": len(queryset)}, messages.SUCCESS)


@admin.register(SyncReport)
class SyncReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["started_at", "cluster", "status", "drift_count", "finished_at"]
    list_filter = ["status", "cluster"]
    list_select_related = ["cluster"]
    readonly_fields = ["cluster", "started_at", "finished_at", "status", "counts", "drift_table", "error"]
    exclude = ["drift"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("drift"))
    def drift_count(self, obj: SyncReport) -> int:
        return len(obj.drift or [])

    @admin.display(description=_("drift"))
    def drift_table(self, obj: SyncReport) -> str:
        if not obj.drift:
            return "—"
        rows = format_html(
            "".join("<tr><td>{}</td><td>{}</td><td>{}</td></tr>" for _ in obj.drift),
            *[v for d in obj.drift for v in (d.get("kind", ""), d.get("object", ""), d.get("message", ""))],
        )
        return format_html("<table><tr><th>kind</th><th>object</th><th>message</th></tr>{}</table>", rows)


# ---------------------------------------------------------------------------
# Capacity dashboard
# ---------------------------------------------------------------------------
def _storage_tier_context(datacentres: Any) -> dict[str, Any]:
    """Block storage per tier for the capacity dashboard: reserved against the envelope, per datacentre and tier,
    and each cluster storage with its holder VMID (docs/dev/proxmox-behaviour.md#volume-keeping).

    The envelope is ``envelope_ratio`` (60 % by default) of each storage's capacity; ``reserved_gb``
    is the volumes' ledger. Disabled storages are listed but count in no total.
    """
    dc_ids = [dc.pk for dc in datacentres]
    storages = list(
        ClusterStorage.objects.filter(cluster__datacentre_id__in=dc_ids)
        .select_related("cluster__datacentre", "tier")
        .order_by("cluster__datacentre__code", "tier__position", "tier__code", "cluster__name", "id")
    )
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for row in storages:
        key = (row.cluster.datacentre.code, row.tier.code)
        line = totals.setdefault(
            key,
            {"datacentre": key[0], "tier": key[1], "storages": 0, "capacity": 0, "envelope": 0, "reserved": 0},
        )
        if row.enabled:
            line["storages"] += 1
            line["capacity"] += row.capacity_gb
            line["envelope"] += row.envelope_gb
            line["reserved"] += row.reserved_gb
        row.percent = round(100 * row.reserved_gb / row.envelope_gb) if row.envelope_gb else 0  # type: ignore[attr-defined]
    for line in totals.values():
        line["remaining"] = max(0, line["envelope"] - line["reserved"])
        line["percent"] = round(100 * line["reserved"] / line["envelope"]) if line["envelope"] else 0
    return {"storage_tiers": list(totals.values()), "tier_storages": storages}


@admin.register(DatacentreCapacity)
class DatacentreCapacityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The capacity dashboard: its changelist is a page of bars, one section per datacentre."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        datacentres = selectors.datacentres_for_capacity()
        code = request.GET.get("datacentre")
        if code:
            datacentres = [dc for dc in datacentres if dc.code == code]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Capacity: sold against sellable"),
            "views": selectors.datacentre_capacity(datacentres=datacentres),
            "opts": self.model._meta,
            "selected": code or "",
            "all_datacentres": selectors.datacentres_for_capacity(),
            **_storage_tier_context(datacentres),
        }
        return TemplateResponse(request, "admin/infrastructure/capacity_dashboard.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        dc = DatacentreCapacity.objects.filter(pk=object_id).first()
        url = reverse("admin:infrastructure_datacentrecapacity_changelist")
        return HttpResponseRedirect(f"{url}?datacentre={dc.code}" if dc else url)
