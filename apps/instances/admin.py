"""Staff back office for instances: lifecycle actions, retries, actions, SSH keys and the drift view.

Every admin action calls a service (audited there); rows are read-only here
except the staff note of a drift row, which is the reason recorded by the drift
actions: adopt (an orphan kept as a known VM, see ``services.drift_adopt``),
quarantine (the orphan stopped and tagged in Proxmox), repair (a missing VM's
instance left in error with its resources released) and resolve (bookkeeping).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.admin_audit import AuditedModelAdmin
from apps.core.errors import ApplicationError
from apps.instances import services
from apps.instances.models import Action, Drift, Instance, Snapshot, SshKey


def _each(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], call: Any) -> None:  # type: ignore[type-arg]
    done = 0
    for obj in queryset:
        try:
            call(obj)
            done += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", level=messages.ERROR)
    if done:
        modeladmin.message_user(request, _("%(n)s done.") % {"n": done}, level=messages.SUCCESS)


class ActionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Action
    fields = ["type", "status", "progress", "created_at", "finished_at", "error_code", "error_detail"]
    readonly_fields = ["type", "status", "progress", "created_at", "finished_at", "error_code", "error_detail"]
    extra = 0
    can_delete = False
    ordering = ["-created_at"]
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HostUnreachableFilter(admin.SimpleListFilter):
    """Instances whose node Proxmox cannot reach (set by reconciliation; docs page reconciliation)."""

    title = _("host")
    parameter_name = "unreachable"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Unreachable")), ("no", _("Reachable"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Instance]) -> QuerySet[Instance]:
        if self.value() == "yes":
            return queryset.filter(host_unreachable_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(host_unreachable_since__isnull=True)
        return queryset


@admin.register(Instance)
class InstanceAdmin(AuditedModelAdmin):
    list_display = [
        "name",
        "organisation",
        "status",
        "power_state",
        "host_unreachable_since",
        "offer",
        "datacentre",
        "node_name",
        "vmid",
        "ipv4",
    ]
    list_filter = ["status", "power_state", HostUnreachableFilter, "datacentre", "provision_step"]
    search_fields = ["name", "public_id", "ipv4", "ipv6", "organisation__name", "vmid"]
    list_select_related = ["organisation", "offer", "datacentre"]
    readonly_fields = [f.name for f in Instance._meta.fields]
    inlines = [ActionInline]
    actions = ["start", "stop", "retry", "fail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # instances come from orders

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleting goes through the delete action, which frees the resources

    @admin.action(description=_("Start"))
    def start(self, request: HttpRequest, queryset: QuerySet[Instance]) -> None:
        _each(self, request, queryset, lambda i: services.instance_start(instance=i, actor=request.user))

    @admin.action(description=_("Stop"))
    def stop(self, request: HttpRequest, queryset: QuerySet[Instance]) -> None:
        _each(self, request, queryset, lambda i: services.instance_stop(instance=i, actor=request.user))

    @admin.action(description=_("Retry provisioning"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Instance]) -> None:
        _each(self, request, queryset, lambda i: services.instance_retry(instance=i, actor=request.user))

    @admin.action(description=_("Mark as failed"))
    def fail(self, request: HttpRequest, queryset: QuerySet[Instance]) -> None:
        _each(
            self,
            request,
            queryset,
            lambda i: services.instance_fail(instance=i, actor=request.user, reason="failed by staff in the admin"),
        )


@admin.register(Action)
class ActionAdmin(AuditedModelAdmin):
    list_display = ["public_id", "type", "status", "progress", "instance", "created_at", "finished_at", "error_code"]
    list_filter = ["status", "type"]
    search_fields = ["public_id", "instance__name", "task_id"]
    list_select_related = ["instance"]
    readonly_fields = [f.name for f in Action._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Snapshot)
class SnapshotAdmin(AuditedModelAdmin):
    list_display = ["name", "instance", "status", "scheduled", "created_at"]
    list_filter = ["status", "scheduled"]
    readonly_fields = [f.name for f in Snapshot._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SshKey)
class SshKeyAdmin(AuditedModelAdmin):
    list_display = ["name", "organisation", "key_type", "bits", "fingerprint", "created_at"]
    search_fields = ["name", "fingerprint", "organisation__name"]
    readonly_fields = [f.name for f in SshKey._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Drift)
class DriftAdmin(AuditedModelAdmin):
    """The drift view: what reconciliation found; each action calls a ``services.drift_*`` service."""

    list_display = ["kind", "status", "cluster", "node_name", "vmid", "instance", "last_seen_at", "note"]
    list_filter = ["status", "kind", "cluster"]
    search_fields = ["vmid", "node_name", "instance__name"]
    readonly_fields = [f.name for f in Drift._meta.fields if f.name != "note"]
    actions = ["adopt", "repair", "quarantine", "resolve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _apply(self, request: HttpRequest, queryset: QuerySet[Drift], call: Any) -> None:
        # The staff note typed in the row (the one editable field) is the reason recorded with the decision.
        _each(self, request, queryset, lambda d: call(drift=d, actor=request.user, note=d.note))

    @admin.action(description=_("Adopt orphan as known (keep it, block its VMID, tag vmcloud-known; needs a note)"))
    def adopt(self, request: HttpRequest, queryset: QuerySet[Drift]) -> None:
        self._apply(request, queryset, services.drift_adopt)

    @admin.action(description=_("Repair missing VM (instance stays in error for the customer; free its resources)"))
    def repair(self, request: HttpRequest, queryset: QuerySet[Drift]) -> None:
        self._apply(request, queryset, services.drift_repair)

    @admin.action(description=_("Quarantine orphan (stop the VM in Proxmox and tag it vmcloud-quarantine)"))
    def quarantine(self, request: HttpRequest, queryset: QuerySet[Drift]) -> None:
        self._apply(request, queryset, services.drift_quarantine)

    @admin.action(description=_("Mark resolved (fixed by hand on the cluster)"))
    def resolve(self, request: HttpRequest, queryset: QuerySet[Drift]) -> None:
        self._apply(request, queryset, services.drift_resolve)
