"""Portal page of a load balancer: its rules, targets with their health, certificate and what its VM runs.

``/services/<id>/load-balancer/``, below the service's own page (``apps.managed``: name, state,
tier, cancel). Login required and the current organisation (``org_view``); another
organisation's service, or a service of another family, is a 404. Plain HTML forms: upload a
certificate, read the targets' health now (both need ``resources.write``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.loadbalancers import services
from apps.loadbalancers.forms import (
    CertificateForm,
    HealthCheckForm,
    RulesForm,
    SettingsForm,
    TargetsForm,
    errors_from,
    initial_forms,
    targets_parse,
)
from apps.loadbalancers.models import LoadBalancer
from apps.managed import selectors as managed_selectors
from apps.managed.rules import lb_rules_parse
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission


def _lb(
    request: HttpRequest, organisation: Organisation, service_id: uuid.UUID, *, write: bool = False
) -> LoadBalancer:
    try:
        service = managed_selectors.service_get(
            actor=request.user, public_id=service_id, permission=P.RESOURCES_WRITE if write else P.RESOURCES_READ
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    lb = (
        LoadBalancer.objects.select_related("service", "service__offer", "datacentre", "certificate", "instance")
        .filter(service=service, service__organisation=organisation)
        .first()
    )
    if lb is None:
        raise Http404(_("This service is not a load balancer."))
    return lb


def _snippets(request: HttpRequest, lb: LoadBalancer) -> dict[str, str]:
    """The same curl snippets as a server's page (``$VMCLOUD_TOKEN``: an API token of the organisation)."""
    url = request.build_absolute_uri(f"/api/v1/services/{lb.service.public_id}/load-balancer/")
    auth = '-H "Authorization: Bearer $VMCLOUD_TOKEN"'
    body = '{"targets": [{"kind": "label_selector", "label_selector": "role=web"}]}'
    return {
        "get": f"curl {auth} {url}",
        "targets": f"curl -X PUT {auth} -H \"Content-Type: application/json\" -d '{body}' {url}targets/",
    }


def _page(
    request: HttpRequest,
    organisation: Organisation,
    lb: LoadBalancer,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    health = lb.target_health or {}
    context: dict[str, Any] = {
        **initial_forms(lb),
        **(bound or {}),
        "lb": lb,
        "service": lb.service,
        "targets": [{**t, "health": health.get(t["id"], "unknown")} for t in lb.applied_targets or []],
        "pending": lb.applied_generation < lb.config_generation,
        "can_write": actor_has_permission(request.user, organisation, P.RESOURCES_WRITE),
        "snippets": _snippets(request, lb),
    }
    return render(request, "loadbalancers/load_balancer_detail.html", context, status=status)


@org_view(P.RESOURCES_READ)
def load_balancer_detail(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    return _page(request, organisation, _lb(request, organisation, service_id))


def _edit(
    request: HttpRequest,
    organisation: Organisation,
    service_id: uuid.UUID,
    *,
    form_class: type[forms.Form],
    key: str,
    change: Callable[[LoadBalancer, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Validate the form, call the service; field errors re-render the page (400), success redirects."""
    lb = _lb(request, organisation, service_id, write=True)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            change(lb, form.cleaned_data)
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            errors_from(form, exc.message, getattr(exc, "fields", None))
        else:
            messages.success(request, done)
            return redirect("loadbalancers:load_balancer_detail", service_id=service_id)
    lb.refresh_from_db()
    return _page(request, organisation, lb, bound={key: form}, status=400)


@require_POST
@org_view(P.RESOURCES_READ)
def load_balancer_rules(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    return _edit(
        request,
        organisation,
        service_id,
        form_class=RulesForm,
        key="rules_form",
        change=lambda lb, data: services.lb_rules_set(
            actor=request.user, load_balancer=lb, rules=lb_rules_parse(data["rules"])
        ),
        done=_("The forwarding rules are saved and being applied."),
    )


@require_POST
@org_view(P.RESOURCES_READ)
def load_balancer_targets(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    return _edit(
        request,
        organisation,
        service_id,
        form_class=TargetsForm,
        key="targets_form",
        change=lambda lb, data: services.lb_targets_set(
            actor=request.user,
            load_balancer=lb,
            targets=targets_parse(data["targets"], organisation=organisation),
        ),
        done=_("The targets are saved and being applied."),
    )


@require_POST
@org_view(P.RESOURCES_READ)
def load_balancer_health_check(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    return _edit(
        request,
        organisation,
        service_id,
        form_class=HealthCheckForm,
        key="health_form",
        change=lambda lb, data: services.lb_health_check_set(
            actor=request.user, load_balancer=lb, health_check={**data, "path": data["path"] or "/"}
        ),
        done=_("The health check is saved and being applied."),
    )


def _settings(request: HttpRequest, lb: LoadBalancer, data: dict[str, Any]) -> LoadBalancer:
    current = lb.sticky_sessions or {}
    sticky = (
        {"cookie_name": data["cookie_name"] or "LBSTICKY", "ttl_seconds": current.get("ttl_seconds", 3600)}
        if data["sticky"]
        else None
    )
    return services.lb_settings_update(
        actor=request.user,
        load_balancer=lb,
        sticky_sessions=sticky,
        redirect_http_to_https=data["redirect_http_to_https"],
        proxy_protocol=data["proxy_protocol"],
    )


@require_POST
@org_view(P.RESOURCES_READ)
def load_balancer_settings(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    return _edit(
        request,
        organisation,
        service_id,
        form_class=SettingsForm,
        key="settings_form",
        change=lambda lb, data: _settings(request, lb, data),
        done=_("The settings are saved and being applied."),
    )


@require_POST
@org_view(P.RESOURCES_READ)
def load_balancer_certificate(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    return _edit(
        request,
        organisation,
        service_id,
        form_class=CertificateForm,
        key="certificate_form",
        change=lambda lb, data: services.lb_certificate_upload(
            actor=request.user,
            load_balancer=lb,
            certificate=data["certificate"],
            chain=data["chain"],
            private_key=data["private_key"],
        ),
        done=_("The certificate is checked and being applied."),
    )


@require_POST
@org_view(P.RESOURCES_READ)
def load_balancer_health(request: HttpRequest, organisation: Organisation, service_id: uuid.UUID) -> HttpResponse:
    lb = _lb(request, organisation, service_id, write=True)
    services.lb_health_read(lb_id=lb.pk)
    return redirect("loadbalancers:load_balancer_detail", service_id=service_id)
