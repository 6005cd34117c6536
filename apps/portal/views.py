"""Portal pages: the public home and the signed-in dashboard."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from apps.instances import selectors as instance_selectors
from apps.instances.choices import InstanceStatus
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.portal import current_organisation

S = InstanceStatus
# Statuses that settle by themselves: the dashboard polls while one is shown.
SETTLED = frozenset({S.RUNNING, S.STOPPED, S.ERROR, S.DELETED})


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every resource of the current organisation, with live status (the servers table polls while one moves).

    A user without an organisation (or whose organisation is suspended) sees the empty state.
    """
    organisation = current_organisation(request)
    instances: list[Any] = []
    can_order = False
    if organisation is not None and not organisation.is_suspended:
        instances = list(instance_selectors.instance_list(actor=request.user).filter(organisation=organisation)[:200])
        can_order = actor_has_permission(request.user, organisation, Permission.RESOURCES_WRITE)
    context = {
        "organisation": organisation,
        "instances": instances,
        "compact": True,
        "polling": any(i.status not in SETTLED for i in instances),
        "table_url": reverse("instances:server_table"),
        "running": sum(1 for i in instances if i.status == S.RUNNING),
        "stopped": sum(1 for i in instances if i.status == S.STOPPED),
        "attention": sum(1 for i in instances if i.status == S.ERROR),
        "monthly_cap": sum((i.price_monthly for i in instances), Decimal("0")),
        "can_order": can_order,
    }
    return render(request, "portal/dashboard.html", context)
