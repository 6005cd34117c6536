"""The Console tab: a single-use ticket for the browser console (noVNC)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from apps.core.errors import ApplicationError
from apps.instances import services
from apps.instances.views.server_page import _base_context, _detail_url, _instance, _report
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission


@never_cache
@org_view(P.ORG_READ)
def server_console(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """GET: the Console tab. POST "Open console": issue a single-use ticket and render the noVNC page with it."""
    instance = _instance(request, instance_id, write=request.method == "POST")
    context = _base_context(request, instance, "console")
    if request.method == "POST":
        try:
            context["console_ticket"] = services.console_ticket_issue(instance=instance, actor=request.user)
        except ApplicationError as exc:
            _report(request, exc)
            return redirect(_detail_url(instance, "console"))
    context["console_available"] = instance.status in services.CONSOLE_STATUSES
    return render(request, "instances/server_console.html", context)
