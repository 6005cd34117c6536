"""Portal pages of orders: the create flow (family, datacentre, image, plan, options, summary), list, page, cancel.

Same shape as the API: login and the current organisation through
``teams.portal.org_view``, one service or selector per request, the
service's field errors shown on the form.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.instances.services import ssh_key_create
from apps.orders import forms, selectors, services
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view


def _form_error(form: Any, exc: ApplicationError) -> None:
    fields = form.add_service_errors(exc.fields) if hasattr(form, "add_service_errors") else exc.fields
    if hasattr(form, "add_option_errors"):
        fields = form.add_option_errors(fields)
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


def _order_form(request: HttpRequest, organisation: Organisation) -> forms.OrderForm:
    """The create flow's form: bound to a POST, else re-rendered from the query string.

    The query string is both the deep link (/orders/new/?offer=GPU-PRO&datacentre=PAR-1&image=ubuntu-24.04,
    from the pricing page) and the refresh that re-renders the flow with the choices made so far
    (the "Update" button without JavaScript, htmx with it).
    """
    if request.method == "POST":
        return forms.OrderForm(request.POST, organisation=organisation, actor=request.user)
    return forms.OrderForm(organisation=organisation, actor=request.user, selection=request.GET)


def _orders_place(request: HttpRequest, organisation: Organisation, form: forms.OrderForm) -> list[Any]:
    """Place the form's order, or one per server when several are asked, all or none.

    ``order_place`` places one order; N servers are N orders in one transaction
    (name-1 … name-N), each with its own idempotency key derived from the
    form's, so a resubmitted form places nothing twice. A key pasted inline is
    added through the instances service first, in the same transaction.
    """
    data = form.cleaned_data
    names = form.names() if form.is_vm else [data["name"]]
    key = data["idempotency_key"]
    orders = []
    with transaction.atomic():
        ssh_keys = [k.public_id for k in data.get("ssh_keys") or []]
        if form.is_vm and data.get("new_ssh_key"):
            try:
                created = ssh_key_create(
                    organisation=organisation,
                    name=data["new_ssh_key_name"],
                    public_key=data["new_ssh_key"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                raise _KeyError(exc) from exc
            ssh_keys.append(created.public_id)
        for index, name in enumerate(names, start=1):
            orders.append(
                services.order_place(
                    actor=request.user,
                    organisation=organisation,
                    project=data["project"],
                    offer=data["offer"],
                    datacentre=data["datacentre"],
                    image=data.get("image"),
                    gpu_stack=data.get("gpu_stack"),
                    name=name,
                    ssh_keys=ssh_keys,
                    user_data=data.get("user_data") or "",
                    service=form.service_data(),
                    **form.options(),
                    idempotency_key=key if len(names) == 1 else f"{key}-{index}",
                )
            )
    return orders


class _KeyError(Exception):
    """The inline SSH key was refused: its errors go on the new key's fields."""

    def __init__(self, exc: ApplicationError) -> None:
        super().__init__(exc.message)
        self.exc = exc


@org_view(Permission.RESOURCES_READ)
def order_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = _order_form(request, organisation)
    if not form.has_projects:
        # No project in which the actor may create resources (a viewer, a read-only guest).
        return render(
            request, "teams/forbidden.html", {"message": _("Your role does not allow this action.")}, status=403
        )
    if request.method == "POST" and form.is_valid():
        try:
            orders = _orders_place(request, organisation, form)
        except _KeyError as err:
            for field, errors in err.exc.fields.items():
                target = "new_ssh_key" if field == "public_key" else "new_ssh_key_name"
                for error in errors:
                    form.add_error(target, error)
            if not err.exc.fields:
                form.add_error("new_ssh_key", err.exc.message)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            if len(orders) == 1:
                messages.success(request, _("Order placed."))
                return redirect("orders:order_detail", order_id=orders[0].public_id)
            messages.success(request, _("%(n)s orders placed.") % {"n": len(orders)})
            return redirect("orders:order_list")
    return render(request, "orders/order_create.html", {"organisation": organisation, "form": form})


@org_view(Permission.RESOURCES_READ)
def order_choices(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The create flow alone (the cards, the options and the summary) for the choices in the query string."""
    form = _order_form(request, organisation)
    return render(request, "orders/_order_flow.html", {"organisation": organisation, "form": form})


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
