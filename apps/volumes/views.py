"""Portal pages of the volumes app: the volumes list, the create form, a volume's page with its live
action panel, and the server page's "Volumes" tab.

Each view: login required and the current organisation through ``org_view``;
the volume through ``selectors.volume_get`` (another organisation's is a 404, a
write without ``resources.write`` a 403); one service call; then a redirect
with a message, following the action it opened (``?action=``). Service errors
become messages or form errors, never a 500. The list and the status card poll
(htmx) while a volume moves, and stop once it settled, like the servers pages.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.catalogue.models import Datacentre, Offer
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.instances import selectors as instance_selectors
from apps.instances.choices import OPEN_ACTION_STATUSES, ActionStatus, InstanceStatus
from apps.instances.models import Action, Instance
from apps.instances.views import server_tab_context
from apps.teams.access import actor_has_permission, project_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view
from apps.volumes import forms, rules, selectors, services
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from apps.volumes.services.volumes import ATTACHABLE_SERVER_STATUSES, STORAGE_FAMILY

P = Permission

# Statuses in which a volume is moving: pages poll while one is shown.
TRANSITIONAL = frozenset(
    {
        VolumeStatus.CREATING,
        VolumeStatus.ATTACHING,
        VolumeStatus.DETACHING,
        VolumeStatus.RESIZING,
        VolumeStatus.DELETING,
    }
)
ACTION_BADGE: dict[str, str] = {
    ActionStatus.SUCCESS: "success",
    ActionStatus.ERROR: "danger",
    ActionStatus.RUNNING: "info",
}
# Service field names → portal form field names.
FORM_FIELDS = {"server_id": "server", "project_id": "project"}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _volume(request: HttpRequest, volume_id: Any, *, write: bool = False) -> Volume:
    volume = selectors.volume_get(
        actor=request.user, public_id=volume_id, permission=P.RESOURCES_WRITE if write else P.RESOURCES_READ
    )
    volume.transitional = volume.status in TRANSITIONAL  # type: ignore[attr-defined]
    return volume


def _report(request: HttpRequest, exc: ApplicationError) -> None:
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    messages.error(request, exc.message)


def _form_error(form: Any, exc: ApplicationError) -> None:
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    for field, errors in exc.fields.items():
        name = FORM_FIELDS.get(field, field)
        for error in errors:
            form.add_error(name if name in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def _detail_url(volume: Volume, action: Action | None = None) -> str:
    url = reverse("volumes:volume_detail", args=[volume.public_id])
    return f"{url}?{urlencode({'action': action.public_id})}" if action is not None else url


def _curl(request: HttpRequest, method: str, path: str, body: str = "") -> str:
    base = request.build_absolute_uri("/api/v1/").rstrip("/")
    line = f'curl -X {method} -H "Authorization: Bearer $VMCLOUD_TOKEN" {base}{path}'
    if body:
        line += f" \\\n  -H \"Content-Type: application/json\" -d '{body}'"
    return line


def _tiers() -> QuerySet[Offer]:
    return Offer.objects.filter(family__slug=STORAGE_FAMILY, status="active").order_by("price_monthly", "code")


def _datacentres() -> QuerySet[Datacentre]:
    return Datacentre.objects.filter(pk__in=_tiers().values("datacentres")).order_by("code")


def _servers(request: HttpRequest, organisation: Organisation) -> QuerySet[Instance]:
    """Servers a volume can be attached to: visible, of this organisation, running or stopped."""
    return (
        instance_selectors.instance_list(actor=request.user)
        .filter(organisation=organisation, status__in=ATTACHABLE_SERVER_STATUSES)
        .order_by("name")
    )


def _decorate(action: Action | None) -> Action | None:
    if action is not None:
        action.badge = ACTION_BADGE.get(action.status, "warning")  # type: ignore[attr-defined]
    return action


def _followed_action(request: HttpRequest, volume: Volume) -> Action | None:
    """The action to follow: the one named in ``?action=``, else the volume's open one."""
    wanted = request.GET.get("action")
    if wanted:
        try:
            found = volume.actions.filter(public_id=wanted).first()
        except (ValueError, DjangoValidationError):
            found = None
        if found is not None:
            return _decorate(found)
    return _decorate(volume.actions.filter(status__in=OPEN_ACTION_STATUSES).first())


# ---------------------------------------------------------------------------
# The volumes list and its live table
# ---------------------------------------------------------------------------
def _table_context(request: HttpRequest, organisation: Organisation) -> dict[str, Any]:
    projects = project_list_for_actor(actor=request.user, organisation=organisation).order_by("name")
    form = forms.VolumeFilterForm(request.GET or None, projects=projects, datacentres=_datacentres())
    qs = selectors.volume_list(actor=request.user).filter(organisation=organisation)
    if form.is_valid():
        if form.cleaned_data["project"]:
            qs = qs.filter(project_id=form.cleaned_data["project"])
        if form.cleaned_data["status"]:
            qs = qs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["datacentre"]:
            qs = qs.filter(datacentre__code=form.cleaned_data["datacentre"])
    rows = list(qs[:500])
    for row in rows:
        row.transitional = row.status in TRANSITIONAL  # type: ignore[attr-defined]
    return {
        "volumes": rows,
        "filter_form": form,
        "polling": any(r.transitional for r in rows),  # type: ignore[attr-defined]
        "table_url": reverse("volumes:volume_table") + ("?" + request.GET.urlencode() if request.GET else ""),
    }


@org_view(P.ORG_READ)
def volume_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    context = _table_context(request, organisation)
    context["can_create"] = actor_has_permission(request.user, organisation, P.RESOURCES_WRITE)
    context["list_curl"] = _curl(request, "GET", "/volumes/")
    return render(request, "volumes/volume_list.html", context)


@org_view(P.ORG_READ)
def volume_table(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The live table partial, polled by htmx while a volume is moving."""
    return render(request, "volumes/_volume_table.html", _table_context(request, organisation))


# ---------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------
@org_view(P.RESOURCES_WRITE)
def volume_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    projects = list(project_list_for_actor(actor=request.user, organisation=organisation).order_by("name"))
    default_project = next((p for p in projects if p.is_default), projects[0] if projects else None)
    kwargs = {"tiers": _tiers(), "datacentres": _datacentres(), "projects": projects}
    servers = _servers(request, organisation)
    initial: dict[str, Any] = {"project": str(default_project.pk) if default_project else ""}
    wanted_server = request.GET.get("server")
    if wanted_server:
        try:
            chosen = servers.filter(public_id=wanted_server).first()
        except (ValueError, DjangoValidationError):
            chosen = None
        if chosen is not None:
            initial.update(server=chosen.pk, datacentre=chosen.datacentre_id, project=str(chosen.project_id))
    if request.method == "POST":
        form = forms.VolumeCreateForm(request.POST, servers=servers, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            project = next((p for p in projects if str(p.pk) == data["project"]), None)
            try:
                if project is None:
                    raise NotFound(_("Project not found."))
                volume, action = services.volume_create(
                    actor=request.user,
                    organisation=organisation,
                    project=project,
                    name=data["name"],
                    tier=data["tier"],
                    size_gb=data["size_gb"],
                    datacentre=data["datacentre"],
                    server=data["server"],
                    labels=data["labels"],
                    delete_protection=data["delete_protection"],
                )
            except ApplicationError as exc:
                _form_error(form, exc)
            else:
                messages.info(request, _("%(name)s is being created.") % {"name": volume.name})
                return redirect(_detail_url(volume, action))
        status = 400
    else:
        form = forms.VolumeCreateForm(initial=initial, servers=servers, **kwargs)
        status = 200
    context = {
        "form": form,
        "create_curl": _curl(
            request,
            "POST",
            "/volumes/",
            json.dumps(
                {
                    "organisation_id": organisation.pk,
                    "name": "data",
                    "tier": "STORAGE-NVME",
                    "size_gb": 100,
                    "datacentre": "PAR-1",
                }
            ),
        ),
    }
    return render(request, "volumes/volume_create.html", context, status=status)


# ---------------------------------------------------------------------------
# A volume's page, its live parts and its actions
# ---------------------------------------------------------------------------
def _detail_context(request: HttpRequest, volume: Volume) -> dict[str, Any]:
    can_write = actor_has_permission(request.user, volume.organisation, P.RESOURCES_WRITE, obj=volume)
    base = f"/volumes/{volume.public_id}"
    context: dict[str, Any] = {
        "volume": volume,
        "can_write": can_write,
        "followed_action": _followed_action(request, volume),
        "actions": list(volume.actions.select_related("instance")[:10]),
        "mount": rules.mount_commands(device_path=volume.device_path, mount_dir=rules.mount_point(volume.name)),
        "snippets": {
            "show": _curl(request, "GET", f"{base}/"),
            "attach": _curl(request, "POST", f"{base}/actions/attach/", '{"server_id": "SERVER-ID"}'),
            "detach": _curl(request, "POST", f"{base}/actions/detach/"),
            "resize": _curl(request, "POST", f"{base}/actions/resize/", json.dumps({"size_gb": volume.size_gb + 10})),
            "protection": _curl(request, "PATCH", f"{base}/", '{"delete_protection": true}'),
            "delete": _curl(request, "DELETE", f"{base}/"),
            "actions": _curl(request, "GET", f"{base}/actions/"),
        },
    }
    if can_write:
        servers = _servers(request, volume.organisation).filter(
            project_id=volume.project_id, datacentre_id=volume.datacentre_id
        )
        context.update(
            attach_form=forms.VolumeAttachForm(servers=servers),
            resize_form=forms.VolumeResizeForm(initial={"size_gb": volume.size_gb + 10}),
            settings_form=forms.VolumeSettingsForm(
                initial={"name": volume.name, "labels": "\n".join(f"{k}={v}" for k, v in volume.labels.items())}
            ),
            delete_form=forms.VolumeDeleteForm(expected=volume.name),
        )
    return context


@org_view(P.ORG_READ)
def volume_detail(request: HttpRequest, organisation: Organisation, volume_id: Any) -> HttpResponse:
    volume = _volume(request, volume_id)
    return render(request, "volumes/volume_detail.html", _detail_context(request, volume))


@org_view(P.ORG_READ)
def volume_status(request: HttpRequest, organisation: Organisation, volume_id: Any) -> HttpResponse:
    """The status card partial, polled while the volume moves and refreshed once an action ends."""
    volume = _volume(request, volume_id)
    return render(request, "volumes/_status.html", {"volume": volume})


@org_view(P.ORG_READ)
def action_detail(request: HttpRequest, organisation: Organisation, volume_id: Any, action_id: Any) -> HttpResponse:
    """The progress partial of one of the volume's actions; polled until it finished."""
    volume = _volume(request, volume_id)
    action = instance_selectors.action_get(actor=request.user, public_id=action_id)
    if action.resource_id != volume.public_id:
        raise NotFound(_("Action not found."))
    response = render(request, "volumes/_action.html", {"volume": volume, "action": _decorate(action)})
    if action.status not in OPEN_ACTION_STATUSES:
        # The status card (hx-trigger="volume-changed from:body") refreshes once.
        response["HX-Trigger"] = "volume-changed"
    return response


def _act(request: HttpRequest, volume: Volume, call: Any, done: str) -> HttpResponse:
    try:
        action = call()
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(_detail_url(volume))
    messages.info(request, done)
    return redirect(_detail_url(volume, action))


@require_POST
@org_view(P.ORG_READ)
def volume_attach(request: HttpRequest, organisation: Organisation, volume_id: Any) -> HttpResponse:
    volume = _volume(request, volume_id, write=True)
    form = forms.VolumeAttachForm(request.POST, servers=_servers(request, organisation))
    if not form.is_valid():
        messages.error(request, _("Choose a running or stopped server of the volume's project and datacentre."))
        return redirect(_detail_url(volume))
    server = form.cleaned_data["server"]
    return _act(
        request,
        volume,
        lambda: services.volume_attach(actor=request.user, volume=volume, server=server),
        _("Attaching to %(server)s.") % {"server": server.name},
    )


@require_POST
@org_view(P.ORG_READ)
def volume_detach(request: HttpRequest, organisation: Organisation, volume_id: Any) -> HttpResponse:
    volume = _volume(request, volume_id, write=True)
    return _act(
        request, volume, lambda: services.volume_detach(actor=request.user, volume=volume), _("Detaching the volume.")
    )


@require_POST
@org_view(P.ORG_READ)
def volume_resize(request: HttpRequest, organisation: Organisation, volume_id: Any) -> HttpResponse:
    volume = _volume(request, volume_id, write=True)
    form = forms.VolumeResizeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a size from 10 to 10000 GB, larger than the volume's."))
        return redirect(_detail_url(volume))
    size_gb = form.cleaned_data["size_gb"]
    try:
        action = services.volume_resize(actor=request.user, volume=volume, size_gb=size_gb)
    except ApplicationError as exc:
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        messages.error(request, " ".join([exc.message, *(e for errs in exc.fields.values() for e in errs)]))
        return redirect(_detail_url(volume))
    messages.info(request, _("Growing the volume to %(size)s GB.") % {"size": size_gb})
    return redirect(_detail_url(volume, action))


@require_POST
@org_view(P.ORG_READ)
def volume_settings(request: HttpRequest, organisation: Organisation, volume_id: Any) -> HttpResponse:
    volume = _volume(request, volume_id, write=True)
    form = forms.VolumeSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.volume_update(
                actor=request.user, volume=volume, name=form.cleaned_data["name"], labels=form.cleaned_data["labels"]
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect(_detail_url(volume))
    context = _detail_context(request, volume)
    context["settings_form"] = form
    return render(request, "volumes/volume_detail.html", context, status=400)


@require_POST
@org_view(P.ORG_READ)
def volume_protection(request: HttpRequest, organisation: Organisation, volume_id: Any) -> HttpResponse:
    volume = _volume(request, volume_id, write=True)
    enable = request.POST.get("enabled") == "1"
    try:
        services.volume_update(actor=request.user, volume=volume, delete_protection=enable)
    except ApplicationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("Delete protection is on.") if enable else _("Delete protection is off."))
    return redirect(_detail_url(volume))


@require_POST
@org_view(P.ORG_READ)
def volume_delete(request: HttpRequest, organisation: Organisation, volume_id: Any) -> HttpResponse:
    volume = _volume(request, volume_id, write=True)
    form = forms.VolumeDeleteForm(request.POST, expected=volume.name)
    if not form.is_valid():
        messages.error(request, _("Type the volume's exact name to delete it."))
        return redirect(_detail_url(volume))
    try:
        services.volume_delete(actor=request.user, volume=volume)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(_detail_url(volume))
    messages.success(request, _("%(name)s is being deleted.") % {"name": volume.name})
    return redirect("volumes:volume_list")


# ---------------------------------------------------------------------------
# The server page's "Volumes" tab
# ---------------------------------------------------------------------------
@org_view(P.ORG_READ)
def server_volumes(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """Each attached volume with its stable device path in the guest and the commands to format and mount it."""
    instance, context = server_tab_context(request, instance_id, tab="volumes")
    volumes = list(selectors.volume_list(actor=request.user).filter(server=instance).order_by("created_at", "id"))
    for volume in volumes:
        volume.transitional = volume.status in TRANSITIONAL  # type: ignore[attr-defined]
        volume.mount = rules.mount_commands(  # type: ignore[attr-defined]
            device_path=volume.device_path, mount_dir=rules.mount_point(volume.name)
        )
    can_attach = context["can_write"] and instance.status in (InstanceStatus.RUNNING, InstanceStatus.STOPPED)
    context.update(
        volumes=volumes,
        can_attach=can_attach,
        detached=_detached_for(request, instance) if can_attach else [],
    )
    return render(request, "volumes/server_volumes.html", context)


def _detached_for(request: HttpRequest, instance: Instance) -> list[Volume]:
    """Available volumes of the server's project and datacentre (what ``volume_attach`` accepts)."""
    return list(
        selectors.volume_list(actor=request.user)
        .filter(
            status=VolumeStatus.AVAILABLE,
            project_id=instance.project_id,
            datacentre_id=instance.datacentre_id,
            server__isnull=True,
        )
        .order_by("name")[:200]
    )


@require_POST
@org_view(P.ORG_READ)
def server_volume_attach(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """Attach one of the available volumes to this server, from its Volumes tab."""
    instance, _context = server_tab_context(request, instance_id, tab="volumes", write=True)
    tab_url = reverse("volumes:server_volumes", args=[instance.public_id])
    try:
        volume = _volume(request, request.POST.get("volume", ""), write=True)
    except NotFound:
        messages.error(request, _("Choose a volume to attach."))
        return redirect(tab_url)
    try:
        action = services.volume_attach(actor=request.user, volume=volume, server=instance)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(tab_url)
    messages.info(request, _("Attaching %(volume)s.") % {"volume": volume.name})
    return redirect(f"{tab_url}?{urlencode({'action': action.public_id})}")
