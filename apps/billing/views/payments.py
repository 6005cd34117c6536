"""Portal pages of billing: payment methods, prepaid top-ups, and Stripe's webhook endpoint.

``/billing/payment-methods/`` lists the organisation's cards and SEPA
mandates (dj-stripe's copy, refreshed from Stripe when the customer comes back
from Checkout), adds one through Stripe Checkout (setup mode), sets the
default, removes one, and tops up the prepaid balance (Checkout, payment
mode). Without Stripe keys the page says online payments are off and invoices
are paid by bank transfer. Seeing needs ``billing.read``; changing needs
``billing.manage``.

``/billing/stripe/webhook/`` is Stripe's endpoint: no login, no CSRF (Stripe
signs the body instead), 400 on a bad signature or a stale timestamp, 200
once stored (duplicates included).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.billing import selectors, services
from apps.billing.services.payments import PAYMENTS_DISABLED, TOPUP_MAX, TOPUP_MIN
from apps.billing.services.webhooks import InvalidEvent
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

logger = logging.getLogger(__name__)


def _report(request: HttpRequest, exc: ApplicationError) -> None:
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    messages.error(request, exc.message)


def _page_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("billing:payments_methods"))


@never_cache
@org_view(Permission.BILLING_READ)
def payment_methods(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    can_manage = actor_has_permission(request.user, organisation, Permission.BILLING_MANAGE)
    enabled = selectors.payments_enabled()
    session_id = request.GET.get("session_id", "")
    if enabled and session_id:
        # Back from Checkout: refresh the list now rather than wait for the webhook.
        try:
            services.payment_methods_refresh(organisation=organisation)
        except ApplicationError as exc:
            _report(request, exc)
        except Exception:  # Stripe unreachable: the webhook will bring it
            logger.warning("payment methods refresh failed for organisation %s", organisation.pk, exc_info=True)
        if request.GET.get("result") == "topup":
            messages.success(request, _("Thank you: your payment is confirmed by Stripe, the balance follows shortly."))
        else:
            messages.success(request, _("Thank you: your payment method is saved."))
        return redirect("billing:payments_methods")
    context: dict[str, Any] = {
        "billing_tab": "payments",
        "organisation": organisation,
        "payments_enabled": enabled,
        "can_manage": can_manage,
        "methods": selectors.payment_method_list(organisation=organisation) if enabled else [],
        "account": selectors.billing_state(organisation=organisation),
        "prepaid_balance": selectors.prepaid_balance(organisation=organisation),
        "topup_min": TOPUP_MIN,
        "topup_max": TOPUP_MAX,
        "seller": settings.BILLING_SELLER,
    }
    return render(request, "billing/payments_methods.html", context)


@require_POST
@org_view(Permission.BILLING_MANAGE)
def payment_method_add(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    back = _page_url(request)
    try:
        url = services.checkout_setup_start(
            organisation=organisation,
            actor=request.user,
            success_url=back + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=back,
        )
    except ApplicationError as exc:
        _report(request, exc)
        return redirect("billing:payments_methods")
    return HttpResponseRedirect(url)


@require_POST
@org_view(Permission.BILLING_MANAGE)
def payment_method_default(request: HttpRequest, organisation: Organisation, method_id: str) -> HttpResponse:
    try:
        services.payment_method_set_default(organisation=organisation, actor=request.user, payment_method_id=method_id)
        messages.success(request, _("Default payment method changed."))
    except ApplicationError as exc:
        _report(request, exc)
    return redirect("billing:payments_methods")


@require_POST
@org_view(Permission.BILLING_MANAGE)
def payment_method_remove(request: HttpRequest, organisation: Organisation, method_id: str) -> HttpResponse:
    try:
        services.payment_method_remove(organisation=organisation, actor=request.user, payment_method_id=method_id)
        messages.success(request, _("Payment method removed."))
    except ApplicationError as exc:
        _report(request, exc)
    return redirect("billing:payments_methods")


@require_POST
@org_view(Permission.BILLING_MANAGE)
def topup(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    back = _page_url(request)
    try:
        url = services.checkout_topup_start(
            organisation=organisation,
            actor=request.user,
            amount=services.topup_validate(request.POST.get("amount", "")),
            success_url=back + "?result=topup&session_id={CHECKOUT_SESSION_ID}",
            cancel_url=back,
        )
    except ApplicationError as exc:
        _report(request, exc)
        return redirect("billing:payments_methods")
    return HttpResponseRedirect(url)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's webhook endpoint: verify, store once, enqueue; the work happens in Celery."""
    if not selectors.payments_enabled() or not settings.STRIPE_WEBHOOK_SECRET:
        return JsonResponse(
            {"error": {"code": PAYMENTS_DISABLED, "message": "Online payments are not enabled."}}, status=503
        )
    try:
        _row_id, created = services.event_receive(
            payload=request.body, sig_header=request.headers.get("Stripe-Signature", "")
        )
    except InvalidEvent as exc:
        logger.info("Stripe webhook refused: %s", exc)
        return JsonResponse({"error": {"code": "invalid_signature", "message": "Invalid signature."}}, status=400)
    return JsonResponse({"received": True, "duplicate": not created})


urlpatterns = [
    path("payment-methods/", payment_methods, name="payments_methods"),
    path("payment-methods/add/", payment_method_add, name="payments_method_add"),
    path("payment-methods/<str:method_id>/default/", payment_method_default, name="payments_method_default"),
    path("payment-methods/<str:method_id>/remove/", payment_method_remove, name="payments_method_remove"),
    path("payment-methods/top-up/", topup, name="payments_topup"),
    path("stripe/webhook/", stripe_webhook, name="payments_stripe_webhook"),
]
