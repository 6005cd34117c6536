"""Serializers of the invoices API (invoices, credit notes, credits, usage). Names are unique for drf-spectacular."""

from __future__ import annotations

from rest_framework import serializers

from apps.billing.choices import CreditKind, CreditNoteKind, InvoiceStatus
from apps.billing.models import CreditGrant, CreditNote, Invoice, InvoiceLine
from apps.core.api.queries import ListQuerySerializer

ORGANISATION_ANY_HELP = "Organisation slug or id (default: all yours)."


class InvoiceListInputSerializer(ListQuerySerializer):
    lookups = {"number": "number"}
    sort_fields = {"issued_at": "issued_at", "due_at": "due_at", "number": "number", "total": "total"}

    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_ANY_HELP)
    status = serializers.ChoiceField(
        choices=InvoiceStatus.choices, required=False, help_text="Drafts are never listed."
    )
    number = serializers.CharField(required=False, max_length=40, help_text="Exact invoice number.")


class BillingOrganisationInputSerializer(ListQuerySerializer):
    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_ANY_HELP)


class CreditNoteListQuerySerializer(BillingOrganisationInputSerializer):
    lookups = {"kind": "kind__in"}
    sort_fields = {"issued_at": "issued_at", "number": "number", "total": "total"}

    kind = serializers.ListField(
        child=serializers.ChoiceField(choices=CreditNoteKind.choices),
        required=False,
        min_length=1,
        max_length=10,
        help_text="Only credit notes of this kind; repeat for several.",
    )


class CreditListQuerySerializer(BillingOrganisationInputSerializer):
    lookups = {"kind": "kind__in"}
    sort_fields = {"expires_at": "expires_at", "amount": "amount", "remaining": "remaining"}

    kind = serializers.ListField(
        child=serializers.ChoiceField(choices=CreditKind.choices),
        required=False,
        min_length=1,
        max_length=10,
        help_text="Only credits of this kind; repeat for several.",
    )


class UsageInputSerializer(serializers.Serializer):
    organisation = serializers.CharField(
        required=False,
        max_length=100,
        help_text="Organisation slug or id; needed when you read the billing of several.",
    )
    month = serializers.RegexField(r"^[1-9]\d{3}-(0[1-9]|1[0-2])$", help_text="Calendar month, YYYY-MM (UTC).")


class InvoiceLineOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "resource_type",
            "resource_id",
            "project_name",
            "description",
            "period_start",
            "period_end",
            "quantity",
            "unit",
            "unit_price",
            "amount",
        ]


class InvoiceOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "organisation_id",
            "status",
            "period_start",
            "period_end",
            "currency",
            "issued_at",
            "due_at",
            "paid_at",
            "buyer_name",
            "buyer_address",
            "buyer_country",
            "buyer_vat_id",
            "buyer_email",
            "vat_treatment",
            "vat_rate",
            "vat_note",
            "subtotal",
            "promotional_credit",
            "net_total",
            "vat_amount",
            "total",
            "prepaid_applied",
            "amount_credited",
            "amount_due",
        ]


class InvoiceDetailOutputSerializer(InvoiceOutputSerializer):
    lines = InvoiceLineOutputSerializer(many=True, read_only=True)

    class Meta(InvoiceOutputSerializer.Meta):
        fields = [*InvoiceOutputSerializer.Meta.fields, "lines"]


class CreditNoteOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    invoice_id = serializers.UUIDField(source="invoice.public_id", read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "organisation_id",
            "invoice_id",
            "invoice_number",
            "kind",
            "reason",
            "net_amount",
            "vat_amount",
            "total",
            "issued_at",
        ]


class CreditGrantOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    expired = serializers.SerializerMethodField()
    credit_note_number = serializers.CharField(
        source="credit_note.number",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Null without a credit note.",
    )

    class Meta:
        model = CreditGrant
        fields = [
            "id",
            "organisation_id",
            "kind",
            "description",
            "amount",
            "remaining",
            "expires_at",
            "expired",
            "credit_note_number",
            "created_at",
        ]

    def get_expired(self, obj: CreditGrant) -> bool:
        from django.utils import timezone

        return obj.expires_at is not None and obj.expires_at <= timezone.now()


class UsageLineOutputSerializer(serializers.Serializer):
    resource_type = serializers.CharField()
    resource_id = serializers.UUIDField()
    resource_name = serializers.CharField()
    project_id = serializers.IntegerField()
    description = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=6)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    is_cap_adjustment = serializers.BooleanField()


class UsageOutputSerializer(serializers.Serializer):
    organisation_id = serializers.IntegerField()
    month = serializers.CharField()
    currency = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Excl. VAT, caps applied.")
    lines = UsageLineOutputSerializer(many=True)
