"""The servers page and its live table (an htmx partial polled while a server is moving)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from apps.instances import forms, selectors
from apps.instances.models import Instance
from apps.instances.views.server_page import _curl, _decorate
from apps.teams.access import actor_has_permission, project_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission


def _server_rows(request: HttpRequest, organisation: Organisation) -> tuple[list[Instance], forms.ServerFilterForm]:
    projects = project_list_for_actor(actor=request.user, organisation=organisation).order_by("name")
    form = forms.ServerFilterForm(request.GET or None, projects=projects)
    qs = selectors.instance_list(actor=request.user).filter(organisation=organisation)
    if form.is_valid():
        if form.cleaned_data["project"]:
            qs = qs.filter(project_id=form.cleaned_data["project"])
        if form.cleaned_data["status"]:
            qs = qs.filter(status=form.cleaned_data["status"])
    return _decorate(list(qs[:500])), form


def _table_context(request: HttpRequest, organisation: Organisation, *, compact: bool = False) -> dict[str, Any]:
    """What ``instances/_server_table.html`` needs."""
    rows, form = _server_rows(request, organisation)
    return {
        "instances": rows,
        "filter_form": form,
        "polling": any(i.transitional for i in rows),  # type: ignore[attr-defined]
        "table_url": reverse("instances:server_table") + ("?" + request.GET.urlencode() if request.GET else ""),
        "compact": compact,
    }


@org_view(P.ORG_READ)
def server_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    context = _table_context(request, organisation)
    context["can_order"] = actor_has_permission(request.user, organisation, P.RESOURCES_WRITE)
    context["list_curl"] = _curl(request, "GET", "/instances/")
    return render(request, "instances/server_list.html", context)


@org_view(P.ORG_READ)
def server_table(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The live table partial, polled by htmx while an instance is moving."""
    compact = request.GET.get("compact") == "1"
    return render(request, "instances/_server_table.html", _table_context(request, organisation, compact=compact))
