"""Portal pages of floating IPs: list and reserve, detail (assign, move, unassign, release), the server tab.

Thin: forms shape the input, ``services`` decide; a refused write comes back
as a message on the page (docs/dev/style.md#app-shape).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.catalogue.models import Datacentre
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.floating_ips import forms, selectors, services
from apps.floating_ips.choices import SETTLED_STATUSES, FloatingIpStatus
from apps.floating_ips.models import FloatingIp
from apps.floating_ips.rules import guest_snippets
from apps.infrastructure.models import IpPool
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.instances.selectors import instance_get, instance_list
from apps.instances.views import server_tab_context
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission
ASSIGNABLE = (InstanceStatus.RUNNING, InstanceStatus.STOPPED)


def _report(request: HttpRequest, exc: ApplicationError) -> None:
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    messages.error(request, exc.message)


def _api_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/api/v1/").rstrip("/")


def _curl(request: HttpRequest, method: str, path: str, body: str = "") -> str:
    line = f'curl -X {method} -H "Authorization: Bearer $VMCLOUD_TOKEN" {_api_base(request)}{path}'
    if body:
        line += f" \\\n  -H \"Content-Type: application/json\" -d '{body}'"
    return line


def _datacentres() -> QuerySet[Datacentre]:
    with_pool = IpPool.objects.filter(family=4, is_active=True).values("datacentre_id")
    return Datacentre.objects.filter(pk__in=with_pool).order_by("position", "code")


def _servers(request: HttpRequest, organisation: Organisation, where: Q | None = None) -> QuerySet[Instance]:
    """The organisation's servers that can take a floating IP, visible to the user."""
    qs = (
        instance_list(actor=request.user)
        .filter(organisation=organisation, status__in=ASSIGNABLE, vmid__isnull=False, ipv4__isnull=False)
        .select_related("datacentre")
        .order_by("name")
    )
    return qs.filter(where) if where is not None else qs


def _floating_ip(request: HttpRequest, floating_ip_id: Any, *, write: bool = False) -> FloatingIp:
    return selectors.floating_ip_get(
        actor=request.user, public_id=floating_ip_id, permission=P.RESOURCES_WRITE if write else P.RESOURCES_READ
    )


def _detail_url(floating_ip: FloatingIp) -> str:
    return reverse("floating_ips:detail", args=[floating_ip.public_id])


def _back(request: HttpRequest, floating_ip: FloatingIp) -> HttpResponse:
    """Back to the page the form was on (the server tab posts with ``next``), else the floating IP's page."""
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(_detail_url(floating_ip))


@org_view(P.ORG_READ)
def floating_ip_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    rows = list(selectors.floating_ip_list(actor=request.user).filter(organisation=organisation)[:500])
    can_write = actor_has_permission(request.user, organisation, P.RESOURCES_WRITE)
    form = forms.FloatingIpCreateForm(datacentres=_datacentres(), servers=_servers(request, organisation))
    context = {
        "floating_ips": rows,
        "routes": selectors.floating_ip_routes(addresses=[f.address for f in rows]),
        "can_write": can_write,
        "form": form,
        "polling": any(f.status not in SETTLED_STATUSES for f in rows),
        "list_curl": _curl(request, "GET", "/floating_ips/"),
        "create_curl": _curl(request, "POST", "/floating_ips/", '{"name": "web-vip", "datacentre": "PAR-1"}'),
    }
    return render(request, "floating_ips/list.html", context)


@org_view(P.ORG_READ)
@require_POST
def floating_ip_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    servers = _servers(request, organisation)
    form = forms.FloatingIpCreateForm(request.POST, datacentres=_datacentres(), servers=servers)
    if not form.is_valid():
        messages.error(request, _("Check the name, the datacentre and the server."))
        return redirect("floating_ips:list")
    data = form.cleaned_data
    server = instance_get(actor=request.user, public_id=data["server"]) if data["server"] else None
    try:
        floating_ip, _action = services.floating_ip_create(
            actor=request.user,
            organisation=organisation,
            project=server.project if server else organisation.projects.get(is_default=True),
            name=data["name"],
            datacentre=Datacentre.objects.get(code=data["datacentre"]),
            server=server,
        )
    except ApplicationError as exc:
        _report(request, exc)
        return redirect("floating_ips:list")
    messages.success(request, _("Floating IP %(address)s reserved.") % {"address": floating_ip.address})
    return redirect(_detail_url(floating_ip))


def _detail_context(request: HttpRequest, organisation: Organisation, floating_ip: FloatingIp) -> dict[str, Any]:
    action = selectors.floating_ip_open_action(floating_ip=floating_ip)
    servers = _servers(
        request, organisation, Q(project_id=floating_ip.project_id, datacentre_id=floating_ip.datacentre_id)
    )
    base = f"/floating_ips/{floating_ip.public_id}"
    return {
        "fip": floating_ip,
        "route": selectors.floating_ip_routes(addresses=[floating_ip.address]).get(floating_ip.address),
        "action": action,
        "busy": action is not None or floating_ip.status not in SETTLED_STATUSES,
        "actions": list(selectors.floating_ip_action_list(floating_ip=floating_ip)[:10]),
        "can_write": actor_has_permission(request.user, organisation, P.RESOURCES_WRITE, obj=floating_ip),
        "assign_form": forms.FloatingIpAssignForm(servers=servers.exclude(pk=floating_ip.server_id or 0)),
        "snippets": guest_snippets(floating_ip.address),
        "curl": {
            "show": _curl(request, "GET", f"{base}/"),
            "assign": _curl(request, "POST", f"{base}/actions/assign/", '{"server": "SERVER-ID"}'),
            "unassign": _curl(request, "POST", f"{base}/actions/unassign/"),
            "delete": _curl(request, "DELETE", f"{base}/"),
        },
    }


@org_view(P.ORG_READ)
def floating_ip_detail(request: HttpRequest, organisation: Organisation, floating_ip_id: Any) -> HttpResponse:
    floating_ip = _floating_ip(request, floating_ip_id)
    return render(request, "floating_ips/detail.html", _detail_context(request, organisation, floating_ip))


@org_view(P.ORG_READ)
def floating_ip_status(request: HttpRequest, organisation: Organisation, floating_ip_id: Any) -> HttpResponse:
    """The status partial of the detail page, polled by htmx while an action runs."""
    floating_ip = _floating_ip(request, floating_ip_id)
    context = _detail_context(request, organisation, floating_ip)
    response = render(request, "floating_ips/_status.html", context)
    if request.headers.get("HX-Request") and not context["busy"]:
        # The action ended: reload the page once so its buttons and activity follow (htmx's HX-Refresh).
        response["HX-Refresh"] = "true"
    return response


@org_view(P.ORG_READ)
@require_POST
def floating_ip_assign(request: HttpRequest, organisation: Organisation, floating_ip_id: Any) -> HttpResponse:
    floating_ip = _floating_ip(request, floating_ip_id, write=True)
    server_id = request.POST.get("server", "")
    try:
        server = instance_get(actor=request.user, public_id=server_id, permission=P.RESOURCES_WRITE)
        services.floating_ip_assign(actor=request.user, floating_ip=floating_ip, server=server)
    except ApplicationError as exc:
        _report(request, exc)
        return _back(request, floating_ip)
    messages.info(
        request, _("Assigning %(address)s to %(server)s.") % {"address": floating_ip.address, "server": server.name}
    )
    return _back(request, floating_ip)


@org_view(P.ORG_READ)
@require_POST
def floating_ip_unassign(request: HttpRequest, organisation: Organisation, floating_ip_id: Any) -> HttpResponse:
    floating_ip = _floating_ip(request, floating_ip_id, write=True)
    try:
        services.floating_ip_unassign(actor=request.user, floating_ip=floating_ip)
    except ApplicationError as exc:
        _report(request, exc)
        return _back(request, floating_ip)
    messages.info(request, _("Unassigning %(address)s.") % {"address": floating_ip.address})
    return _back(request, floating_ip)


@org_view(P.ORG_READ)
@require_POST
def floating_ip_delete(request: HttpRequest, organisation: Organisation, floating_ip_id: Any) -> HttpResponse:
    floating_ip = _floating_ip(request, floating_ip_id, write=True)
    try:
        services.floating_ip_delete(actor=request.user, floating_ip=floating_ip)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(_detail_url(floating_ip))
    messages.info(request, _("Releasing %(address)s.") % {"address": floating_ip.address})
    return redirect("floating_ips:list")


@org_view(P.ORG_READ)
@require_POST
def floating_ip_protection(request: HttpRequest, organisation: Organisation, floating_ip_id: Any) -> HttpResponse:
    floating_ip = _floating_ip(request, floating_ip_id, write=True)
    try:
        services.floating_ip_update(
            actor=request.user, floating_ip=floating_ip, delete_protection=request.POST.get("on") == "1"
        )
    except ApplicationError as exc:
        _report(request, exc)
    return redirect(_detail_url(floating_ip))


@org_view(P.ORG_READ)
def server_floating_ips(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """The server page's "Floating IPs" tab: what is assigned, the guest configuration, assign another."""
    instance, context = server_tab_context(request, instance_id, tab="floating_ips")
    assigned = list(selectors.floating_ips_of_server(actor=request.user, server=instance))
    spare = selectors.floating_ip_list(
        actor=request.user,
        where=Q(project_id=instance.project_id, datacentre_id=instance.datacentre_id, server__isnull=True)
        & Q(status__in=SETTLED_STATUSES),
    )
    context.update(
        {
            "assigned": [(fip, guest_snippets(fip.address)) for fip in assigned],
            "routes": selectors.floating_ip_routes(addresses=[f.address for f in assigned]),
            "pick_form": forms.FloatingIpPickForm(floating_ips=spare),
            "has_spare": spare.exists(),
            "can_take": instance.status in ASSIGNABLE and instance.ipv4,
            "reserve_form": forms.FloatingIpCreateForm(
                initial={"datacentre": instance.datacentre.code, "server": str(instance.public_id)},
                datacentres=[instance.datacentre],
                servers=[instance],
            ),
            "released_status": FloatingIpStatus.RELEASED,
        }
    )
    return render(request, "floating_ips/server_tab.html", context)


@org_view(P.ORG_READ)
@require_POST
def server_floating_ip_assign(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """The server tab's form: assign the chosen floating IP to this server."""
    instance, _context = server_tab_context(request, instance_id, tab="floating_ips", write=True)
    back = reverse("floating_ips:server_floating_ips", args=[instance.public_id])
    try:
        floating_ip = _floating_ip(request, request.POST.get("floating_ip", ""), write=True)
        action = services.floating_ip_assign(actor=request.user, floating_ip=floating_ip, server=instance)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(back)
    messages.info(request, _("Assigning %(address)s to this server.") % {"address": floating_ip.address})
    return redirect(f"{back}?action={action.public_id}")
