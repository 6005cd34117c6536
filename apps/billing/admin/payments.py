"""Billing admin: billing accounts (VAT id validation, Stripe customer, dunning overrides), the dunning policy,
and received Stripe webhook events.

Dunning state only changes through actions that call ``apps.billing.services.dunning``
(pause until a date, lift a suspension now, restart the timeline, run the
step now), so every override is audited and notified like the scheduled run.
Webhook events are read-only; "reprocess" runs one again (handlers are idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.billing import services
from apps.billing.models import BillingAccount, DunningPolicy, StripeWebhookEvent
from apps.core.admin_audit import AuditedModelAdmin
from apps.core.errors import ApplicationError


class PauseForm(forms.Form):
    until = forms.DateTimeField(
        label=_("Pause dunning until"),
        help_text=_("No reminder, suspension or termination runs before then (YYYY-MM-DD HH:MM)."),
    )

    def clean_until(self) -> Any:
        until = self.cleaned_data["until"]
        if until <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."))
        return until


@admin.register(BillingAccount)
class BillingAccountAdmin(AuditedModelAdmin):
    list_display = (
        "organisation",
        "dunning_state",
        "past_due_since",
        "dunning_paused_until",
        "vat_id_validated",
        "stripe_customer",
    )
    list_filter = ("dunning_state",)
    search_fields = ("organisation__name", "organisation__slug", "organisation__vat_id", "stripe_customer__id")
    list_select_related = ("organisation",)
    fieldsets = (
        (None, {"fields": ("organisation", "address", "payment_terms_days")}),
        (
            _("VAT id"),
            {"fields": ("organisation_vat_id", "vat_id_validated", "vat_id_validated_at", "vat_id_validated_by")},
        ),
        (_("Stripe"), {"fields": ("stripe_customer",)}),
        (
            _("Dunning"),
            {
                "fields": (
                    "dunning_state",
                    "past_due_since",
                    "reminders_sent",
                    "last_reminder_at",
                    "suspended_at",
                    "terminated_at",
                    "dunning_paused_until",
                    "stopped_instance_ids",
                ),
                "description": _("Use the actions of the list to pause, lift or restart dunning."),
            },
        ),
    )
    readonly_fields = (
        "organisation",
        "organisation_vat_id",
        "vat_id_validated",
        "vat_id_validated_at",
        "vat_id_validated_by",
        "stripe_customer",
        "dunning_state",
        "past_due_since",
        "reminders_sent",
        "last_reminder_at",
        "suspended_at",
        "terminated_at",
        "dunning_paused_until",
        "stopped_instance_ids",
    )
    actions = ("mark_vat_validated", "pause_dunning", "resume_dunning", "lift_now", "restart_dunning", "run_step")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created with the organisation's first billing use

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("VAT id (organisation)"))
    def organisation_vat_id(self, obj: BillingAccount) -> str:
        return obj.organisation.vat_id or "—"

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[BillingAccount],
        call: Callable[[BillingAccount], Any],
        done_message: str,
    ) -> None:
        done = 0
        for account in queryset.select_related("organisation"):
            try:
                call(account)
            except ApplicationError as exc:
                self.message_user(request, f"{account.organisation}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Mark VAT id validated (checked in VIES)"))
    def mark_vat_validated(self, request: HttpRequest, queryset: QuerySet[BillingAccount]) -> None:
        from apps.billing.services import vat_id_mark_validated

        self._each(
            request,
            queryset,
            lambda a: vat_id_mark_validated(organisation=a.organisation, actor=request.user, source="staff"),
            str(_("%(n)d VAT id(s) marked validated.")),
        )

    @admin.action(description=_("Pause dunning until a date"))
    def pause_dunning(self, request: HttpRequest, queryset: QuerySet[BillingAccount]) -> HttpResponse | None:
        form = PauseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            until = form.cleaned_data["until"]
            self._each(
                request,
                queryset,
                lambda a: services.dunning_pause(account=a, until=until, actor=request.user),
                str(_("Dunning paused for %(n)d account(s).")),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "objects": queryset.select_related("organisation"),
            "action": "pause_dunning",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "title": _("Pause dunning"),
            "intro": _("Reminders, suspension and termination wait until this time; nothing else changes."),
            "submit_label": _("Pause"),
        }
        return render(request, "admin/billing/payments_action_form.html", context)

    @admin.action(description=_("Resume dunning now (end the pause)"))
    def resume_dunning(self, request: HttpRequest, queryset: QuerySet[BillingAccount]) -> None:
        now = timezone.now()
        self._each(
            request,
            queryset,
            lambda a: services.dunning_pause(account=a, until=now, actor=request.user),
            str(_("Dunning resumed for %(n)d account(s).")),
        )

    @admin.action(description=_("Lift suspension now (servers started again)"))
    def lift_now(self, request: HttpRequest, queryset: QuerySet[BillingAccount]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.dunning_lift_now(account=a, actor=request.user),
            str(_("%(n)d account(s) lifted. Where invoices are still overdue, dunning is paused for a grace period.")),
        )

    @admin.action(description=_("Restart dunning from today"))
    def restart_dunning(self, request: HttpRequest, queryset: QuerySet[BillingAccount]) -> None:
        self._each(
            request,
            queryset,
            lambda a: services.dunning_restart(account=a, actor=request.user),
            str(_("Dunning restarted for %(n)d account(s).")),
        )

    @admin.action(description=_("Run the dunning step now"))
    def run_step(self, request: HttpRequest, queryset: QuerySet[BillingAccount]) -> None:
        for account in queryset:
            done = services.dunning_step(account=account)
            self.message_user(request, f"{account}: {done or _('nothing to do')}", messages.INFO)


@admin.register(DunningPolicy)
class DunningPolicyAdmin(AuditedModelAdmin):
    list_display = ("__str__", "reminder_days", "suspend_after_days", "terminate_after_days", "updated_at")
    fields = ("reminder_days", "suspend_after_days", "terminate_after_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not DunningPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        current = DunningPolicy.current()
        return {
            "reminder_days": current.reminder_days,
            "suspend_after_days": current.suspend_after_days,
            "terminate_after_days": current.terminate_after_days,
        }

    def save_model(self, request: HttpRequest, obj: DunningPolicy, form: Any, change: bool) -> None:
        days = obj.reminder_days
        if not isinstance(days, list) or not all(isinstance(d, int) and d >= 0 for d in days):
            obj.reminder_days = sorted({int(d) for d in (days or [])})
        super().save_model(request, obj, form, change)


@admin.register(StripeWebhookEvent)
class StripeWebhookEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("event_id", "type", "status", "attempts", "created", "received_at", "claimed_at", "processed_at")
    list_filter = ("status", "type", "livemode")
    search_fields = ("event_id", "type")
    date_hierarchy = "received_at"
    readonly_fields = (
        "event_id",
        "type",
        "created",
        "livemode",
        "status",
        "attempts",
        "received_at",
        "claimed_at",
        "processed_at",
        "error",
        "pretty_payload",
    )
    exclude = ("payload",)
    actions = ("reprocess",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("payload"))
    def pretty_payload(self, obj: StripeWebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    @admin.action(description=_("Reprocess (handlers are idempotent)"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[StripeWebhookEvent]) -> None:
        count = 0
        for event in queryset:
            services.event_reprocess(event=event, actor=request.user)
            count += 1
        self.message_user(request, _("%(n)d event(s) queued again.") % {"n": count}, messages.SUCCESS)
