"""Billing API: payment methods, Stripe Checkout sessions and the account's payment standing.

The organisation is the ``organisation`` query parameter (or body field), an
id or slug; it may be left out with a token (the token's organisation) or
when the caller belongs to one organisation only. Reading needs
``billing.read``, changes ``billing.manage``: a member gets 403. Without
Stripe keys, anything that needs Stripe answers 409 ``payments_disabled``
(invoices are then paid by bank transfer). Another organisation's payment
method is a 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.billing import selectors, services
from apps.billing.api import serializers_payments as s
from apps.billing.api.common import organisation_for_request
from apps.core.api.queries import query_validate
from apps.core.errors import NotFound
from apps.teams.api.permissions import ScopedPermission
from apps.teams.choices import Permission
from apps.teams.models import Organisation

P = Permission
TAGS = ["billing"]
ORGANISATION = OpenApiParameter(
    "organisation", OpenApiTypes.STR, description=s.ORGANISATION_HELP, pattern=r"^.{1,100}$"
)
METHOD_ID = OpenApiParameter(
    "method_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Stripe payment method id (pm_…)."
)
DISABLED = {409: OpenApiTypes.OBJECT}


def _organisation(request: Request, permission: Permission) -> Organisation:
    # Strict: ``organisation`` is the only query parameter here (apps.core.api.queries).
    value: Any = query_validate(request, s.OrganisationBodySerializer).get("organisation")
    if value in (None, "") and isinstance(request.data, dict):
        value = request.data.get("organisation")
    return organisation_for_request(actor=request.user, value=value, permission=permission)


def _portal_url(suffix: str = "") -> str:
    return settings.SITE_URL.rstrip("/") + "/billing/payment-methods/" + suffix


def _owned_method(organisation: Organisation, method_id: str) -> None:
    """404 unless the payment method is one of the organisation's (checked before anything else)."""
    if not any(m.id == method_id for m in selectors.payment_method_list(organisation=organisation)):
        raise NotFound(_("Payment method not found."))


class BillingAccountApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"GET": P.BILLING_READ}

    @extend_schema(
        operation_id="billing_account_retrieve",
        tags=TAGS,
        summary="Payment standing",
        description="Whether online payments are on, the dunning state (good, past_due, suspended, terminated) with "
        "its next dates, what is overdue, and the prepaid balance.",
        parameters=[ORGANISATION],
        responses=s.BillingAccountOutputSerializer,
        examples=[
            OpenApiExample(
                "Past due",
                value={
                    "organisation_id": 7,
                    "payments_enabled": True,
                    "dunning_state": "past_due",
                    "past_due_since": "2026-02-03T02:30:00Z",
                    "suspend_on": "2026-02-17T02:30:00Z",
                    "suspended_at": None,
                    "terminate_on": "2026-03-05T02:30:00Z",
                    "terminated_at": None,
                    "overdue_invoices": 1,
                    "overdue_amount": "121.00",
                    "prepaid_balance": "0.00",
                    "has_stripe_customer": True,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        organisation = _organisation(request, P.BILLING_READ)
        state = selectors.billing_state(organisation=organisation)
        data = {
            "account": state.account,
            "payments_enabled": state.payments_enabled,
            "state": state.state,
            "past_due_since": state.past_due_since,
            "suspend_on": state.suspend_on,
            "suspended_at": state.suspended_at,
            "terminate_on": state.terminate_on,
            "terminated_at": state.terminated_at,
            "overdue_count": state.overdue_count,
            "overdue_amount": state.overdue_amount,
            "prepaid_balance": selectors.prepaid_balance(organisation=organisation),
            "has_stripe_customer": bool(state.account.stripe_customer_id),
        }
        return Response(s.BillingAccountOutputSerializer(data).data)


class PaymentMethodListApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"GET": P.BILLING_READ}

    @extend_schema(
        operation_id="billing_payment_methods_list",
        tags=TAGS,
        summary="List payment methods",
        description="Saved cards and SEPA Direct Debit mandates, the default first. Add one with "
        "`POST /api/v1/billing/checkout-sessions/` (mode `setup`). 409 `payments_disabled` without Stripe keys.",
        parameters=[ORGANISATION],
        responses={200: s.PaymentMethodOutputSerializer(many=True), **DISABLED},
    )
    def get(self, request: Request) -> Response:
        organisation = _organisation(request, P.BILLING_READ)
        services.require_payments_enabled()
        methods = selectors.payment_method_list(organisation=organisation)
        return Response(s.PaymentMethodOutputSerializer(methods, many=True).data)


class PaymentMethodDetailApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"DELETE": P.BILLING_MANAGE}

    @extend_schema(
        operation_id="billing_payment_methods_destroy",
        tags=TAGS,
        summary="Remove a payment method",
        description="Detaches it from your Stripe customer. Invoices are then paid with the next method, or by "
        "bank transfer.",
        parameters=[METHOD_ID, ORGANISATION],
        request=s.OrganisationBodySerializer,
        responses={204: None, 404: OpenApiTypes.OBJECT, **DISABLED},
    )
    def delete(self, request: Request, method_id: str) -> Response:
        organisation = _organisation(request, P.BILLING_MANAGE)
        _owned_method(organisation, method_id)
        services.payment_method_remove(organisation=organisation, actor=request.user, payment_method_id=method_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PaymentMethodDefaultApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"POST": P.BILLING_MANAGE}

    @extend_schema(
        operation_id="billing_payment_methods_default",
        tags=TAGS,
        summary="Make a payment method the default",
        description="The default method is charged automatically when an invoice is issued.",
        parameters=[METHOD_ID],
        request=s.OrganisationBodySerializer,
        responses={200: s.PaymentMethodOutputSerializer, 404: OpenApiTypes.OBJECT, **DISABLED},
    )
    def post(self, request: Request, method_id: str) -> Response:
        organisation = _organisation(request, P.BILLING_MANAGE)
        _owned_method(organisation, method_id)
        services.payment_method_set_default(organisation=organisation, actor=request.user, payment_method_id=method_id)
        method = next(m for m in selectors.payment_method_list(organisation=organisation) if m.id == method_id)
        return Response(s.PaymentMethodOutputSerializer(method).data)


class CheckoutSessionApi(APIView):
    permission_classes = [ScopedPermission]
    scope_map = {"POST": P.BILLING_MANAGE}

    @extend_schema(
        operation_id="billing_checkout_sessions_create",
        tags=TAGS,
        summary="Start a Stripe Checkout session",
        description="`setup`: save a card or a SEPA Direct Debit mandate. `topup`: pay `amount` EUR into the "
        "prepaid balance. Send the browser to the returned `url`; Stripe brings it back to the portal. "
        "409 `payments_disabled` without Stripe keys.",
        request=s.CheckoutSessionInputSerializer,
        responses={201: s.CheckoutSessionOutputSerializer, **DISABLED},
        examples=[
            OpenApiExample("Top-up", value={"organisation": 7, "mode": "topup", "amount": "100.00"}, request_only=True)
        ],
    )
    def post(self, request: Request) -> Response:
        organisation = _organisation(request, P.BILLING_MANAGE)
        data = s.CheckoutSessionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["mode"] == "setup":
            url = services.checkout_setup_start(
                organisation=organisation,
                actor=request.user,
                success_url=_portal_url("?session_id={CHECKOUT_SESSION_ID}"),
                cancel_url=_portal_url(),
            )
        else:
            url = services.checkout_topup_start(
                organisation=organisation,
                actor=request.user,
                amount=data.validated_data["amount"],
                success_url=_portal_url("?result=topup&session_id={CHECKOUT_SESSION_ID}"),
                cancel_url=_portal_url(),
            )
        return Response(s.CheckoutSessionOutputSerializer({"url": url}).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("account/", BillingAccountApi.as_view(), name="billing-account"),
    path("payment-methods/", PaymentMethodListApi.as_view(), name="billing-payment-method-list"),
    path("payment-methods/<str:method_id>/", PaymentMethodDetailApi.as_view(), name="billing-payment-method-detail"),
    path(
        "payment-methods/<str:method_id>/default/",
        PaymentMethodDefaultApi.as_view(),
        name="billing-payment-method-default",
    ),
    path("checkout-sessions/", CheckoutSessionApi.as_view(), name="billing-checkout-session-list"),
]
