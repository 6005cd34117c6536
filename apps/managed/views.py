"""Portal pages of managed services: the Services list, a service's page, reveal credentials, change tier, cancel.

Each view: login required and the current organisation through ``org_view``;
the service through ``selectors.service_get`` (another organisation's is a 404,
a write without ``resources.write`` a 403); one service call; then a redirect
with a message. Plain HTML forms, no JavaScript needed. Credentials are shown
once, in the response to the reveal (``service_credentials_reveal`` marks them
revealed and audits it), never stored in the session nor cached
(``Cache-Control: no-store``). Docs: apps/docs/content/web-hosting.md, paas.md,
cdn.md, load-balancers.md.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.catalogue import selectors as catalogue_selectors
from apps.core.errors import ApplicationError, NotFound
from apps.managed import forms, rules, selectors, services
from apps.managed.choices import ENDED_STATES, ServiceFamily, ServiceState
from apps.managed.models import ManagedService
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission
# States in which the service moves on its own (staff or a backend act): its page refreshes itself.
MOVING = frozenset({ServiceState.PROVISIONING, ServiceState.CHANGING})
# The customer docs page of each family (apps/docs/content/<slug>.md).
DOC_PAGES: dict[str, str] = {
    ServiceFamily.WEB_HOSTING: "web-hosting",
    ServiceFamily.PAAS: "paas",
    ServiceFamily.CDN: "cdn",
    ServiceFamily.LOAD_BALANCER: "load-balancers",
}
STATE_BADGE: dict[str, str] = {
    ServiceState.PROVISIONING: "warning",
    ServiceState.ACTIVE: "success",
    ServiceState.CHANGING: "info",
    ServiceState.SUSPENDED: "danger",
    ServiceState.CANCELLED: "muted",
    ServiceState.TERMINATED: "muted",
}


def _service(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID, *, write: bool = False) -> Any:
    try:
        service = selectors.service_get(
            actor=request.user, public_id=service_id, permission=P.RESOURCES_WRITE if write else P.RESOURCES_READ
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if service.organisation_id != organisation.pk:
        raise Http404(_("Service not found."))
    service.badge = STATE_BADGE.get(service.state, "muted")  # type: ignore[attr-defined]
    return service


def config_rows(service: ManagedService) -> list[tuple[str, str]]:
    """The configuration as ordered, in words (never a secret: environment variables by name only)."""
    c = service.config or {}
    rows: list[tuple[str, str]] = []
    if service.family == ServiceFamily.WEB_HOSTING:
        runtime = rules.WEB_RUNTIMES.get(c.get("runtime", ""), (c.get("runtime", ""), ()))[0]
        domain = c.get("domain", "")
        shown = rules.dns_name_display(domain)
        rows.append((_("Primary domain"), f"{shown} ({domain})" if shown != domain else domain))
        rows.append((_("Runtime"), f"{runtime} {c.get('version', '')}".strip()))
        if c.get("app"):
            rows.append((_("1-click app"), c["app"]))
        if c.get("extra_domains"):
            rows.append((_("Other domains"), ", ".join(c["extra_domains"])))
    elif service.family == ServiceFamily.PAAS:
        source = c.get("source") or {}
        if source.get("kind") == "image":
            rows.append((_("Container image"), source.get("image", "")))
        else:
            rows.append((_("Git repository"), f"{source.get('url', '')} ({source.get('branch', '')})"))
        rows.append((_("Environment"), c.get("environment", "")))
        rows.append((_("Containers"), f"{c.get('containers', '')} × {c.get('ram_gb', '')} GB"))
        if c.get("env"):
            rows.append((_("Environment variables (values hidden)"), ", ".join(c["env"])))
    elif service.family == ServiceFamily.CDN:
        origin = c.get("origin") or {}
        rows.append(
            (_("Origin"), origin.get("url") or f"{origin.get('kind', '')} {origin.get('name', origin.get('id', ''))}")
        )
        rows.append((_("Hostnames"), ", ".join(c.get("hostnames", []))))
        for rule in c.get("cache_rules", []):
            rows.append((_("Cache rule"), f"{rule.get('path')} → {rule.get('ttl')} s"))
        rows.append((_("WAF"), c.get("waf", "")))
    else:
        for rule in c.get("rules", []):
            rows.append(
                (
                    _("Forwarding rule"),
                    f"{rule.get('protocol')} {rule.get('port')} → "
                    f"{rule.get('target_protocol')} {rule.get('target_port')}",
                )
            )
        for target in c.get("targets", []):
            rows.append((_("Target"), target.get("id") or target.get("label_selector", "")))
    return rows


def _tiers(service: ManagedService) -> Any:
    """Other orderable tiers of the service's family, sold where it runs."""
    qs = catalogue_selectors.offer_list_public().filter(family_id=service.offer.family_id).exclude(pk=service.offer_id)
    if service.datacentre_id is not None:
        qs = qs.filter(datacentres=service.datacentre_id)
    return qs


def _detail_context(request: HttpRequest, organisation: Organisation, service: Any) -> dict[str, Any]:
    can_write = actor_has_permission(request.user, organisation, P.RESOURCES_WRITE, obj=service)
    tiers = _tiers(service)
    credentials = selectors.service_credential_names(service=service)
    return {
        "organisation": organisation,
        "service": service,
        "moving": service.state in MOVING,
        "ended": service.state in ENDED_STATES,
        "config_rows": config_rows(service),
        "credentials": credentials,
        "credentials_hidden": any(c["revealed_at"] is None for c in credentials),
        "transitions": selectors.service_transition_list(service=service),
        "order": service.orders.order_by("created_at").first(),
        "can_write": can_write,
        "can_change_tier": can_write and service.state == ServiceState.ACTIVE and tiers.exists(),
        "cancel_form": forms.ServiceCancelForm(),
        "doc_page": DOC_PAGES.get(service.family, "ordering"),
        "tier_form": forms.ServiceTierForm(tiers=tiers),
        "curl": (
            f"curl -s {request.scheme}://{request.get_host()}/api/v1/services/{service.public_id}/ \\\n"
            '  -H "Authorization: Bearer $VMCLOUD_TOKEN"'
        ),
    }


@org_view(P.RESOURCES_READ)
def service_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = forms.ServiceFilterForm(request.GET or None)
    where = Q(organisation=organisation)
    if form.is_valid():
        if form.cleaned_data["family"]:
            where &= Q(family=form.cleaned_data["family"])
        if form.cleaned_data["state"]:
            where &= Q(state=form.cleaned_data["state"])
    rows = list(selectors.service_list(actor=request.user, where=where)[:200])
    for service in rows:
        service.badge = STATE_BADGE.get(service.state, "muted")  # type: ignore[attr-defined]
    context = {
        "organisation": organisation,
        "services": rows,
        "filter_form": form,
        "can_order": actor_has_permission(request.user, organisation, P.RESOURCES_WRITE),
        "list_curl": (
            f"curl -s {request.scheme}://{request.get_host()}/api/v1/services/ \\\n"
            '  -H "Authorization: Bearer $VMCLOUD_TOKEN"'
        ),
    }
    return render(request, "managed/service_list.html", context)


@org_view(P.RESOURCES_READ)
def service_detail(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    service = _service(request, organisation, service_id)
    return render(request, "managed/service_detail.html", _detail_context(request, organisation, service))


@require_POST
@org_view(P.RESOURCES_READ)
def service_credentials(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    """Reveal the delivered credentials, once: this response is the only place they are shown."""
    service = _service(request, organisation, service_id, write=True)
    try:
        revealed = services.service_credentials_reveal(service=service, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("managed:service_detail", service_id=service.public_id)
    context = _detail_context(request, organisation, service)
    context["revealed"] = sorted(revealed.items())
    response = render(request, "managed/service_detail.html", context)
    add_never_cache_headers(response)
    return response


@require_POST
@org_view(P.RESOURCES_READ)
def service_tier(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    service = _service(request, organisation, service_id, write=True)
    form = forms.ServiceTierForm(request.POST, tiers=_tiers(service))
    if not form.is_valid():
        messages.error(request, _("Choose another tier of this service's family."))
        return redirect("managed:service_detail", service_id=service.public_id)
    try:
        services.service_change_tier(service=service, actor=request.user, offer=form.cleaned_data["offer"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Tier change to %(tier)s requested: billed at its price from now.")
            % {"tier": form.cleaned_data["offer"].code},
        )
    return redirect("managed:service_detail", service_id=service.public_id)


@require_POST
@org_view(P.RESOURCES_READ)
def service_cancel(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    service = _service(request, organisation, service_id, write=True)
    form = forms.ServiceCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Type the service's name to confirm."))
        return redirect("managed:service_detail", service_id=service.public_id)
    try:
        services.service_cancel(
            service=service,
            actor=request.user,
            confirm_name=form.cleaned_data["confirm"],
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Service cancelled: billing stopped now."))
    return redirect("managed:service_detail", service_id=service.public_id)
