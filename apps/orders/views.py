"""Portal pages of orders: the order wizard with a live price, the list, an order's page, cancel.

Same shape as the API: login and the current organisation through
``teams.portal.org_view``, one service or selector per request, the
service's field errors shown on the form.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.orders import forms, selectors, services
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view


def _form_error(form: Any, exc: ApplicationError) -> None:
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def _order(request: HttpRequest, order_id: uuid.UUID, permission: Permission = Permission.RESOURCES_READ) -> Any:
    try:
        order = selectors.order_get(actor=request.user, order_id=order_id, permission=permission)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return order


@org_view(Permission.RESOURCES_READ)
def order_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    orders = selectors.order_list(actor=request.user, organisation=organisation)[:200]
    can_order = actor_has_permission(request.user, organisation, Permission.RESOURCES_WRITE)
    context = {"organisation": organisation, "orders": orders, "can_order": can_order}
    return render(request, "orders/order_list.html", context)


@org_view(Permission.RESOURCES_READ)
def order_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = forms.OrderForm(request.POST or None, organisation=organisation, actor=request.user)
    if not form.fields["project"].queryset.exists():  # type: ignore[attr-defined]
        # No project in which the actor may create resources (a viewer, a read-only guest).
        return render(
            request, "teams/forbidden.html", {"message": _("Your role does not allow this action.")}, status=403
        )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.order_place(
                actor=request.user,
                organisation=organisation,
                project=data["project"],
                offer=data["offer"],
                datacentre=data["datacentre"],
                image=data["image"],
                name=data["name"],
                ssh_keys=[key.public_id for key in data["ssh_keys"]],
                user_data=data["user_data"],
                idempotency_key=data["idempotency_key"],
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Order placed."))
            return redirect("orders:order_detail", order_id=order.public_id)
    return render(request, "orders/order_create.html", {"organisation": organisation, "form": form})


@org_view(Permission.RESOURCES_READ)
def order_quote(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The live price beside the wizard (htmx partial): no side effects."""
    form = forms.OrderForm(organisation=organisation, actor=request.user)
    quote = None
    offer_code, dc_code = request.GET.get("offer"), request.GET.get("datacentre")
    offer = form.fields["offer"].queryset.filter(code=offer_code).first() if offer_code else None  # type: ignore[attr-defined]
    datacentre = form.fields["datacentre"].queryset.filter(code=dc_code).first() if dc_code else None  # type: ignore[attr-defined]
    image_slug = request.GET.get("image")
    image = form.fields["image"].queryset.filter(slug=image_slug).first() if image_slug else None  # type: ignore[attr-defined]
    if offer is not None and datacentre is not None:
        quote = selectors.quote_build(offer=offer, datacentre=datacentre, image=image)
    return render(request, "orders/_quote.html", {"quote": quote})


@org_view(Permission.RESOURCES_READ)
def order_detail(request: HttpRequest, organisation: Organisation, order_id: uuid.UUID) -> HttpResponse:
    order = _order(request, order_id)
    can_cancel = order.is_cancellable and actor_has_permission(
        request.user, order.organisation, Permission.RESOURCES_WRITE, obj=order
    )
    context = {
        "organisation": organisation,
        "order": order,
        "history": order.transitions.all(),
        "can_cancel": can_cancel,
        "cancel_form": forms.OrderCancelForm(),
    }
    return render(request, "orders/order_detail.html", context)


@require_POST
@org_view(Permission.RESOURCES_READ)
def order_cancel(request: HttpRequest, organisation: Organisation, order_id: uuid.UUID) -> HttpResponse:
    order = _order(request, order_id, Permission.RESOURCES_WRITE)
    form = forms.OrderCancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.order_cancel(order=order, actor=request.user, reason=reason)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Order cancelled; the reserved capacity was released."))
    return redirect("orders:order_detail", order_id=order.public_id)
