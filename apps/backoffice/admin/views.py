"""The back office's own pages: organisation, fleet (datacentre, cluster, node) and search.

Thin views: each checks the staff member's permission, reads through ``apps.backoffice.selectors``
and writes through the owning app's service (suspend: ``apps.teams``; credit: ``apps.billing``;
drain: ``apps.infrastructure``; note: ``apps.backoffice``), which audit as staff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from apps.backoffice import selectors, services
from apps.backoffice.admin import forms as bo_forms
from apps.backoffice.selectors.fleet import gpu_tenant
from apps.billing import services as billing_services
from apps.core.errors import ApplicationError, NotFound
from apps.infrastructure import services as infra_services
from apps.infrastructure.models import Node
from apps.teams import services as team_services
from apps.teams.models import Organisation


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):  # type: ignore[union-attr]
        raise PermissionDenied


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


def _apply_errors(form: forms.Form, exc: ApplicationError) -> None:
    """Put a service's refusal on the form: its field messages, else its message at the top."""
    fields = getattr(exc, "fields", None) or {}
    placed = False
    for name, errors in fields.items():
        if name in form.fields:
            for error in errors:
                form.add_error(name, str(error))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


# ---------------------------------------------------------------------------
# Organisation page
# ---------------------------------------------------------------------------
ORG_ACTIONS: dict[str, tuple[str, type[forms.Form]]] = {
    "suspend": ("teams.change_organisation", bo_forms.SuspendForm),
    "unsuspend": ("teams.change_organisation", forms.Form),
    "credit": ("billing.add_creditgrant", bo_forms.CreditForm),
    "note": ("backoffice.add_staffnote", bo_forms.NoteForm),
}


def _org_action(request: HttpRequest, org: Organisation, action: str, data: dict[str, Any]) -> str:
    actor = request.user
    if action == "suspend":
        team_services.organisation_suspend(organisation=org, reason=data["reason"], actor=actor)  # type: ignore[arg-type]
        return _("Organisation suspended.")
    if action == "unsuspend":
        team_services.organisation_unsuspend(organisation=org, actor=actor)  # type: ignore[arg-type]
        return _("Suspension lifted.")
    if action == "credit":
        billing_services.credit_grant(
            organisation=org,
            kind=data["kind"],
            amount=data["amount"],
            description=data["description"],
            expires_at=data.get("expires_at"),
            actor=actor,
        )
        return _("Credit granted.")
    services.staff_note_create(organisation=org, body=data["body"], actor=actor)
    return _("Note saved.")


def organisation_page(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "teams.view_organisation")
    org = get_object_or_404(Organisation, pk=pk)
    user = request.user
    allowed = {name for name, (perm, _form) in ORG_ACTIONS.items() if user.has_perm(perm)}  # type: ignore[union-attr]
    bound: dict[str, forms.Form] = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ORG_ACTIONS:
            return HttpResponse(_("Unknown action."), status=400)
        if action not in allowed:
            raise PermissionDenied
        form = ORG_ACTIONS[action][1](request.POST)
        if form.is_valid():
            try:
                done = _org_action(request, org, action, form.cleaned_data)
            except ApplicationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, done)
                return HttpResponseRedirect(request.path)
        bound[action] = form
        status = 400
    action_forms = {
        "suspend": bound.get("suspend") or bo_forms.SuspendForm(),
        "credit": bound.get("credit") or bo_forms.CreditForm(),
        "note": bound.get("note") or bo_forms.NoteForm(),
    }
    view = selectors.organisation_view(organisation=org)
    context = _context(
        request,
        _("Organisation %(name)s") % {"name": org.name},
        view=view,
        org=org,
        allowed=allowed,
        forms=action_forms,
        can={"view_billing": user.has_perm("billing.view_invoice")},  # type: ignore[union-attr]
    )
    return TemplateResponse(request, "backoffice/organisation.html", context, status=status)


# ---------------------------------------------------------------------------
# Fleet pages
# ---------------------------------------------------------------------------
def _fleet(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


def fleet_page(request: HttpRequest) -> HttpResponse:
    _require(request, "infrastructure.view_node")
    context = _context(request, _("Fleet"), datacentres=selectors.datacentre_list())
    return TemplateResponse(request, "backoffice/fleet.html", context)


def datacentre_page(request: HttpRequest, code: str) -> HttpResponse:
    _require(request, "infrastructure.view_node")
    view = _fleet(lambda: selectors.datacentre_view(code=code))
    context = _context(request, _("Datacentre %(code)s") % {"code": view.datacentre.code}, view=view)
    return TemplateResponse(request, "backoffice/datacentre.html", context)


def cluster_page(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "infrastructure.view_node")
    view = _fleet(lambda: selectors.cluster_view(cluster_id=pk))
    context = _context(request, _("Cluster %(name)s") % {"name": view.cluster.name}, view=view)
    return TemplateResponse(request, "backoffice/cluster.html", context)


def node_page(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "infrastructure.view_node")
    node = get_object_or_404(Node, pk=pk)
    can_drain = request.user.has_perm("infrastructure.change_node")  # type: ignore[union-attr]
    form = bo_forms.DrainForm()
    status = 200
    if request.method == "POST":
        if not can_drain:
            raise PermissionDenied
        form = bo_forms.DrainForm(request.POST)
        drain = request.POST.get("action") == "drain"
        if request.POST.get("action") not in ("drain", "undrain"):
            return HttpResponse(_("Unknown action."), status=400)
        if form.is_valid():
            try:
                infra_services.node_set_maintenance(
                    node=node, maintenance=drain, reason=form.cleaned_data["reason"], actor=request.user
                )
            except ApplicationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Node drained.") if drain else _("Node back in service."))
                return HttpResponseRedirect(request.path)
        status = 400
    view = _fleet(lambda: selectors.node_view(node_id=pk))
    gpus = [(gpu, gpu_tenant(gpu)) for gpu in view.gpus]
    context = _context(
        request, _("Node %(name)s") % {"name": node.name}, view=view, gpus=gpus, can_drain=can_drain, form=form
    )
    return TemplateResponse(request, "backoffice/node.html", context, status=status)


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------
def search_view(request: HttpRequest) -> HttpResponse:
    form = bo_forms.SearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    hits = selectors.search(q=q, can_view=request.user.has_perm) if q else []  # type: ignore[union-attr]
    rows = []
    for hit in hits:
        try:
            url = reverse(hit.admin_url, args=[hit.pk])
        except NoReverseMatch:  # a model without an admin page: the hit shows without a link
            url = ""
        org_url = (
            reverse("admin:backoffice_organisation", args=[hit.organisation_id])
            if hit.organisation_id and hit.admin_url != "admin:backoffice_organisation"
            else ""
        )
        rows.append({"hit": hit, "url": url, "org_url": org_url})
    context = _context(request, _("Search"), q=q, rows=rows, searched=bool(q))
    return TemplateResponse(request, "backoffice/search.html", context)
