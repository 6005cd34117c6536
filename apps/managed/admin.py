"""Back office for managed services: every service, the fulfilment queue and the lifecycle actions.

Services are read-only here: state only changes through admin actions and the
delivery form, which call ``apps.managed.services`` (suspend, resume and
terminate with a reason, record usage, deliver), so every change follows the
state machine and leaves a transition and an audit event. Secret values are
never shown: staff see credential names and whether the customer revealed them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.admin_audit import AuditedModelAdmin, StaffActionsMixin
from apps.core.errors import ApplicationError
from apps.managed import selectors, services
from apps.managed.backends import is_staff_fulfilled
from apps.managed.choices import ServiceFamily, ServiceState
from apps.managed.models import (
    FulfilmentQueueService,
    ManagedService,
    ManagedServiceQuota,
    ServicePricePeriod,
    ServiceSecret,
    ServiceTransition,
    ServiceUsage,
)

# The credentials each family's delivery form asks for (name → label); more can be added line by line.
FAMILY_CREDENTIALS: dict[str, list[tuple[str, Any]]] = {
    ServiceFamily.WEB_HOSTING: [
        ("panel_username", _("Control panel user")),
        ("panel_password", _("Control panel password")),
        ("sftp_username", _("SFTP user")),
        ("sftp_password", _("SFTP password")),
        ("database_password", _("Database password")),
    ],
    ServiceFamily.PAAS: [
        ("deploy_token", _("Deploy token (CI/CD webhook)")),
        ("registry_username", _("Private registry user")),
        ("registry_password", _("Private registry password")),
    ],
    ServiceFamily.CDN: [
        ("api_key", _("CDN API key (purge, statistics)")),
    ],
    ServiceFamily.LOAD_BALANCER: [
        ("stats_password", _("Statistics page password")),
    ],
}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (kept in the service's history, shown to the customer)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )


class UsageForm(forms.Form):
    metric = forms.CharField(
        label=_("Metric"), max_length=64, help_text=_("A limit of the tier, e.g. storage_gb, bandwidth_gb, sites.")
    )
    value = forms.DecimalField(label=_("Value"), min_value=0, max_digits=16, decimal_places=3)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class DeliveryForm(forms.Form):
    """The structured delivery form of one family: endpoints, hostnames, that family's credentials, notes."""

    urls = forms.CharField(
        label=_("Endpoints (URLs), one per line"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    hostnames = forms.CharField(
        label=_("Hostnames, one per line"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    extra_credentials = forms.CharField(
        label=_("Other credentials, one name=value per line"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    notes = forms.CharField(
        label=_("Delivery notes (shown to the customer)"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args: Any, family: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in FAMILY_CREDENTIALS.get(family, []):
            self.fields[f"credential_{name}"] = forms.CharField(
                label=label, required=False, widget=forms.PasswordInput(render_value=False)
            )
        self.credential_names = [name for name, _label in FAMILY_CREDENTIALS.get(family, [])]

    def clean_extra_credentials(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in _lines(self.cleaned_data.get("extra_credentials", "")):
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise forms.ValidationError(_("Write each credential as name=value."))
            out[name.strip()] = value.strip()
        return out

    def delivery(self) -> dict[str, Any]:
        data = self.cleaned_data
        credentials = {n: data[f"credential_{n}"] for n in self.credential_names if data.get(f"credential_{n}")}
        credentials.update(data.get("extra_credentials") or {})
        return {
            "endpoints": {"urls": _lines(data.get("urls", "")), "hostnames": _lines(data.get("hostnames", ""))},
            "credentials": credentials,
            "notes": data.get("notes", ""),
        }


class _ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceTransitionInline(_ReadOnlyInline):
    model = ServiceTransition
    fields = ("created_at", "from_state", "to_state", "actor_label", "reason")
    readonly_fields = fields


class ServicePricePeriodInline(_ReadOnlyInline):
    model = ServicePricePeriod
    fields = ("offer", "price_hourly", "price_monthly", "started_at", "ended_at")
    readonly_fields = fields


class ServiceUsageInline(_ReadOnlyInline):
    model = ServiceUsage
    fields = ("recorded_at", "metric", "value", "note", "recorded_by")
    readonly_fields = fields


class ServiceSecretInline(_ReadOnlyInline):
    """Names only: values stay encrypted (``apps.infrastructure.rules.crypto``) and are never shown here."""

    model = ServiceSecret
    fields = ("kind", "name", "created_at", "revealed_at")
    readonly_fields = fields
    verbose_name_plural = _("secrets (names only)")


class ManagedServiceAdmin(StaffActionsMixin, AuditedModelAdmin):
    """Every managed service per organisation, family and state, with its history, billing and usage."""

    list_display = [
        "name",
        "organisation",
        "project",
        "family",
        "offer",
        "state",
        "activated_at",
        "ended_at",
        "created_at",
    ]
    list_filter = ["family", "state", "offer", "organisation", "delete_protection"]
    search_fields = ("public_id", "name", "organisation__name", "organisation__slug", "backend_ref")
    list_select_related = ("organisation", "project", "offer")
    date_hierarchy = "created_at"
    inlines = [ServiceTransitionInline, ServicePricePeriodInline, ServiceUsageInline, ServiceSecretInline]
    actions = ["suspend", "resume", "terminate", "record_usage"]
    fieldsets = (
        (None, {"fields": ("public_id", "name", "state", "state_reason", "organisation", "project", "created_by")}),
        (_("Tier"), {"fields": ("family", "offer", "datacentre", "price_hourly", "price_monthly")}),
        (_("Configuration (validated order data)"), {"fields": ("config", "labels", "delete_protection")}),
        (
            _("Delivery"),
            {
                "fields": (
                    "deliver_link",
                    "endpoints",
                    "delivery_notes",
                    "backend_ref",
                    "backend_task",
                    "backend_operation",
                    "backend_claimed_at",
                )
            },
        ),
        (_("Dates"), {"fields": ("created_at", "fulfilment_started_at", "activated_at", "ended_at")}),
    )

    @admin.display(description=_("deliver"))
    def deliver_link(self, obj: ManagedService) -> str:
        if obj is None or obj.state not in (ServiceState.PROVISIONING, ServiceState.CHANGING):
            return "—"
        url = reverse("admin:managed_fulfilmentqueueservice_deliver", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Open the delivery form"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ManagedService._meta.concrete_fields] + ["deliver_link"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # services are bought by customers (orders), never typed in

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # -- actions -------------------------------------------------------------
    def action_row_label(self, obj: ManagedService) -> str:
        return f"{obj.offer.code} “{obj.name}” — {obj.organisation.name} ({obj.get_state_display()})"

    @admin.action(description=_("Suspend (with a reason)"))
    def suspend(self, request: HttpRequest, queryset: QuerySet[ManagedService]) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            form_class=ReasonForm,
            action="suspend",
            title=str(_("Suspend services")),
            intro=str(_("The service stops serving and stays billed until it is resumed or terminated.")),
            submit_label=str(_("Suspend")),
            call=lambda s, data: services.service_suspend(service=s, actor=request.user, reason=data["reason"]),
            done_message=str(_("%(n)d service(s) suspended.")),
        )

    @admin.action(description=_("Resume (with a reason)"))
    def resume(self, request: HttpRequest, queryset: QuerySet[ManagedService]) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            form_class=ReasonForm,
            action="resume",
            title=str(_("Resume services")),
            intro=str(_("The suspended services serve again.")),
            submit_label=str(_("Resume")),
            call=lambda s, data: services.service_resume(service=s, actor=request.user, reason=data["reason"]),
            done_message=str(_("%(n)d service(s) resumed.")),
        )

    @admin.action(description=_("Terminate (with a reason; billing stops now)"))
    def terminate(self, request: HttpRequest, queryset: QuerySet[ManagedService]) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            form_class=ReasonForm,
            action="terminate",
            title=str(_("Terminate services")),
            intro=str(
                _(
                    "The services end for good, delete protection or not; billing stops at this hour. "
                    "This cannot be undone."
                )
            ),
            submit_label=str(_("Terminate")),
            call=lambda s, data: services.service_terminate(service=s, actor=request.user, reason=data["reason"]),
            done_message=str(_("%(n)d service(s) terminated.")),
        )

    @admin.action(description=_("Record usage"))
    def record_usage(self, request: HttpRequest, queryset: QuerySet[ManagedService]) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            form_class=UsageForm,
            action="record_usage",
            title=str(_("Record usage")),
            intro=str(_("Usage against the tier's limits, as read on the hosting panel, Nomad or the CDN.")),
            submit_label=str(_("Record")),
            call=lambda s, data: services.service_usage_record(
                service=s, actor=request.user, metric=data["metric"], value=data["value"], note=data["note"]
            ),
            done_message=str(_("Usage recorded for %(n)d service(s).")),
        )


admin.site.register(ManagedService, ManagedServiceAdmin)


@admin.register(FulfilmentQueueService)
class FulfilmentQueueAdmin(ManagedServiceAdmin):
    """Services staff deliver by hand (staff-backed families), provisioning or changing tier, oldest first."""

    list_display = [
        "name",
        "organisation",
        "family",
        "offer",
        "state",
        "datacentre",
        "created_at",
        "fulfilment_started_at",
        "deliver_link",
    ]
    list_filter = ["family", "state", "offer"]
    actions = ["fulfilment_start", "terminate"]

    @admin.action(description=_("Start work (the customer can no longer cancel the order)"))
    def fulfilment_start(self, request: HttpRequest, queryset: QuerySet[ManagedService]) -> None:
        self._each(
            request,
            queryset,
            lambda s: services.service_fulfilment_start(service=s, actor=request.user),
            str(_("Work started on %(n)d service(s).")),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ManagedService]:
        return selectors.fulfilment_queue()

    def get_urls(self) -> list[Any]:
        deliver = path(
            "<int:pk>/deliver/",
            self.admin_site.admin_view(self.deliver_view),
            name="managed_fulfilmentqueueservice_deliver",
        )
        return [deliver, *super().get_urls()]

    def deliver_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The family's structured delivery form; submitting it calls ``service_deliver``."""
        if not self.has_change_permission(request) and not self.has_view_permission(request):
            raise DjangoPermissionDenied
        service = get_object_or_404(ManagedService.objects.select_related("offer", "organisation"), pk=pk)
        if not is_staff_fulfilled(service.family):
            raise Http404  # an automated backend builds it (a load balancer): staff deliver nothing by hand
        form = DeliveryForm(request.POST or None, family=service.family)
        if request.method == "POST" and form.is_valid():
            try:
                services.service_deliver(service=service, actor=request.user, **form.delivery())
            except ApplicationError as exc:
                for field, errors in exc.fields.items():
                    form.add_error(field if field in form.fields else None, errors)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                self.message_user(request, _("%(name)s is delivered.") % {"name": service.name}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:managed_fulfilmentqueueservice_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Deliver %(name)s") % {"name": service.name},
            "service": service,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/managed/deliver.html", context)


@admin.register(ManagedServiceQuota)
class ManagedServiceQuotaAdmin(AuditedModelAdmin):
    """Staff raise or lower an organisation's managed services limit; blank means ``MANAGED_DEFAULT_QUOTAS``."""

    list_display = ["organisation", "max_services", "notes", "updated_at"]
    search_fields = ("organisation__name", "organisation__slug")
    autocomplete_fields = ("organisation",)
