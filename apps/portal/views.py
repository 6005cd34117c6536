"""Portal pages: the public home and the signed-in dashboard."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from apps.alerts import selectors as alert_selectors
from apps.catalogue.choices import FamilyKind
from apps.instances import selectors as instance_selectors
from apps.instances.choices import InstanceStatus
from apps.managed import selectors as managed_selectors
from apps.orders import selectors as order_selectors
from apps.orders.choices import FulfilmentStatus, OrderState
from apps.portal.selectors import home_facts
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import current_organisation

S = InstanceStatus
# Statuses that settle by themselves: the dashboard polls while one is shown.
SETTLED = frozenset({S.RUNNING, S.STOPPED, S.ERROR, S.DELETED})
# Orders still on their way: a server not created yet, or a service staff have not delivered.
ORDERS_IN_FLIGHT = (OrderState.PENDING, OrderState.AWAITING_APPROVAL, OrderState.PROVISIONING)
# Orders that are no resource at all (never delivered, and final).
ORDERS_GONE = (OrderState.CANCELLED, OrderState.REJECTED)
SERVICES_SHOWN = 100


def home(request: HttpRequest) -> HttpResponse:
    """The public home: its places, GPU models and figures come from the catalogue and fleet (portal.selectors)."""
    return render(request, "portal/home.html", {"facts": home_facts()})


def _services(request: HttpRequest, organisation: Organisation) -> list[Any]:
    """Managed-service orders (web hosting, PaaS, load balancers, CDN…) with their fulfilment status, plus
    server orders that have no server yet (awaiting approval, or about to be created), newest first."""
    qs = order_selectors.order_list(actor=request.user, organisation=organisation).exclude(state__in=ORDERS_GONE)
    qs = qs.filter(
        ~Q(offer__family__kind=FamilyKind.VIRTUAL_MACHINE) | Q(instance__isnull=True, state__in=ORDERS_IN_FLIGHT)
    )
    orders = list(qs[:SERVICES_SHOWN])
    for order in orders:
        order.is_service = order.offer.family.kind != FamilyKind.VIRTUAL_MACHINE  # type: ignore[attr-defined]
        order.moving = order.state in ORDERS_IN_FLIGHT or order.fulfilment_status in (  # type: ignore[attr-defined]
            FulfilmentStatus.QUEUED,
            FulfilmentStatus.IN_PROGRESS,
        )
    return orders


def _services_context(request: HttpRequest, organisation: Organisation | None) -> dict[str, Any]:
    """What ``portal/_dashboard_services.html`` needs; it polls itself while an order moves."""
    services = _services(request, organisation) if organisation is not None and not organisation.is_suspended else []
    return {
        "services": services,
        "services_polling": any(o.moving for o in services),
        "services_url": reverse("portal:dashboard_services"),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every resource of the current organisation, with live status: servers (the table polls while one moves)
    and managed services or orders on their way (that list polls while one moves).

    A user without an organisation (or whose organisation is suspended) sees the empty state.
    """
    organisation = current_organisation(request)
    instances: list[Any] = []
    services_cap = Decimal("0")
    can_order = False
    if organisation is not None and not organisation.is_suspended:
        instances = list(instance_selectors.instance_list(actor=request.user).filter(organisation=organisation)[:200])
        can_order = actor_has_permission(request.user, organisation, Permission.RESOURCES_WRITE)
        # Live managed services count in the monthly cap like servers (issue 14): each at most its tier's price.
        services_cap = managed_selectors.service_list(
            actor=request.user, where=Q(organisation=organisation), include_ended=False
        ).aggregate(cap=Sum("price_monthly"))["cap"] or Decimal("0")
    context = {
        "organisation": organisation,
        "instances": instances,
        "compact": True,
        "polling": any(i.status not in SETTLED for i in instances),
        "table_url": reverse("instances:server_table"),
        "running": sum(1 for i in instances if i.status == S.RUNNING),
        "stopped": sum(1 for i in instances if i.status == S.STOPPED),
        "attention": sum(1 for i in instances if i.status == S.ERROR),
        "monthly_cap": sum((i.price_monthly for i in instances), Decimal("0")) + services_cap,
        "can_order": can_order,
        **_services_context(request, organisation),
        # The empty state's "ready in about a minute in …": only where a server can be ordered now.
        "server_cities": home_facts().server_cities if not instances else [],
        # Alerts fired or resolved, until dismissed (apps.alerts, issue 16).
        "alert_notices": list(alert_selectors.alert_notices_open(organisation=organisation, limit=5))
        if organisation is not None
        else [],
    }
    return render(request, "portal/dashboard.html", context)


@login_required
def dashboard_services(request: HttpRequest) -> HttpResponse:
    """The live services list partial, polled by htmx while an order or a set-up is in progress."""
    return render(request, "portal/_dashboard_services.html", _services_context(request, current_organisation(request)))
