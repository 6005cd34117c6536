"""Portal pages of billing: invoices (list, detail, PDF and CSV downloads), credit note PDFs, credits.

Login and the current organisation through ``org_view`` with ``billing.read``:
a member gets the 403 page; another organisation's invoice is a 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from apps.billing import selectors
from apps.billing.choices import CreditKind, InvoiceStatus
from apps.billing.models import CreditApplication, CreditGrant, CreditNote, Invoice
from apps.billing.selectors import credit_available
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission


def _invoice(organisation: Organisation, invoice_id: Any) -> Invoice:
    invoice = (
        Invoice.objects.filter(organisation=organisation, public_id=invoice_id)
        .exclude(status=InvoiceStatus.DRAFT)
        .first()
    )
    if invoice is None:
        raise Http404
    return invoice


def _file(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@org_view(P.BILLING_READ)
def invoice_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    status = request.GET.get("status", "")
    invoices = Invoice.objects.filter(organisation=organisation).exclude(status=InvoiceStatus.DRAFT).defer("pdf")
    if status in InvoiceStatus.values and status != InvoiceStatus.DRAFT:
        invoices = invoices.filter(status=status)
    statuses = [(value, label) for value, label in InvoiceStatus.choices if value != InvoiceStatus.DRAFT]
    return render(
        request,
        "billing/invoices_list.html",
        {
            "organisation": organisation,
            "invoices": invoices,
            "status": status,
            "statuses": statuses,
            "billing_tab": "invoices",
        },
    )


@org_view(P.BILLING_READ)
def invoice_detail(request: HttpRequest, organisation: Organisation, invoice_id: Any) -> HttpResponse:
    invoice = _invoice(organisation, invoice_id)
    return render(
        request,
        "billing/invoices_detail.html",
        {
            "organisation": organisation,
            "invoice": invoice,
            "lines": invoice.lines.all(),
            "credit_notes": invoice.credit_notes.all().defer("pdf"),
            "billing_tab": "invoices",
            "seller": settings.BILLING_SELLER,
        },
    )


@org_view(P.BILLING_READ)
def invoice_pdf(request: HttpRequest, organisation: Organisation, invoice_id: Any) -> HttpResponse:
    invoice = _invoice(organisation, invoice_id)
    return _file(bytes(invoice.pdf or b""), "application/pdf", f"{invoice.number}.pdf")


@org_view(P.BILLING_READ)
def invoice_csv(request: HttpRequest, organisation: Organisation, invoice_id: Any) -> HttpResponse:
    invoice = _invoice(organisation, invoice_id)
    return _file(selectors.invoice_csv(invoice), "text/csv; charset=utf-8", f"{invoice.number}.csv")


@org_view(P.BILLING_READ)
def credit_note_pdf(request: HttpRequest, organisation: Organisation, credit_note_id: Any) -> HttpResponse:
    note = CreditNote.objects.filter(organisation=organisation, public_id=credit_note_id).first()
    if note is None:
        raise Http404
    return _file(bytes(note.pdf or b""), "application/pdf", f"{note.number}.pdf")


@org_view(P.BILLING_READ)
def credit_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    now = timezone.now()
    grants = CreditGrant.objects.filter(organisation=organisation).select_related("credit_note")
    applications = (
        CreditApplication.objects.filter(grant__organisation=organisation)
        .select_related("grant", "invoice")
        .order_by("-created_at", "-id")[:100]
    )
    return render(
        request,
        "billing/invoices_credits.html",
        {
            "organisation": organisation,
            "now": now,
            "grants": grants,
            "applications": applications,
            "prepaid": credit_available(organisation=organisation, kind=CreditKind.PREPAID, at=now),
            "promotional": credit_available(organisation=organisation, kind=CreditKind.PROMOTIONAL, at=now),
            "expired": grants.filter(expires_at__lte=now).aggregate(s=Sum("remaining"))["s"] or 0,
            "billing_tab": "credits",
        },
    )


urlpatterns = [
    path("invoices/", invoice_list, name="invoices_list"),
    path("invoices/<uuid:invoice_id>/", invoice_detail, name="invoices_detail"),
    path("invoices/<uuid:invoice_id>/pdf", invoice_pdf, name="invoices_pdf"),
    path("invoices/<uuid:invoice_id>/csv", invoice_csv, name="invoices_csv"),
    path("credit-notes/<uuid:credit_note_id>/pdf", credit_note_pdf, name="invoices_credit_note_pdf"),
    path("credits/", credit_list, name="invoices_credits"),
]
