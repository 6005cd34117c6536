"""Portal pages of billing: the costs overview (/billing/), usage, budgets, and two htmx fragments
(the estimate beside the order wizard, the costs card of the dashboard).

Each page: login and the current organisation through ``org_view`` with
``billing.read`` (``billing.manage`` to change budgets or mark notices read);
a member gets the 403 page. The dashboard fragment answers an empty 204 to
those who may not see costs, so the dashboard shows nothing for them.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.billing import selectors, services
from apps.billing.forms_costs import BudgetForm
from apps.billing.models import Budget
from apps.billing.rules.rating import lines_total
from apps.billing.selectors.costs import DaySpend, month_start
from apps.core.errors import ApplicationError
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project
from apps.teams.portal import current_organisation, org_view

P = Permission
CHART_WIDTH, CHART_HEIGHT = 600, 160
SECRET_SESSION_KEY = "billing_budget_secret"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _bars(days: list[DaySpend], today: date | None) -> dict[str, Any]:
    """Geometry of the daily spend bar chart (inline SVG, drawn on the server)."""
    top = max((d.amount for d in days), default=Decimal(0))
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        height = float(day.amount / top) * CHART_HEIGHT if top > 0 else 0.0
        bars.append(
            {
                "x": round(index * slot + 1, 2),
                "y": round(CHART_HEIGHT - height, 2),
                "width": round(max(slot - 2, 1), 2),
                "height": round(height, 2),
                "day": day.day,
                "amount": day.amount,
                "today": day.day == today,
            }
        )
    return {"bars": bars, "top": top, "width": CHART_WIDTH, "height": CHART_HEIGHT, "empty": top <= 0}


def _month_choices(now: date, count: int = 12) -> list[date]:
    months, current = [], now.replace(day=1)
    for _i in range(count):
        months.append(current)
        current = (current - timedelta(days=1)).replace(day=1)
    return months


def _month_from(request: HttpRequest) -> date | None:
    value = request.GET.get("month", "")
    month = selectors.parse_month(value) if value else None
    if month is not None and month > month_start(timezone.now()):
        return None
    return month


def _budget(organisation: Organisation, budget_id: Any) -> Budget:
    budget = Budget.objects.filter(organisation=organisation, public_id=budget_id).select_related("project").first()
    if budget is None:
        raise Http404(_("Budget not found."))
    return budget


def _form_errors(form: BudgetForm, exc: ApplicationError) -> None:
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def _budget_values(form: BudgetForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data["notify_emails"] = [e for e in re.split(r"[,;\s]+", data.get("notify_emails") or "") if e]
    data["thresholds"] = [t for t in re.split(r"[,;\s]+", data.get("thresholds") or "") if t]
    return data


# ---------------------------------------------------------------------------
# Overview and usage
# ---------------------------------------------------------------------------
@org_view(P.BILLING_READ)
def costs_overview(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    project = None
    project_id = request.GET.get("project", "")
    if project_id.isdigit():
        project = Project.objects.filter(organisation=organisation, pk=int(project_id)).first()
    summary = selectors.cost_summary(organisation=organisation, project=project)
    context = {
        "organisation": organisation,
        "billing_tab": "overview",
        "summary": summary,
        "chart": _bars(summary.days, timezone.now().date()),
        "projects": Project.objects.filter(organisation=organisation).order_by("name"),
        "selected_project": project,
        "notices": selectors.notice_list(organisation=organisation)[:10],
        "budgets": selectors.budget_list(organisation=organisation),
        "can_manage": actor_has_permission(request.user, organisation, P.BILLING_MANAGE),
    }
    return render(request, "billing/costs_overview.html", context)


@org_view(P.BILLING_MANAGE)
@require_POST
def costs_notices_read(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    count = services.notices_mark_read(organisation=organisation, actor=request.user)
    if count:
        messages.success(request, _("Notices marked read."))
    return redirect("billing:costs_overview")


@org_view(P.BILLING_READ)
def costs_usage(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    now = timezone.now()
    month = _month_from(request) or month_start(now)
    lines = selectors.rate_month(organisation_id=organisation.pk, month=month)
    project_names = dict(Project.all_objects.filter(organisation=organisation).values_list("pk", "name"))
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="usage-{organisation.slug}-{month:%Y-%m}.csv"'
        writer = csv.writer(response)
        writer.writerow(
            ["project", "resource_type", "resource_id", "resource", "description", "from", "until", "quantity",
             "unit", "unit_price", "amount_eur"]
        )  # fmt: skip
        for line in lines:
            writer.writerow(
                [
                    project_names.get(line.project_id, ""),
                    line.resource_type,
                    line.resource_id,
                    line.resource_name,
                    line.description,
                    line.period_start.isoformat(),
                    line.period_end.isoformat(),
                    line.quantity,
                    line.unit,
                    line.unit_price,
                    line.amount,
                ]
            )
        return response
    context = {
        "organisation": organisation,
        "billing_tab": "usage",
        "month": month,
        "months": _month_choices(now.date()),
        "lines": [{"line": line, "project": project_names.get(line.project_id, "")} for line in lines],
        "total": lines_total(lines),
        "is_current": month == month_start(now),
    }
    return render(request, "billing/costs_usage.html", context)


# ---------------------------------------------------------------------------
# Fragments
# ---------------------------------------------------------------------------
@org_view(P.ORG_READ)
def costs_estimate_fragment(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The estimate with VAT beside the order wizard (htmx partial, no side effects)."""
    estimate, error = None, ""
    offer_code, dc_code = request.GET.get("offer", ""), request.GET.get("datacentre", "")
    if offer_code:
        try:
            offer = selectors.offer_for_estimate(code=offer_code)
            datacentre = selectors.datacentre_for_estimate(code=dc_code, offer=offer) if dc_code else None
            estimate = selectors.estimate_build(organisation=organisation, offer=offer, datacentre=datacentre)
        except ApplicationError as exc:
            error = exc.message
    return render(request, "billing/_costs_estimate.html", {"estimate": estimate, "error": error})


@login_required
def costs_dashboard_fragment(request: HttpRequest) -> HttpResponse:
    """The dashboard's costs card, for those who hold ``billing.read``; an empty 204 for anyone else."""
    organisation = current_organisation(request)
    if organisation is None or not actor_has_permission(request.user, organisation, P.BILLING_READ):
        return HttpResponse(status=204)
    summary = selectors.cost_summary(organisation=organisation)
    context = {"summary": summary, "chart": _bars(summary.days, timezone.now().date())}
    return render(request, "billing/_dashboard_costs.html", context)


# ---------------------------------------------------------------------------
# Budgets
# ---------------------------------------------------------------------------
@org_view(P.BILLING_READ)
def budget_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    items = list(selectors.budget_list(organisation=organisation).prefetch_related("alerts"))
    month = month_start(timezone.now())
    for budget in items:
        budget.alerts_this_month = [  # type: ignore[attr-defined]
            a.threshold for a in budget.alerts.all() if a.month == month
        ]
    context = {
        "organisation": organisation,
        "billing_tab": "budgets",
        "budgets": items,
        "secret": request.session.pop(SECRET_SESSION_KEY, None),
        "can_manage": actor_has_permission(request.user, organisation, P.BILLING_MANAGE),
    }
    return render(request, "billing/costs_budget_list.html", context)


@org_view(P.BILLING_MANAGE)
def budget_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = BudgetForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            budget, secret = services.budget_create(
                organisation=organisation, actor=request.user, **_budget_values(form)
            )
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            request.session[SECRET_SESSION_KEY] = {"name": budget.name, "secret": secret}
            messages.success(request, _("Budget created."))
            return redirect("billing:costs_budget_list")
    context = {"organisation": organisation, "billing_tab": "budgets", "form": form, "budget": None}
    return render(request, "billing/costs_budget_form.html", context)


@org_view(P.BILLING_MANAGE)
def budget_edit(request: HttpRequest, organisation: Organisation, budget_id: Any) -> HttpResponse:
    budget = _budget(organisation, budget_id)
    form = BudgetForm(request.POST or None, organisation=organisation, budget=budget)
    if request.method == "POST" and form.is_valid():
        try:
            services.budget_update(budget=budget, actor=request.user, **_budget_values(form))
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Budget saved."))
            return redirect("billing:costs_budget_list")
    context = {"organisation": organisation, "billing_tab": "budgets", "form": form, "budget": budget}
    return render(request, "billing/costs_budget_form.html", context)


@org_view(P.BILLING_MANAGE)
@require_POST
def budget_delete(request: HttpRequest, organisation: Organisation, budget_id: Any) -> HttpResponse:
    budget = _budget(organisation, budget_id)
    services.budget_delete(budget=budget, actor=request.user)
    messages.success(request, _("Budget deleted."))
    return redirect("billing:costs_budget_list")


@org_view(P.BILLING_READ)
def budget_alerts(request: HttpRequest, organisation: Organisation, budget_id: Any) -> HttpResponse:
    budget = _budget(organisation, budget_id)
    context = {
        "organisation": organisation,
        "billing_tab": "budgets",
        "budget": budget,
        "alerts": selectors.budget_alert_list(budget=budget)[:500],
    }
    return render(request, "billing/costs_budget_alerts.html", context)


urlpatterns = [
    path("", costs_overview, name="costs_overview"),
    path("notices/read/", costs_notices_read, name="costs_notices_read"),
    path("usage/", costs_usage, name="costs_usage"),
    path("estimate/fragment/", costs_estimate_fragment, name="costs_estimate_fragment"),
    path("dashboard/fragment/", costs_dashboard_fragment, name="costs_dashboard_fragment"),
    path("budgets/", budget_list, name="costs_budget_list"),
    path("budgets/new/", budget_create, name="costs_budget_create"),
    path("budgets/<uuid:budget_id>/edit/", budget_edit, name="costs_budget_edit"),
    path("budgets/<uuid:budget_id>/delete/", budget_delete, name="costs_budget_delete"),
    path("budgets/<uuid:budget_id>/alerts/", budget_alerts, name="costs_budget_alerts"),
]
