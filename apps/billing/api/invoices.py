"""Billing API: invoices, credit notes, credits and usage (serializers in serializers_invoices.py).

Everything here needs ``billing.read`` (the owner, admin and billing roles):
another organisation's invoice is a 404, a member of the organisation gets
403. Lists cover every organisation whose billing you read, or one with
``?organisation=<slug or id>``. Drafts are never shown.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.billing import selectors
from apps.billing.api import serializers_invoices as s
from apps.billing.rules.rating import lines_total
from apps.core.api.pagination import list_parameters, paginate, paginated
from apps.core.api.queries import list_query, query_validate
from apps.teams.api.permissions import ScopedPermission
from apps.teams.choices import Permission

TAG = ["billing"]
INVOICE_ID = OpenApiParameter("invoice_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Invoice id.")
CREDIT_NOTE_ID = OpenApiParameter(
    "credit_note_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Credit note id."
)
PDF = OpenApiResponse(OpenApiTypes.BINARY, description="application/pdf")
CSV = OpenApiResponse(OpenApiTypes.STR, description="text/csv")


class BillingApiView(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"GET": Permission.BILLING_READ}


def _file(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class InvoiceListApi(BillingApiView):
    @extend_schema(
        operation_id="billing_invoices_list",
        tags=TAG,
        summary="List invoices",
        description="Issued invoices, newest month first. Filter with `status` (open, paid, void), "
        "`organisation` and `number`; sort with `sort`. Amounts are EUR; `net_total` is the taxable amount, "
        "`total` includes VAT, `amount_due` is what remains to pay after prepaid balance and credit notes.",
        parameters=list_parameters(s.InvoiceListInputSerializer),
        responses=paginated(s.InvoiceOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.InvoiceListInputSerializer)
        qs = query.apply(
            selectors.invoice_list(
                actor=request.user, organisation=query.get("organisation"), status=query.get("status")
            )
        )
        return paginate(request, self, qs, s.InvoiceOutputSerializer)


class InvoiceDetailApi(BillingApiView):
    @extend_schema(
        operation_id="billing_invoices_retrieve",
        tags=TAG,
        summary="Get an invoice with its lines",
        description="One line per resource and price over the month, and a negative line where the monthly cap "
        "applies. `vat_note` is the legal wording printed on the invoice (reverse charge, outside the scope).",
        parameters=[INVOICE_ID],
        responses=s.InvoiceDetailOutputSerializer,
    )
    def get(self, request: Request, invoice_id: str) -> Response:
        invoice = selectors.invoice_get(actor=request.user, public_id=invoice_id)
        return Response(s.InvoiceDetailOutputSerializer(invoice).data)


class InvoicePdfApi(BillingApiView):
    @extend_schema(
        operation_id="billing_invoices_pdf",
        tags=TAG,
        summary="Download an invoice's PDF",
        parameters=[INVOICE_ID],
        responses={(200, "application/pdf"): PDF},
    )
    def get(self, request: Request, invoice_id: str) -> HttpResponse:
        invoice = selectors.invoice_get(actor=request.user, public_id=invoice_id)
        return _file(bytes(invoice.pdf or b""), "application/pdf", f"{invoice.number}.pdf")


class InvoiceCsvApi(BillingApiView):
    @extend_schema(
        operation_id="billing_invoices_csv",
        tags=TAG,
        summary="Download an invoice's lines as CSV",
        description="One row per line (amounts excl. VAT), then the totals.",
        parameters=[INVOICE_ID],
        responses={(200, "text/csv"): CSV},
    )
    def get(self, request: Request, invoice_id: str) -> HttpResponse:
        invoice = selectors.invoice_get(actor=request.user, public_id=invoice_id)
        return _file(selectors.invoice_csv(invoice), "text/csv; charset=utf-8", f"{invoice.number}.csv")


class CreditNoteListApi(BillingApiView):
    @extend_schema(
        operation_id="billing_credit_notes_list",
        tags=TAG,
        summary="List credit notes",
        description="Corrections of issued invoices, issued by our staff, newest first. Filter by "
        "`organisation` and `kind`; sort with `sort`.",
        parameters=list_parameters(s.CreditNoteListQuerySerializer),
        responses=paginated(s.CreditNoteOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.CreditNoteListQuerySerializer)
        qs = query.apply(selectors.credit_note_list(actor=request.user, organisation=query.get("organisation")))
        return paginate(request, self, qs, s.CreditNoteOutputSerializer)


class CreditNotePdfApi(BillingApiView):
    @extend_schema(
        operation_id="billing_credit_notes_pdf",
        tags=TAG,
        summary="Download a credit note's PDF",
        parameters=[CREDIT_NOTE_ID],
        responses={(200, "application/pdf"): PDF},
    )
    def get(self, request: Request, credit_note_id: str) -> HttpResponse:
        note = selectors.credit_note_get(actor=request.user, public_id=credit_note_id)
        return _file(bytes(note.pdf or b""), "application/pdf", f"{note.number}.pdf")


class CreditListApi(BillingApiView):
    @extend_schema(
        operation_id="billing_credits_list",
        tags=TAG,
        summary="List credits",
        description="Prepaid balance (applied after VAT) and promotional credit (a discount before VAT), "
        "soonest expiring first. Expired credit is never applied. Filter by `organisation` and `kind`; sort "
        "with `sort`.",
        parameters=list_parameters(s.CreditListQuerySerializer),
        responses=paginated(s.CreditGrantOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.CreditListQuerySerializer)
        qs = query.apply(selectors.credit_list(actor=request.user, organisation=query.get("organisation")))
        return paginate(request, self, qs, s.CreditGrantOutputSerializer)


class UsageApi(BillingApiView):
    @extend_schema(
        operation_id="billing_usage_retrieve",
        tags=TAG,
        summary="A month's charged usage",
        description="The lines the month's invoice will have (or has): hours × frozen price per resource and "
        "price, and the monthly cap lines. Excl. VAT. The current month grows every hour.",
        parameters=[s.UsageInputSerializer],
        responses=s.UsageOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        values = query_validate(request, s.UsageInputSerializer)
        year, month = (int(part) for part in values["month"].split("-"))
        organisation, lines = selectors.usage_month(
            actor=request.user, organisation=values.get("organisation"), month=date(year, month, 1)
        )
        body = {
            "organisation_id": organisation.pk,
            "month": values["month"],
            "currency": "EUR",
            "total": lines_total(lines),
            "lines": lines,
        }
        return Response(s.UsageOutputSerializer(body).data)


urlpatterns = [
    path("invoices/", InvoiceListApi.as_view(), name="billing-invoice-list"),
    path("invoices/<uuid:invoice_id>/", InvoiceDetailApi.as_view(), name="billing-invoice-detail"),
    path("invoices/<uuid:invoice_id>/pdf", InvoicePdfApi.as_view(), name="billing-invoice-pdf"),
    path("invoices/<uuid:invoice_id>/csv", InvoiceCsvApi.as_view(), name="billing-invoice-csv"),
    path("credit-notes/", CreditNoteListApi.as_view(), name="billing-credit-note-list"),
    path("credit-notes/<uuid:credit_note_id>/pdf", CreditNotePdfApi.as_view(), name="billing-credit-note-pdf"),
    path("credits/", CreditListApi.as_view(), name="billing-credit-list"),
    path("usage/", UsageApi.as_view(), name="billing-usage"),
]
