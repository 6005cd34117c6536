"""Billing admin: invoices (drafts, issuing, bank-transfer payment, credit notes), credits, VAT rates, the ledger.

Issued invoices and credit notes are read-only: every change goes through an
action that calls ``apps.billing.services``
(audited there). Staff edit the VAT rates table; invoices copy the rate they used.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.billing import services
from apps.billing.choices import CreditKind, CreditNoteKind, InvoiceStatus
from apps.billing.models import (
    CreditGrant,
    CreditNote,
    Invoice,
    InvoiceLine,
    MeteringRun,
    UsageRecord,
    VatRate,
)
from apps.billing.rules.rating import month_bounds
from apps.billing.services.invoicing import credit_note_creditable
from apps.core.admin_audit import AuditedModelAdmin
from apps.core.errors import ApplicationError


def _each(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    queryset: QuerySet[Any],
    call: Callable[[Any], Any],
    done: str,
) -> None:
    count = 0
    for obj in queryset:
        try:
            call(obj)
            count += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if count:
        modeladmin.message_user(request, done % {"n": count}, messages.SUCCESS)


class InvoiceLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = (
        "position",
        "description",
        "project_name",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "amount",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvoiceDraftForm(forms.ModelForm):  # type: ignore[type-arg]
    """Adding an invoice builds the draft of one organisation's month from its usage."""

    class Meta:
        model = Invoice
        fields = ("organisation", "period_start")
        labels = {"period_start": _("Month (any day in it)")}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organisation, day = data.get("organisation"), data.get("period_start")
        if organisation and day:
            start, end = month_bounds(date(day.year, day.month, 1))
            if not UsageRecord.objects.filter(organisation=organisation, hour__gte=start, hour__lt=end).exists():
                raise forms.ValidationError(
                    _("This organisation has no usage that month: there is nothing to invoice.")
                )
            if (
                Invoice.objects.filter(organisation=organisation, period_start=date(day.year, day.month, 1))
                .exclude(status=InvoiceStatus.DRAFT)
                .exists()
            ):
                raise forms.ValidationError(_("This month's invoice is already issued."))
        return data

    def validate_unique(self) -> None:
        return  # a draft of that month is refreshed, not duplicated


class CreditNoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("Settlement"), choices=CreditNoteKind.choices)
    net_amount = forms.DecimalField(label=_("Amount excl. VAT (EUR)"), min_value=Decimal("0.01"), decimal_places=2)
    reason = forms.CharField(label=_("Reason (printed)"), max_length=300)


@admin.register(Invoice)
class InvoiceAdmin(AuditedModelAdmin):
    list_display = ("__str__", "organisation", "period_start", "status", "total", "amount_due", "issued_at", "due_at")
    list_filter = ("status", "vat_treatment", "period_start")
    search_fields = ("number", "organisation__name", "organisation__slug", "buyer_name", "buyer_vat_id")
    list_select_related = ("organisation",)
    date_hierarchy = "period_start"
    inlines = [InvoiceLineInline]
    actions = ["refresh_drafts", "issue_invoices", "mark_paid_bank_transfer", "issue_credit_note"]
    exclude = ("pdf",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = InvoiceDraftForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("organisation", "period_start")
        return [f.name for f in Invoice._meta.fields if f.name not in ("id", "pdf")]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return [f.name for f in Invoice._meta.fields if f.name not in ("id", "pdf", "notes")]

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return [InvoiceLineInline] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # staff notes only
            return
        draft = services.invoice_draft_build(
            organisation=form.cleaned_data["organisation"], month=form.cleaned_data["period_start"], actor=request.user
        )
        if draft is None:  # the form checked there is usage; a race removed it
            return
        obj.pk, obj.public_id, obj.period_start = draft.pk, draft.public_id, draft.period_start

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.status == InvoiceStatus.DRAFT

    @admin.action(description=_("Refresh the selected drafts from the usage"))
    def refresh_drafts(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        _each(
            self,
            request,
            queryset.select_related("organisation"),
            lambda i: services.invoice_draft_build(
                organisation=i.organisation, month=i.period_start, actor=request.user
            ),
            str(_("%(n)d draft(s) refreshed.")),
        )

    @admin.action(description=_("Issue the selected drafts (number, PDF, e-mail)"))
    def issue_invoices(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        _each(
            self,
            request,
            queryset.order_by("period_start", "id"),
            lambda i: services.invoice_issue(invoice=i, actor=request.user),
            str(_("%(n)d invoice(s) issued.")),
        )

    @admin.action(description=_("Mark paid (bank transfer received)"))
    def mark_paid_bank_transfer(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        from apps.billing.services import invoice_mark_paid

        _each(
            self,
            request,
            queryset,
            lambda i: invoice_mark_paid(invoice=i, actor=request.user, reference="bank transfer"),
            str(_("%(n)d invoice(s) marked paid.")),
        )

    @admin.action(description=_("Issue a credit note for the selected invoice"))
    def issue_credit_note(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one invoice."), messages.ERROR)
            return None
        invoice = queryset.get()
        form = CreditNoteForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                note = services.credit_note_issue(invoice=invoice, actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                for field, errors in (exc.fields or {}).items():
                    if field in form.fields:
                        for error in errors:
                            form.add_error(field, error)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, _("Credit note %(number)s issued.") % {"number": note.number}, messages.SUCCESS
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "objects": [invoice],
            "action": "issue_credit_note",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "title": _("Issue a credit note"),
            "intro": _(
                "Still creditable on %(number)s: %(amount)s EUR excl. VAT. VAT is added at the invoice's rate "
                "(%(rate)s %%). An open invoice is reduced (in full: voided); a paid one is credited to the "
                "prepaid balance or refunded."
            )
            % {
                "number": invoice.number,
                "amount": credit_note_creditable(invoice),
                "rate": invoice.vat_rate,
            },
            "submit_label": _("Issue the credit note"),
        }
        return render(request, "admin/billing/invoices_action_form.html", context)


@admin.register(CreditNote)
class CreditNoteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: credit notes are issued from an invoice (action "Issue a credit note")."""

    list_display = ("number", "invoice", "organisation", "kind", "net_amount", "vat_amount", "total", "issued_at")
    list_filter = ("kind",)
    search_fields = ("number", "invoice__number", "organisation__name")
    list_select_related = ("invoice", "organisation")
    exclude = ("pdf",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in CreditNote._meta.fields if f.name not in ("id", "pdf")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CreditGrantForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CreditGrant
        fields = ("organisation", "kind", "amount", "description", "expires_at")

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount is None or amount <= 0:
            raise forms.ValidationError(_("The amount must be more than 0."))
        return amount

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(_("The expiry must be in the future."))
        return expires_at


@admin.register(CreditGrant)
class CreditGrantAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Staff grant prepaid balance or promotional credit; a grant is never edited afterwards (it is audited)."""

    list_display = ("organisation", "kind", "description", "amount", "remaining", "expires_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("organisation__name", "organisation__slug", "description")
    list_select_related = ("organisation",)
    form = CreditGrantForm

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return [f.name for f in CreditGrant._meta.fields if f.name != "id"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        grant = services.credit_grant(
            organisation=form.cleaned_data["organisation"],
            kind=form.cleaned_data["kind"] or CreditKind.PROMOTIONAL,
            amount=form.cleaned_data["amount"],
            description=form.cleaned_data["description"],
            expires_at=form.cleaned_data.get("expires_at"),
            actor=request.user,
        )
        obj.pk, obj.public_id = grant.pk, grant.public_id

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(VatRate)
class VatRateAdmin(AuditedModelAdmin):
    list_display = ("country", "rate", "notes", "updated_at")
    search_fields = ("country",)
    ordering = ("country",)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ("hour", "organisation", "resource_type", "resource_name", "description", "quantity", "amount")
    list_filter = ("resource_type", "hour")
    search_fields = ("resource_name", "resource_id", "organisation__name", "description")
    list_select_related = ("organisation",)
    date_hierarchy = "hour"
    show_full_result_count = False


@admin.register(MeteringRun)
class MeteringRunAdmin(ReadOnlyAdmin):
    list_display = ("hour", "records_created", "duration_ms", "created_at")
    date_hierarchy = "hour"
