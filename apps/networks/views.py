"""Portal pages of private networks: list and create, a network's page (attach, detach, delete), the server tab.

Each view: login required and the current organisation through ``org_view``;
writes call one service and redirect with a message; a service's refusal is
shown on the page (visibility and permission errors go to ``org_view``'s handler).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.catalogue.models import Datacentre
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.instances.choices import OPEN_ACTION_STATUSES, InstanceStatus
from apps.instances.models import Instance
from apps.instances.selectors import instance_get, instance_list
from apps.instances.views import server_tab_context
from apps.networks import forms, rules, selectors, services
from apps.networks.choices import AttachmentStatus, NetworkStatus
from apps.networks.models import Network, NetworkZone
from apps.teams.access import actor_has_permission, project_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission
SETTLING_NETWORK = (NetworkStatus.CREATING, NetworkStatus.DELETING)
SETTLING_CARD = (AttachmentStatus.ATTACHING, AttachmentStatus.DETACHING)


def _report(request: HttpRequest, exc: ApplicationError) -> None:
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    fields = "; ".join(message for errors in exc.fields.values() for message in errors)
    messages.error(request, f"{exc.message} {fields}".strip())


def _curl(request: HttpRequest, method: str, path: str, body: dict[str, Any] | None = None) -> str:
    base = request.build_absolute_uri("/api/v1/").rstrip("/")
    line = f'curl -X {method} -H "Authorization: Bearer $VMCLOUD_TOKEN" {base}{path}'
    if body:
        line += f" \\\n  -H \"Content-Type: application/json\" -d '{json.dumps(body)}'"
    return line


def _datacentres() -> list[Datacentre]:
    ids = NetworkZone.objects.filter(enabled=True).values("cluster__datacentre_id")
    return list(Datacentre.objects.filter(pk__in=ids).order_by("position", "code"))


def _settling(network: Network) -> bool:
    return network.status in SETTLING_NETWORK or any(
        a.status in SETTLING_CARD for a in getattr(network, "live_attachments", [])
    )


@org_view(P.ORG_READ)
def network_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    can_write = actor_has_permission(request.user, organisation, P.RESOURCES_WRITE)
    projects = list(project_list_for_actor(actor=request.user, organisation=organisation, permission=P.RESOURCES_WRITE))
    datacentres = _datacentres()
    form = forms.NetworkCreateForm(request.POST or None, projects=projects, datacentres=datacentres)
    if request.method == "POST" and can_write and form.is_valid():
        project = next(p for p in projects if str(p.pk) == form.cleaned_data["project"])
        datacentre = Datacentre.objects.get(code=form.cleaned_data["datacentre"])
        try:
            network, _action = services.network_create(
                actor=request.user,
                organisation=organisation,
                project=project,
                name=form.cleaned_data["name"],
                datacentre=datacentre,
                ip_range=form.cleaned_data["ip_range"],
                subnets=form.subnet_list(),
            )
        except ApplicationError as exc:
            if isinstance(exc, NotFound | PermissionDenied):
                raise
            for field, errors in exc.fields.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Network %(name)s is being created.") % {"name": network.name})
            return redirect("networks:network_detail", network.public_id)
    networks = list(selectors.network_list(actor=request.user).filter(organisation=organisation))
    context = {
        "networks": networks,
        "form": form,
        "can_write": can_write,
        "settling": any(_settling(n) for n in networks),
        "list_curl": _curl(request, "GET", "/networks/"),
        "create_curl": _curl(
            request,
            "POST",
            "/networks/",
            {
                "organisation_id": organisation.pk,
                "name": "backend",
                "datacentre": datacentres[0].code if datacentres else "PAR-1",
                "ip_range": "10.0.0.0/16",
            },
        ),
    }
    template = "networks/_network_table.html" if request.headers.get("HX-Request") else "networks/network_list.html"
    return render(request, template, context)


def _network(request: HttpRequest, network_id: Any, *, write: bool = False) -> Network:
    return selectors.network_get(
        actor=request.user, public_id=network_id, permission=P.RESOURCES_WRITE if write else P.RESOURCES_READ
    )


@org_view(P.ORG_READ)
def network_detail(request: HttpRequest, organisation: Organisation, network_id: Any) -> HttpResponse:
    network = _network(request, network_id)
    can_write = actor_has_permission(request.user, network.organisation, P.RESOURCES_WRITE, obj=network)
    joined = {a.instance_id for a in network.live_attachments}  # type: ignore[attr-defined]
    servers = [
        s
        for s in instance_list(actor=request.user).filter(
            project_id=network.project_id,
            datacentre_id=network.datacentre_id,
            status__in=(InstanceStatus.RUNNING, InstanceStatus.STOPPED),
        )
        if s.pk not in joined
    ]
    subnets = list(network.subnets.all())
    in_use = Counter(a.subnet_id for a in network.live_attachments)  # type: ignore[attr-defined]
    for subnet in subnets:
        subnet.capacity = rules.capacity(subnet.block)  # type: ignore[attr-defined]
        subnet.in_use = in_use.get(subnet.pk, 0)  # type: ignore[attr-defined]
    actions = list(selectors.network_action_list(network=network).select_related("instance")[:10])
    context = {
        "network": network,
        "subnets": subnets,
        "attachments": network.live_attachments,  # type: ignore[attr-defined]
        "history": selectors.network_history(network=network),
        "actions": actions,
        "open_actions": [a for a in actions if a.status in OPEN_ACTION_STATUSES],
        "can_write": can_write,
        "attach_form": forms.AttachForm(servers=servers),
        "has_servers": bool(servers),
        "settling": _settling(network) or any(a.status in OPEN_ACTION_STATUSES for a in actions),
        "attach_curl": _curl(
            request, "POST", f"/networks/{network.public_id}/actions/attach/", {"server_id": "<server id>"}
        ),
        "get_curl": _curl(request, "GET", f"/networks/{network.public_id}/"),
    }
    template = "networks/_network_body.html" if request.headers.get("HX-Request") else "networks/network_detail.html"
    return render(request, template, context)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else default)


@require_POST
@org_view(P.ORG_READ)
def network_attach(request: HttpRequest, organisation: Organisation, network_id: Any) -> HttpResponse:
    network = _network(request, network_id, write=True)
    default = reverse("networks:network_detail", args=[network.public_id])
    server_id = request.POST.get("server", "")
    try:
        server = instance_get(actor=request.user, public_id=server_id, permission=P.RESOURCES_WRITE)
    except NotFound:
        messages.error(request, _("Choose a server."))
        return _back(request, default)
    form = forms.AttachForm(request.POST, servers=[server])
    if not form.is_valid():
        messages.error(request, _("Give an IPv4 address, or leave the address empty."))
        return _back(request, default)
    try:
        services.network_attach(actor=request.user, network=network, server=server, ip=form.cleaned_data["ip"] or None)
    except ApplicationError as exc:
        _report(request, exc)
    else:
        messages.success(
            request, _("%(server)s is joining %(network)s.") % {"server": server.name, "network": network.name}
        )
    return _back(request, default)


@require_POST
@org_view(P.ORG_READ)
def network_detach(request: HttpRequest, organisation: Organisation, network_id: Any) -> HttpResponse:
    network = _network(request, network_id, write=True)
    default = reverse("networks:network_detail", args=[network.public_id])
    try:
        server = instance_get(
            actor=request.user, public_id=request.POST.get("server", ""), permission=P.RESOURCES_WRITE
        )
        services.network_detach(actor=request.user, network=network, server=server)
    except ApplicationError as exc:
        _report(request, exc)
    else:
        messages.success(
            request, _("%(server)s is leaving %(network)s.") % {"server": server.name, "network": network.name}
        )
    return _back(request, default)


@require_POST
@org_view(P.ORG_READ)
def network_delete(request: HttpRequest, organisation: Organisation, network_id: Any) -> HttpResponse:
    network = _network(request, network_id, write=True)
    try:
        services.network_delete(actor=request.user, network=network)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect("networks:network_detail", network.public_id)
    messages.success(request, _("Network %(name)s is being deleted.") % {"name": network.name})
    return redirect("networks:network_list")


@require_POST
@org_view(P.ORG_READ)
def subnet_delete(request: HttpRequest, organisation: Organisation, network_id: Any, subnet_id: Any) -> HttpResponse:
    network = _network(request, network_id, write=True)
    subnet = network.subnets.filter(public_id=subnet_id).first()
    if subnet is None:
        raise NotFound(_("No such subnet."))
    try:
        services.subnet_delete(actor=request.user, network=network, subnet=subnet)
    except ApplicationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("Subnet %(cidr)s is being deleted.") % {"cidr": subnet.cidr})
    return redirect("networks:network_detail", network.public_id)


@org_view(P.ORG_READ)
def server_networks(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """The server page's Networks tab: its private addresses, the reboot note, joining and leaving."""
    instance, context = server_tab_context(request, instance_id, tab="networks")
    attachments = selectors.server_attachments(instance=instance)
    networks = (
        list(selectors.attachable_networks(actor=request.user, instance=instance)) if context["can_write"] else []
    )
    context.update(
        {
            "attachments": attachments,
            "needs_reboot": any(a.needs_reboot for a in attachments),
            "join_form": forms.JoinForm(networks=networks),
            "networks_available": bool(networks),
            "settling": any(a.status in SETTLING_CARD for a in attachments),
        }
    )
    return render(request, "networks/server_networks.html", context)


@require_POST
@org_view(P.ORG_READ)
def server_join(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """The server tab's join form: the network is chosen, the server is the page's."""
    server: Instance = instance_get(actor=request.user, public_id=instance_id, permission=P.RESOURCES_WRITE)
    back = reverse("networks:server_networks", args=[server.public_id])
    try:
        network = _network(request, request.POST.get("network", ""), write=True)
    except NotFound:
        messages.error(request, _("Choose a network."))
        return redirect(back)
    form = forms.JoinForm(request.POST, networks=[network])
    if not form.is_valid():
        messages.error(request, _("Give an IPv4 address, or leave the address empty."))
        return redirect(back)
    try:
        action = services.network_attach(
            actor=request.user, network=network, server=server, ip=form.cleaned_data["ip"] or None
        )
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(back)
    messages.success(
        request, _("%(server)s is joining %(network)s.") % {"server": server.name, "network": network.name}
    )
    return redirect(f"{back}?action={action.public_id}")
