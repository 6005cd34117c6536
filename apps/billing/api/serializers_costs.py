"""Serializers of the costs, estimates, budgets and notices API (unique names: drf-spectacular components)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from apps.billing.choices import BudgetAction, BudgetBasis
from apps.billing.models import BillingNotice, Budget, BudgetAlert
from apps.billing.selectors.estimates import MAX_HOURS
from apps.core.api.fields import IdField
from apps.core.api.queries import ListQuerySerializer

ORGANISATION_HELP = (
    "Organisation id or slug. Optional with a token (its organisation) or when you belong to one organisation only."
)


# ---------------------------------------------------------------------------
# Estimates
# ---------------------------------------------------------------------------
class EstimateQuerySerializer(serializers.Serializer):
    offer = serializers.CharField(max_length=40, help_text="Offer code, e.g. VPS-S.")
    datacentre = serializers.CharField(max_length=16, required=False, help_text="Datacentre code, e.g. PAR-1.")
    hours = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_HOURS, help_text="Also price a run of this many hours."
    )
    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_HELP)


class VatDecisionOutputSerializer(serializers.Serializer):
    treatment = serializers.CharField(help_text="domestic, eu_consumer, reverse_charge or out_of_scope.")
    rate = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Percent.")
    country = serializers.CharField()
    note = serializers.CharField(help_text="The legal wording printed on invoices, if any.")


class EstimateOutputSerializer(serializers.Serializer):
    offer = serializers.CharField(source="offer.code")
    offer_name = serializers.CharField(source="offer.name")
    datacentre = serializers.CharField(source="datacentre.code", allow_null=True, default=None)
    currency = serializers.CharField()
    vat = VatDecisionOutputSerializer()
    price_hourly = serializers.DecimalField(max_digits=14, decimal_places=6)
    vat_hourly = serializers.DecimalField(max_digits=14, decimal_places=6)
    total_hourly = serializers.DecimalField(max_digits=14, decimal_places=6)
    price_monthly = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="The monthly cap.")
    vat_monthly = serializers.DecimalField(max_digits=12, decimal_places=2)
    total_monthly = serializers.DecimalField(max_digits=12, decimal_places=2)
    hours = serializers.IntegerField(allow_null=True)
    hours_cost = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    hours_vat = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    hours_total = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


# ---------------------------------------------------------------------------
# Costs
# ---------------------------------------------------------------------------
class CostsQuerySerializer(serializers.Serializer):
    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_HELP)
    project = IdField(required=False, help_text="Only this project (id).")
    month = serializers.RegexField(
        r"^[1-9]\d{3}-(0[1-9]|1[0-2])$", required=False, help_text="YYYY-MM; a past month has no forecast."
    )


class ResourceCostOutputSerializer(serializers.Serializer):
    resource_type = serializers.CharField(help_text="instance, snapshot or service.")
    resource_id = serializers.UUIDField()
    name = serializers.CharField()
    project_id = serializers.IntegerField()
    project_name = serializers.CharField()
    month_to_date = serializers.DecimalField(max_digits=12, decimal_places=2)
    forecast = serializers.DecimalField(max_digits=12, decimal_places=2)
    billable_now = serializers.BooleanField()
    price_hourly = serializers.DecimalField(max_digits=14, decimal_places=6, allow_null=True)
    monthly_cap = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    remaining_hours = serializers.IntegerField()


class ProjectCostOutputSerializer(serializers.Serializer):
    project_id = serializers.IntegerField()
    name = serializers.CharField()
    month_to_date = serializers.DecimalField(max_digits=12, decimal_places=2)
    forecast = serializers.DecimalField(max_digits=12, decimal_places=2)


class DaySpendOutputSerializer(serializers.Serializer):
    day = serializers.DateField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class CostsOutputSerializer(serializers.Serializer):
    organisation_id = serializers.IntegerField(source="organisation.pk")
    project_id = serializers.SerializerMethodField()
    month = serializers.SerializerMethodField()
    as_of = serializers.DateTimeField()
    is_current = serializers.BooleanField(help_text="False for a past month: then forecast equals month_to_date.")
    currency = serializers.CharField()
    month_to_date = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Excl. VAT, caps applied.")
    month_to_date_vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    month_to_date_incl_vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    forecast = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="To month end, excl. VAT.")
    forecast_vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    forecast_incl_vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    vat = VatDecisionOutputSerializer()
    projects = ProjectCostOutputSerializer(many=True)
    resources = ResourceCostOutputSerializer(many=True)
    days = DaySpendOutputSerializer(many=True)

    def get_project_id(self, obj: Any) -> int | None:
        return obj.project.pk if obj.project is not None else None

    def get_month(self, obj: Any) -> str:
        return f"{obj.month:%Y-%m}"


# ---------------------------------------------------------------------------
# Budgets
# ---------------------------------------------------------------------------
class BudgetProjectOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BudgetOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    project = BudgetProjectOutputSerializer(allow_null=True, read_only=True)
    thresholds = serializers.ListField(child=serializers.IntegerField())
    notify_emails = serializers.ListField(child=serializers.EmailField())

    class Meta:
        model = Budget
        fields = [
            "id",
            "organisation_id",
            "project",
            "name",
            "amount",
            "thresholds",
            "basis",
            "action",
            "notify_emails",
            "webhook_url",
            "is_active",
            "created_at",
            "updated_at",
        ]


class BudgetCreatedOutputSerializer(BudgetOutputSerializer):
    webhook_secret = serializers.CharField(
        read_only=True, help_text="Signs the webhooks (X-VMCloud-Signature). Shown in this response only."
    )

    class Meta(BudgetOutputSerializer.Meta):
        fields = [*BudgetOutputSerializer.Meta.fields, "webhook_secret"]


class BudgetCreateInputSerializer(serializers.Serializer):
    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_HELP)
    project = IdField(required=False, allow_null=True, help_text="Empty: the whole organisation.")
    name = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    thresholds = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=1000),
        required=False,
        max_length=10,
        help_text="Percentages, ascending and unique. Default [50, 80, 100].",
    )
    basis = serializers.ChoiceField(choices=BudgetBasis.choices, default=BudgetBasis.ACTUAL)
    action = serializers.ChoiceField(
        choices=BudgetAction.choices, default=BudgetAction.NONE, help_text="What happens at 100 %."
    )
    notify_emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=10)
    webhook_url = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_active = serializers.BooleanField(default=True)


class BudgetUpdateInputSerializer(serializers.Serializer):
    project = IdField(required=False, allow_null=True)
    name = serializers.CharField(max_length=100, required=False)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False)
    thresholds = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=1000), required=False, max_length=10
    )
    basis = serializers.ChoiceField(choices=BudgetBasis.choices, required=False)
    action = serializers.ChoiceField(choices=BudgetAction.choices, required=False)
    notify_emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=10)
    webhook_url = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_active = serializers.BooleanField(required=False)


class BudgetListQuerySerializer(ListQuerySerializer):
    lookups = {"is_active": "is_active", "project": "project_id", "name": "name"}
    sort_fields = {"name": "name", "amount": "amount", "created_at": "created_at"}

    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_HELP)
    project = IdField(required=False, help_text="Only this project's budgets.")
    name = serializers.CharField(required=False, max_length=100, help_text="Exact name.")
    is_active = serializers.BooleanField(required=False, help_text="Only active (true) or paused budgets.")


class BudgetAlertOutputSerializer(serializers.ModelSerializer):
    month = serializers.SerializerMethodField()

    class Meta:
        model = BudgetAlert
        fields = ["id", "month", "threshold", "spend", "created_at", "emailed_at", "webhook_status", "webhook_sent_at"]

    def get_month(self, obj: BudgetAlert) -> str:
        return f"{obj.month:%Y-%m}"


# ---------------------------------------------------------------------------
# Notices
# ---------------------------------------------------------------------------
class NoticeListQuerySerializer(ListQuerySerializer):
    sort_fields = {"created_at": "created_at"}

    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_HELP)
    unread = serializers.BooleanField(required=False, default=False, help_text="Only unread notices.")


class NoticeOutputSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="budget, dunning, invoice or credit.")

    class Meta:
        model = BillingNotice
        fields = ["id", "kind", "message", "created_at", "read_at"]


class NoticeReadInputSerializer(serializers.Serializer):
    organisation = serializers.CharField(required=False, max_length=100, help_text=ORGANISATION_HELP)
    ids = serializers.ListField(
        child=IdField(), required=False, max_length=500, help_text="Omit to mark every notice read."
    )


class NoticeReadOutputSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField()
