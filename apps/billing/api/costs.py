"""Billing API: cost estimates, month-to-date costs and forecast, budgets and their alerts, portal notices.

The organisation is the ``organisation`` query parameter (or body field), an
id or slug; it may be left out with a token (the token's organisation) or
when the caller belongs to one organisation only. Costs, budgets and notices
need ``billing.read`` (changes ``billing.manage``): a member gets 403. The
estimate needs only to see the organisation: it is what the order wizard
shows before ordering. Another organisation's budget is a 404.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.billing import selectors, services
from apps.billing.api import serializers_costs as s
from apps.billing.api.common import organisation_for_request
from apps.billing.models import Budget
from apps.billing.selectors.costs import month_start
from apps.core.api.pagination import list_parameters, paginate, paginated
from apps.core.api.queries import PageQuerySerializer, list_query, query_validate
from apps.core.errors import ValidationFailed
from apps.teams.api.permissions import ScopedPermission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project

P = Permission
TAGS = ["billing"]
BUDGET_ID = OpenApiParameter("budget_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Budget id.")
BUDGET_EXAMPLE = {
    "id": "2f1c0b7e-5d4a-4e58-9a1b-3c2d1e0f9a8b",
    "organisation_id": 7,
    "project": None,
    "name": "Monthly cloud",
    "amount": "500.00",
    "thresholds": [50, 80, 100],
    "basis": "forecast",
    "action": "block_orders",
    "notify_emails": ["finance@example.com"],
    "webhook_url": "https://hooks.example.com/vmcloud",
    "is_active": True,
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}


def _project(organisation: Organisation, project_id: Any) -> Project | None:
    if project_id in (None, ""):
        return None
    project = Project.objects.filter(organisation=organisation, pk=project_id).first()
    if project is None:
        message = _("Unknown project.")
        raise ValidationFailed(message, fields={"project": [message]})
    return project


class EstimateApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"GET": P.ORG_READ}

    @extend_schema(
        operation_id="billing_estimate",
        tags=TAGS,
        summary="Estimate the cost of an offer",
        description="The hourly price and the monthly cap an order would freeze now, with the VAT that applies "
        "to your organisation (treatment, rate and amounts) and totals including VAT. With `hours`, also the cost "
        "of a run of that many hours within one month (capped at the monthly price). Unknown `offer` or "
        "`datacentre` codes, or an offer not sold in that datacentre, are a 400 naming the field. "
        "409 `vat_rate_missing` while staff have not configured the VAT rate of your organisation's country.",
        parameters=[s.EstimateQuerySerializer],
        responses=s.EstimateOutputSerializer,
        examples=[
            OpenApiExample(
                "VPS for an Estonian consumer",
                value={
                    "offer": "VPS-S",
                    "offer_name": "VPS S",
                    "datacentre": "PAR-1",
                    "currency": "EUR",
                    "vat": {"treatment": "domestic", "rate": "24.00", "country": "EE", "note": ""},
                    "price_hourly": "0.039700",
                    "vat_hourly": "0.009528",
                    "total_hourly": "0.049228",
                    "price_monthly": "29.00",
                    "vat_monthly": "6.96",
                    "total_monthly": "35.96",
                    "hours": None,
                    "hours_cost": None,
                    "hours_vat": None,
                    "hours_total": None,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        data = query_validate(request, s.EstimateQuerySerializer)
        organisation = organisation_for_request(
            actor=request.user, value=data.get("organisation"), permission=P.ORG_READ
        )
        offer = selectors.offer_for_estimate(code=data["offer"])
        datacentre = (
            selectors.datacentre_for_estimate(code=data["datacentre"], offer=offer) if data.get("datacentre") else None
        )
        estimate = selectors.estimate_build(
            organisation=organisation, offer=offer, datacentre=datacentre, hours=data.get("hours")
        )
        return Response(s.EstimateOutputSerializer(estimate).data)


class CostsApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"GET": P.BILLING_READ}

    @extend_schema(
        operation_id="billing_costs",
        tags=TAGS,
        summary="Month-to-date costs and forecast",
        description="For the current calendar month (UTC): the month-to-date charges from the usage ledger "
        "(monthly caps applied, as the invoice will show them) and a forecast to month end (each resource still "
        "billable at its hourly price for the remaining hours, capped at its monthly cap), per project, per "
        "resource and per day, excluding VAT and with VAT. `month=YYYY-MM` reads a past month (no forecast). "
        "Needs `billing.read`. 409 `vat_rate_missing` while staff have not configured the VAT rate of your "
        "organisation's country.",
        parameters=[s.CostsQuerySerializer],
        responses=s.CostsOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        data = query_validate(request, s.CostsQuerySerializer)
        organisation = organisation_for_request(
            actor=request.user, value=data.get("organisation"), permission=P.BILLING_READ
        )
        project = _project(organisation, data.get("project"))
        month = selectors.parse_month(data["month"]) if data.get("month") else None
        if month is not None and month > month_start(timezone.now()):
            message = _("Choose this month or a past one.")
            raise ValidationFailed(message, fields={"month": [message]})
        summary = selectors.cost_summary(organisation=organisation, project=project, month=month)
        return Response(s.CostsOutputSerializer(summary).data)


class BudgetListApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"GET": P.BILLING_READ, "POST": P.BILLING_MANAGE}

    @extend_schema(
        operation_id="billing_budgets_list",
        tags=TAGS,
        summary="List budgets",
        description="The organisation's budgets. Filter by `project`, `name` and `is_active`; sort with `sort`. "
        "Needs `billing.read`.",
        parameters=list_parameters(s.BudgetListQuerySerializer),
        responses=paginated(s.BudgetOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.BudgetListQuerySerializer)
        organisation = organisation_for_request(
            actor=request.user, value=query.get("organisation"), permission=P.BILLING_READ
        )
        qs = query.apply(selectors.budget_list(organisation=organisation))
        return paginate(request, self, qs, s.BudgetOutputSerializer)

    @extend_schema(
        operation_id="billing_budgets_create",
        tags=TAGS,
        summary="Create a budget",
        description="A monthly amount (EUR excl. VAT) for the organisation or one `project`, with `thresholds` in "
        "percent (1 to 1000, ascending, default [50, 80, 100]) compared with the month-to-date spend (`basis` "
        "`actual`) or the forecast (`forecast`). `action` at 100 %: `none`, `block_orders` or `stop_gpus` (needs "
        "the 100 threshold). Alerts go to `notify_emails` (default: the organisation's billing address and "
        "billing members), to the portal and, signed, to `webhook_url` (https). The response holds "
        "`webhook_secret` once: keep it to verify signatures. Needs `billing.manage`.",
        request=s.BudgetCreateInputSerializer,
        responses={201: s.BudgetCreatedOutputSerializer},
        examples=[
            OpenApiExample(
                "Block orders at 500 €",
                value={
                    "name": "Monthly cloud",
                    "amount": "500.00",
                    "basis": "forecast",
                    "action": "block_orders",
                    "notify_emails": ["finance@example.com"],
                    "webhook_url": "https://hooks.example.com/vmcloud",
                },
                request_only=True,
            ),
            OpenApiExample("Created", value={**BUDGET_EXAMPLE, "webhook_secret": "vmcwh_3q2…"}, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.BudgetCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        organisation = organisation_for_request(
            actor=request.user, value=values.pop("organisation", None), permission=P.BILLING_MANAGE
        )
        values["project"] = _project(organisation, values.get("project"))
        budget, secret = services.budget_create(organisation=organisation, actor=request.user, **values)
        budget.webhook_secret = secret
        return Response(s.BudgetCreatedOutputSerializer(budget).data, status=status.HTTP_201_CREATED)


class BudgetApiView(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"GET": P.BILLING_READ, "PATCH": P.BILLING_MANAGE, "DELETE": P.BILLING_MANAGE}

    def budget(self, permission: Permission = P.BILLING_READ) -> Budget:
        return selectors.budget_get_for_actor(
            actor=self.request.user, public_id=self.kwargs["budget_id"], permission=permission
        )


class BudgetDetailApi(BudgetApiView):
    @extend_schema(
        operation_id="billing_budgets_retrieve",
        tags=TAGS,
        summary="Get a budget",
        parameters=[BUDGET_ID],
        responses=s.BudgetOutputSerializer,
        examples=[OpenApiExample("Budget", value=BUDGET_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, budget_id: str) -> Response:
        return Response(s.BudgetOutputSerializer(self.budget()).data)

    @extend_schema(
        operation_id="billing_budgets_update",
        tags=TAGS,
        summary="Change a budget",
        description="Change any field. Raising the amount, disabling the budget or changing its action lifts the "
        "block on new orders it had set (the next hourly check sets it again if spend is still over). Needs "
        "`billing.manage`.",
        parameters=[BUDGET_ID],
        request=s.BudgetUpdateInputSerializer,
        responses=s.BudgetOutputSerializer,
        examples=[OpenApiExample("Raise", value={"amount": "800.00"}, request_only=True)],
    )
    def patch(self, request: Request, budget_id: str) -> Response:
        budget = self.budget(P.BILLING_MANAGE)
        data = s.BudgetUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "project" in values:
            values["project"] = _project(budget.organisation, values["project"])
        updated = services.budget_update(budget=budget, actor=request.user, **values)
        return Response(s.BudgetOutputSerializer(updated).data)

    @extend_schema(
        operation_id="billing_budgets_destroy",
        tags=TAGS,
        summary="Delete a budget",
        description="Deletes the budget and its alert history, and lifts its block on new orders. "
        "Needs `billing.manage`.",
        parameters=[BUDGET_ID],
        responses={204: None},
    )
    def delete(self, request: Request, budget_id: str) -> Response:
        services.budget_delete(budget=self.budget(P.BILLING_MANAGE), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BudgetAlertListApi(BudgetApiView):
    @extend_schema(
        operation_id="billing_budget_alerts_list",
        tags=TAGS,
        summary="A budget's alerts",
        description="Each threshold crossed, once per month: the spend then, and the e-mail and webhook results.",
        parameters=list_parameters(PageQuerySerializer, BUDGET_ID),
        responses=paginated(s.BudgetAlertOutputSerializer),
    )
    def get(self, request: Request, budget_id: str) -> Response:
        list_query(request, PageQuerySerializer)
        qs = selectors.budget_alert_list(budget=self.budget())
        return paginate(request, self, qs, s.BudgetAlertOutputSerializer)


class NoticeListApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"GET": P.BILLING_READ}

    @extend_schema(
        operation_id="billing_notices_list",
        tags=TAGS,
        summary="List billing notices",
        description="Messages shown on the billing pages: budget alerts, payment problems. Newest first; "
        "`unread=true` for unread ones only. Needs `billing.read`.",
        parameters=list_parameters(s.NoticeListQuerySerializer),
        responses=paginated(s.NoticeOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, s.NoticeListQuerySerializer)
        organisation = organisation_for_request(
            actor=request.user, value=query.get("organisation"), permission=P.BILLING_READ
        )
        qs = query.apply(selectors.notice_list(organisation=organisation, unread_only=query.get("unread", False)))
        return paginate(request, self, qs, s.NoticeOutputSerializer)


class NoticeReadApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"POST": P.BILLING_MANAGE}

    @extend_schema(
        operation_id="billing_notices_mark_read",
        tags=TAGS,
        summary="Mark billing notices read",
        description="Marks the notices in `ids` read, or all of them when `ids` is left out. Needs `billing.manage`.",
        request=s.NoticeReadInputSerializer,
        responses=s.NoticeReadOutputSerializer,
        examples=[OpenApiExample("Some", value={"ids": [12, 13]}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = s.NoticeReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = organisation_for_request(
            actor=request.user, value=data.validated_data.get("organisation"), permission=P.BILLING_MANAGE
        )
        count = services.notices_mark_read(
            organisation=organisation, actor=request.user, ids=data.validated_data.get("ids")
        )
        return Response(s.NoticeReadOutputSerializer({"marked_read": count}).data)


urlpatterns = [
    path("estimate/", EstimateApi.as_view(), name="billing-estimate"),
    path("costs/", CostsApi.as_view(), name="billing-costs"),
    path("budgets/", BudgetListApi.as_view(), name="billing-budget-list"),
    path("budgets/<uuid:budget_id>/", BudgetDetailApi.as_view(), name="billing-budget-detail"),
    path("budgets/<uuid:budget_id>/alerts/", BudgetAlertListApi.as_view(), name="billing-budget-alert-list"),
    path("notices/", NoticeListApi.as_view(), name="billing-notice-list"),
    path("notices/read/", NoticeReadApi.as_view(), name="billing-notice-read"),
]
