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

from apps.catalogue.models import OsImage
from apps.core.errors import ApplicationError, NotFound
from apps.orders import forms, selectors, services
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view


def _form_error(form: Any, exc: ApplicationError) -> None:
    fields = form.add_service_errors(exc.fields) if hasattr(form, "add_service_errors") else exc.fields
    for field, errors in fields.items():
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
    if request.method == "POST":
        form = forms.OrderForm(request.POST, organisation=organisation, actor=request.user)
    else:
        # /orders/new/?offer=GPU-PRO&datacentre=PAR-1 (links from the pricing page) preselects the plan.
        preset = {k: request.GET[k] for k in ("offer", "datacentre", "image", "gpu_stack") if request.GET.get(k)}
        # A plan chosen without JavaScript ("Show this plan's fields") keeps what was typed.
        preset.update({k: str(request.GET[k]) for k in ("name", "project") if request.GET.get(k)})
        form = forms.OrderForm(organisation=organisation, actor=request.user, selection=preset, initial=dict(preset))
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
                gpu_stack=data["gpu_stack"],
                name=data["name"],
                ssh_keys=[key.public_id for key in data.get("ssh_keys") or []],
                user_data=data.get("user_data") or "",
                service=form.service_data(),
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
    form = forms.OrderForm(organisation=organisation, actor=request.user, selection=request.GET)
    quote = None
    if form.offer_obj is not None and form.datacentre_obj is not None:
        image = form.image_obj
        stack_slug = request.GET.get("gpu_stack")
        stack = (
            form.fields["gpu_stack"].queryset.filter(slug=stack_slug).first()  # type: ignore[attr-defined]
            if stack_slug and image is not None
            else None
        )
        if image is None and request.GET.get("image"):
            # An image the plan cannot be built with here: say so rather than quote without it.
            image = OsImage.objects.filter(slug=request.GET["image"]).first()
        quote = selectors.quote_build(
            offer=form.offer_obj, datacentre=form.datacentre_obj, image=image, gpu_stack=stack
        )
    return render(request, "orders/_quote.html", {"quote": quote})


@org_view(Permission.RESOURCES_READ)
def order_choices(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The datacentre, image and GPU stack fields for the chosen plan (htmx partial): only what can be built."""
    form = forms.OrderForm(organisation=organisation, actor=request.user, selection=request.GET)
    response = render(request, "orders/_order_choices.html", {"form": form})
    # The price panel follows the new choices (orders/order_create.html listens for this event).
    response["HX-Trigger-After-Settle"] = "order-choices-changed"
    return response


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
