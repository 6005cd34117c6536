"""Portal pages of the instances app: the servers list, the instance page and its tabs,
lifecycle actions with their live progress, and SSH keys.

Each view: login required and the current organisation through ``org_view``;
the instance through ``selectors.instance_get`` (another organisation's is a
404, a write without ``resources.write`` a 403, both raised inside
``org_view``'s handler); one service call; then a redirect with a message.
Service errors (``ApplicationError``) become messages or form errors, never a
500. Live parts (status, action progress) are htmx partials polled every few
seconds while something is moving, and stop polling once it settled.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.catalogue.choices import ImageStatus
from apps.catalogue.models import Offer, OsImage
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.core.models import AuditEvent
from apps.infrastructure.models import VmTemplate
from apps.instances import choices, forms, selectors, services
from apps.instances.choices import ActionStatus, InstanceStatus
from apps.instances.models import Action, Instance
from apps.teams.access import actor_has_permission, project_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

logger = logging.getLogger(__name__)
P = Permission

# Statuses in which the instance is moving: pages poll while one is shown.
TRANSITIONAL = frozenset(
    {
        InstanceStatus.PROVISIONING,
        InstanceStatus.REBOOTING,
        InstanceStatus.RESIZING,
        InstanceStatus.REBUILDING,
        InstanceStatus.DELETING,
    }
)
ACTION_BADGE: dict[str, str] = {
    ActionStatus.SUCCESS: "success",
    ActionStatus.ERROR: "danger",
    ActionStatus.RUNNING: "info",
}
POWER_SERVICES: dict[str, Callable[..., Action]] = {
    choices.ActionType.START: services.instance_start,
    choices.ActionType.STOP: services.instance_stop,
    choices.ActionType.SHUTDOWN: services.instance_shutdown,
    choices.ActionType.REBOOT: services.instance_reboot,
    choices.ActionType.RESET: services.instance_reset,
}
TABS = ("overview", "snapshots", "metrics", "activity", "console")


@dataclass(frozen=True)
class ServerTab:
    """A tab another app adds to the server page (volumes, networks, firewalls, floating IPs).

    Apps above instances register theirs in ``AppConfig.ready()`` with
    ``server_tab_register``; the page links ``url_name`` with the server's
    public id, and the app's own view renders the tab with ``server_tab_context``.
    """

    key: str
    label: Any
    url_name: str
    order: int = 50


EXTRA_TABS: dict[str, ServerTab] = {}


def server_tab_register(*, key: str, label: Any, url_name: str, order: int = 50) -> None:
    """Add a tab to the server page (idempotent per ``key``), between Snapshots (10) and Activity (90)."""
    EXTRA_TABS[key] = ServerTab(key=key, label=label, url_name=url_name, order=order)


def server_tab_context(
    request: HttpRequest, instance_id: Any, *, tab: str, write: bool = False
) -> tuple[Instance, dict[str, Any]]:
    """The server and the page context for another app's tab: 404 unless visible, 403 without write on ``write``.

    The tab's template extends ``instances/_detail_base.html`` and fills ``{% block tab %}``.
    """
    instance = _instance(request, instance_id, write=write)
    return instance, _base_context(request, instance, tab)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _decorate(instances: Sequence[Instance]) -> list[Instance]:
    for instance in instances:
        instance.transitional = instance.status in TRANSITIONAL  # type: ignore[attr-defined]
    return list(instances)


def _can_write(request: HttpRequest, instance: Instance) -> bool:
    return actor_has_permission(request.user, instance.organisation, P.RESOURCES_WRITE, obj=instance)


def _instance(request: HttpRequest, instance_id: Any, *, write: bool = False) -> Instance:
    """404 unless visible; with ``write``, 403 unless the actor may change it (raised into ``org_view``)."""
    instance = selectors.instance_get(
        actor=request.user, public_id=instance_id, permission=P.RESOURCES_WRITE if write else P.RESOURCES_READ
    )
    if instance.status == InstanceStatus.DELETED:
        raise NotFound(_("Instance not found."))
    instance.transitional = instance.status in TRANSITIONAL  # type: ignore[attr-defined]
    return instance


def _report(request: HttpRequest, exc: ApplicationError) -> None:
    """A service refused: the message goes to the page (permission and visibility errors go to ``org_view``)."""
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    messages.error(request, exc.message)


def _form_error(form: Any, exc: ApplicationError) -> None:
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def _detail_url(instance: Instance, tab: str = "overview", action: Action | None = None) -> str:
    name = "instances:server_detail" if tab == "overview" else f"instances:server_{tab}"
    url = reverse(name, args=[instance.public_id])
    return f"{url}?{urlencode({'action': action.public_id})}" if action is not None else url


def _api_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/api/v1/").rstrip("/")


def _curl(request: HttpRequest, method: str, path: str, body: str = "") -> str:
    line = f'curl -X {method} -H "Authorization: Bearer $VMCLOUD_TOKEN" {_api_base(request)}{path}'
    if body:
        line += f" \\\n  -H \"Content-Type: application/json\" -d '{body}'"
    return line


def _snippets(request: HttpRequest, instance: Instance) -> dict[str, str]:
    """One curl line per action, with the real API paths (apps/instances/api/urls.py)."""
    base = f"/instances/{instance.public_id}"
    out = {t: _curl(request, "POST", f"{base}/actions/{t}/") for t in POWER_SERVICES}
    out["show"] = _curl(request, "GET", f"{base}/")
    out["resize"] = _curl(request, "POST", f"{base}/actions/resize/", '{"offer": "OFFER-CODE"}')
    out["rebuild"] = _curl(request, "POST", f"{base}/actions/rebuild/", '{"image": "ubuntu-24.04"}')
    out["reset_password"] = _curl(request, "POST", f"{base}/actions/reset_password/")
    out["update"] = _curl(request, "PATCH", f"{base}/", '{"name": "web-2", "labels": {"env": "prod"}}')
    out["protection"] = _curl(request, "PATCH", f"{base}/", '{"delete_protection": true}')
    out["delete"] = _curl(request, "DELETE", f"{base}/")
    out["snapshots"] = _curl(request, "GET", f"{base}/snapshots/")
    out["snapshot_create"] = _curl(request, "POST", f"{base}/snapshots/", '{"name": "before-upgrade"}')
    out["snapshot_schedule"] = _curl(
        request, "PUT", f"{base}/snapshot-schedule/", '{"frequency": "daily", "hour": 3, "retention": 7}'
    )
    out["metrics"] = _curl(request, "GET", f"{base}/metrics/?timeframe=hour")
    out["actions"] = _curl(request, "GET", f"{base}/actions/")
    return out


def _resize_offers(instance: Instance) -> QuerySet[Offer]:
    """Larger plans of the same family and GPU hardware (what ``instance_resize`` accepts)."""
    current = instance.offer
    return (
        Offer.objects.filter(
            family_id=current.family_id,
            gpu_model_id=current.gpu_model_id,
            gpu_count=current.gpu_count,
            vcpu__gte=current.vcpu or 0,
            ram_gb__gte=current.ram_gb or 0,
            disk_gb__gte=current.disk_gb or 0,
            status__in=["active", "hidden"],
        )
        .exclude(pk=current.pk)
        .order_by("price_monthly", "code")
    )


def _rebuild_images(instance: Instance) -> QuerySet[OsImage]:
    """Images with a template on the instance's cluster that fit its plan (what ``instance_rebuild`` accepts)."""
    if instance.cluster_id is None:
        return OsImage.objects.none()
    templates = VmTemplate.objects.filter(
        cluster_id=instance.cluster_id, gpu_ready=bool(instance.gpu_mappings), missing_since__isnull=True
    ).values("os_image_id")
    return OsImage.objects.filter(
        pk__in=templates,
        status=ImageStatus.AVAILABLE,
        min_ram_gb__lte=instance.offer.ram_gb or 0,
        min_disk_gb__lte=instance.offer.disk_gb or 0,
    ).order_by("position", "family", "version")


def _open_action(instance: Instance, request: HttpRequest) -> Action | None:
    """The action to follow: the one named in ``?action=``, else the instance's running one."""
    wanted = request.GET.get("action")
    qs = Action.objects.filter(instance=instance)
    if wanted:
        try:
            found = qs.filter(public_id=wanted).first()
        except (ValueError, DjangoValidationError):  # a malformed id is ignored
            found = None
        if found is not None:
            return found
    return qs.filter(status__in=choices.OPEN_ACTION_STATUSES).order_by("-created_at").first()


def _base_context(request: HttpRequest, instance: Instance, tab: str) -> dict[str, Any]:
    action = _open_action(instance, request)
    if action is not None:
        action.badge = ACTION_BADGE.get(action.status, "warning")  # type: ignore[attr-defined]
    return {
        "instance": instance,
        "tab": tab,
        "tabs": TABS,
        "extra_tabs": sorted(EXTRA_TABS.values(), key=lambda t: (t.order, t.key)),
        "can_write": _can_write(request, instance),
        "followed_action": action,
        "snippets": _snippets(request, instance),
    }


# ---------------------------------------------------------------------------
# Lists: the servers page and its live table
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# The instance page and its tabs
# ---------------------------------------------------------------------------
@org_view(P.ORG_READ)
def server_detail(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id)
    context = _base_context(request, instance, "overview")
    if context["can_write"]:
        context["resize_form"] = forms.ResizeForm(offers=_resize_offers(instance))
        context["rebuild_form"] = forms.RebuildForm(
            images=_rebuild_images(instance), initial={"image": instance.image_id}
        )
        context["settings_form"] = forms.InstanceSettingsForm(
            initial={"name": instance.name, "labels": "\n".join(f"{k}={v}" for k, v in instance.labels.items())}
        )
        context["delete_form"] = forms.DeleteForm(expected=instance.name)
    context["power_actions"] = _power_buttons(instance)
    return render(request, "instances/server_detail.html", context)


def _power_buttons(instance: Instance) -> list[dict[str, Any]]:
    buttons = []
    labels = dict(choices.ActionType.choices)
    for type_, (allowed_from, _during, _after) in choices.POWER_ACTIONS.items():
        buttons.append(
            {
                "type": type_,
                "label": labels[type_],
                "enabled": instance.status in allowed_from,
                "danger": type_ in (choices.ActionType.STOP, choices.ActionType.RESET),
            }
        )
    return buttons


@org_view(P.ORG_READ)
def server_status(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """The status block partial (badge, power state, IPs), polled while the instance moves."""
    instance = _instance(request, instance_id)
    context = {
        "instance": instance,
        "can_write": _can_write(request, instance),
        "power_actions": _power_buttons(instance),
    }
    return render(request, "instances/_status.html", context)


@org_view(P.ORG_READ)
def action_detail(request: HttpRequest, organisation: Organisation, instance_id: Any, action_id: Any) -> HttpResponse:
    """The progress partial of one action; polled until it finished."""
    instance = _instance(request, instance_id)
    action = selectors.action_get(actor=request.user, public_id=action_id)
    if action.instance_id != instance.pk:
        raise NotFound(_("Action not found."))
    action.badge = ACTION_BADGE.get(action.status, "warning")  # type: ignore[attr-defined]
    response = render(request, "instances/_action.html", {"instance": instance, "action": action})
    if action.status not in choices.OPEN_ACTION_STATUSES:
        # Tell the status block (hx-trigger="instance-changed from:body") to refresh once.
        response["HX-Trigger"] = "instance-changed"
    return response


@org_view(P.ORG_READ)
def server_snapshots(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id)
    return render(request, "instances/server_snapshots.html", _snapshots_context(request, instance))


def _snapshots_context(
    request: HttpRequest, instance: Instance, schedule_form: forms.SnapshotScheduleForm | None = None
) -> dict[str, Any]:
    context = _base_context(request, instance, "snapshots")
    snapshots = list(selectors.snapshot_list(actor=request.user, instance=instance))
    manual = [s for s in snapshots if not s.scheduled and s.status != choices.SnapshotStatus.ERROR]
    try:
        schedule = selectors.snapshot_schedule_get(actor=request.user, instance=instance)
    except NotFound:
        schedule = None
    if schedule_form is None:
        initial = (
            {
                "frequency": schedule.frequency,
                "hour": schedule.hour,
                "weekday": schedule.weekday,
                "retention": schedule.retention,
                "enabled": schedule.enabled,
            }
            if schedule is not None
            else {"frequency": choices.ScheduleFrequency.DAILY}
        )
        schedule_form = forms.SnapshotScheduleForm(initial=initial)
    context.update(
        snapshots=snapshots,
        quota=instance.offer.snapshot_quota,
        used=len(manual),
        snapshot_form=forms.SnapshotCreateForm(),
        schedule=schedule,
        schedule_weekday=dict(forms.WEEKDAYS).get(schedule.weekday) if schedule is not None else None,
        schedule_form=schedule_form,
    )
    return context


METRIC_CHARTS = (
    # key, title, series (field, label), unit
    ("cpu", _("CPU"), (("cpu", "CPU"),), "%"),
    ("mem", _("Memory"), (("mem", "used"),), "B"),
    ("disk", _("Disk I/O"), (("diskread", "read"), ("diskwrite", "write")), "B/s"),
    ("net", _("Network"), (("netin", "in"), ("netout", "out")), "B/s"),
)
CHART_W, CHART_H = 600, 160


def _human(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f} %"
    size = float(value)
    for prefix in ("", "K", "M", "G", "T"):
        if abs(size) < 1024 or prefix == "T":
            return f"{size:.1f} {prefix}{unit}" if prefix else f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} {unit}"


def build_charts(points: Sequence[Any]) -> list[dict[str, Any]]:
    """Server-side SVG line charts: polyline coordinates in a 600x160 viewBox, y from 0 to the series' max.

    Each chart also carries its y-axis ticks (top, middle, 0 in the chart's unit), its x-axis times
    (start, middle, end), one hover band per point in time whose ``<title>`` is the tooltip (native, no
    JavaScript), and ``sparse`` when a series has fewer than two points (a server just started): the
    page then says the chart fills in rather than drawing a lone dot.
    """
    charts = []
    times = sorted({int(p.time) for p in points})
    t0, t1 = (times[0], times[-1]) if times else (0, 1)
    span = max(t1 - t0, 1)
    band = CHART_W / max(len(times) - 1, 1)
    for key, title, series, unit in METRIC_CHARTS:
        values: dict[str, list[tuple[int, float]]] = {}
        for field, _label in series:
            raw = []
            for p in points:
                v = getattr(p, field, None)
                if v is None:
                    continue
                if key == "cpu":
                    v = v * 100
                raw.append((int(p.time), float(v)))
            values[field] = raw
        peak = max((v for raw in values.values() for _t, v in raw), default=0.0)
        if key == "cpu":
            peak = max(peak, 100.0)
        if key == "mem":
            maxmem = max((float(getattr(p, "maxmem", 0) or 0) for p in points), default=0.0)
            peak = max(peak, maxmem)
        top = peak or 1.0
        lines = []
        for index, (field, label) in enumerate(series):
            coords = " ".join(
                f"{(t - t0) / span * CHART_W:.1f},{CHART_H - v / top * CHART_H:.1f}" for t, v in values[field]
            )
            last = values[field][-1][1] if values[field] else None
            last_xy = coords.split()[-1].split(",") if coords else None
            lines.append(
                {
                    "points": coords,
                    "label": label,
                    "series": index,
                    "last": _human(last, unit) if last is not None else "—",
                    "last_x": last_xy[0] if last_xy else None,
                    "last_y": last_xy[1] if last_xy else None,
                }
            )
        by_time = {field: dict(raw) for field, raw in values.items()}
        hover = []
        for t in times:
            parts = [f"{label} {_human(by_time[field][t], unit)}" for field, label in series if t in by_time[field]]
            if parts:
                x = (t - t0) / span * CHART_W
                when = timezone.localtime(dt.datetime.fromtimestamp(t, tz=dt.UTC))
                hover.append({"x": f"{max(x - band / 2, 0):.1f}", "w": f"{band:.1f}", "when": when, "text": parts})
        charts.append(
            {
                "key": key,
                "title": title,
                "unit": unit,
                "lines": lines,
                "top": _human(top, unit),
                "ticks": [_human(top, unit), _human(top / 2, unit), _human(0, unit)],
                "hover": hover,
                "empty": not any(values.values()),
                "sparse": max((len(raw) for raw in values.values()), default=0) < 2,
            }
        )
    start = timezone.localtime(dt.datetime.fromtimestamp(t0, tz=dt.UTC)) if times else None
    end = timezone.localtime(dt.datetime.fromtimestamp(t1, tz=dt.UTC)) if times else None
    middle = timezone.localtime(dt.datetime.fromtimestamp((t0 + t1) // 2, tz=dt.UTC)) if times else None
    for chart in charts:
        chart["start"], chart["middle"], chart["end"] = start, middle, end
    return charts


@org_view(P.ORG_READ)
def server_metrics(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id)
    context = _base_context(request, instance, "metrics")
    timeframe = request.GET.get("timeframe", "hour")
    if timeframe not in services.METRIC_TIMEFRAMES:
        timeframe = "hour"
    error = ""
    points: list[Any] = []
    try:
        points = services.instance_metrics(instance=instance, actor=request.user, timeframe=timeframe)
    except ApplicationError as exc:
        error = exc.message
    except Exception:  # Proxmox unreachable: the page still renders (the error is logged for staff).
        logger.exception("metrics of %s failed", instance.public_id)
        error = _("Metrics are unavailable right now. Try again in a minute.")
    context.update(
        timeframe=timeframe,
        timeframes=services.METRIC_TIMEFRAMES[:4],
        charts=build_charts(points),
        metrics_error=error,
        has_points=bool(points),
    )
    return render(request, "instances/server_metrics.html", context)


@org_view(P.ORG_READ)
def server_activity(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id)
    context = _base_context(request, instance, "activity")
    actions = list(selectors.action_list(actor=request.user, instance=instance)[:50])
    for action in actions:
        action.badge = ACTION_BADGE.get(action.status, "warning")  # type: ignore[attr-defined]
    # The instance's own audit trail (what was done to it, by whom); organisation-wide audit stays
    # behind audit.read on /audit/.
    events = AuditEvent.objects.filter(
        Q(organisation_id=instance.organisation_id),
        target_type=ContentType.objects.get_for_model(Instance),
        target_id=str(instance.pk),
    ).order_by("-created_at")[:50]
    context.update(actions=actions, events=list(events))
    return render(request, "instances/server_activity.html", context)


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


# ---------------------------------------------------------------------------
# Actions (POST only; each calls one service and redirects to follow the Action)
# ---------------------------------------------------------------------------
@require_POST
@org_view(P.ORG_READ)
def server_power(request: HttpRequest, organisation: Organisation, instance_id: Any, action: str) -> HttpResponse:
    instance = _instance(request, instance_id, write=True)
    service = POWER_SERVICES.get(action)
    if service is None:
        raise NotFound(_("Unknown action."))
    try:
        done = service(instance=instance, actor=request.user)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(_detail_url(instance))
    messages.info(request, _("%(action)s requested.") % {"action": done.get_type_display()})
    return redirect(_detail_url(instance, action=done))


@require_POST
@org_view(P.ORG_READ)
def server_resize(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id, write=True)
    form = forms.ResizeForm(request.POST, offers=_resize_offers(instance))
    if form.is_valid():
        try:
            action = services.instance_resize(instance=instance, offer=form.cleaned_data["offer"], actor=request.user)
        except ApplicationError as exc:
            _report(request, exc)
        else:
            messages.info(request, _("Resize requested."))
            return redirect(_detail_url(instance, action=action))
    else:
        messages.error(request, _("Choose a larger plan of the same family."))
    return redirect(_detail_url(instance))


@require_POST
@org_view(P.ORG_READ)
def server_rebuild(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id, write=True)
    form = forms.RebuildForm(request.POST, images=_rebuild_images(instance))
    if form.is_valid():
        try:
            action = services.instance_rebuild(instance=instance, image=form.cleaned_data["image"], actor=request.user)
        except ApplicationError as exc:
            _report(request, exc)
        else:
            messages.info(request, _("Rebuild requested."))
            return redirect(_detail_url(instance, action=action))
    else:
        messages.error(request, _("Choose an image and confirm that the disk is erased."))
    return redirect(_detail_url(instance))


@require_POST
@org_view(P.ORG_READ)
def server_settings(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """Rename and relabel; an invalid name shows the form again with its error."""
    instance = _instance(request, instance_id, write=True)
    form = forms.InstanceSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.instance_update(
                instance=instance,
                actor=request.user,
                name=form.cleaned_data["name"],
                labels=form.cleaned_data["labels"],
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect(_detail_url(instance))
    context = _base_context(request, instance, "overview")
    context.update(
        settings_form=form,
        resize_form=forms.ResizeForm(offers=_resize_offers(instance)),
        rebuild_form=forms.RebuildForm(images=_rebuild_images(instance), initial={"image": instance.image_id}),
        delete_form=forms.DeleteForm(expected=instance.name),
        power_actions=_power_buttons(instance),
        open_panel="settings",
    )
    return render(request, "instances/server_detail.html", context, status=400)


@require_POST
@org_view(P.ORG_READ)
def server_protection(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id, write=True)
    enable = request.POST.get("enabled") == "1"
    try:
        services.instance_update(instance=instance, actor=request.user, delete_protection=enable)
    except ApplicationError as exc:
        _report(request, exc)
    else:
        messages.success(
            request,
            _("Delete protection is on.") if enable else _("Delete protection is off."),
        )
    return redirect(_detail_url(instance))


@never_cache
@require_POST
@org_view(P.ORG_READ)
def server_reset_password(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """Shows the new password once, in a response that is never cached (no redirect: nothing keeps it)."""
    instance = _instance(request, instance_id, write=True)
    try:
        action, password = services.instance_reset_password(instance=instance, actor=request.user)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(_detail_url(instance))
    context = _base_context(request, instance, "overview")
    action.badge = ACTION_BADGE.get(action.status, "warning")  # type: ignore[attr-defined]
    context.update(password=password, followed_action=action)
    return render(request, "instances/server_password.html", context)


@require_POST
@org_view(P.ORG_READ)
def server_delete(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id, write=True)
    form = forms.DeleteForm(request.POST, expected=instance.name)
    if not form.is_valid():
        messages.error(request, _("Type the server's exact name to delete it."))
        return redirect(_detail_url(instance))
    try:
        services.instance_delete(instance=instance, actor=request.user)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(_detail_url(instance))
    messages.success(request, _("%(name)s is being deleted.") % {"name": instance.name})
    return redirect("instances:server_list")


@require_POST
@org_view(P.ORG_READ)
def snapshot_create(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id, write=True)
    form = forms.SnapshotCreateForm(request.POST)
    if form.is_valid():
        try:
            _snapshot, action = services.snapshot_create(
                instance=instance, name=form.cleaned_data["name"], actor=request.user
            )
        except ApplicationError as exc:
            _report(request, exc)
        else:
            messages.info(request, _("Snapshot requested."))
            return redirect(_detail_url(instance, "snapshots", action))
    else:
        messages.error(request, _("100 characters max."))
    return redirect(_detail_url(instance, "snapshots"))


@require_POST
@org_view(P.ORG_READ)
def snapshot_rollback(
    request: HttpRequest, organisation: Organisation, instance_id: Any, snapshot_id: Any
) -> HttpResponse:
    instance = _instance(request, instance_id, write=True)
    snapshot = selectors.snapshot_get(actor=request.user, instance=instance, public_id=snapshot_id)
    try:
        action = services.snapshot_rollback(snapshot=snapshot, actor=request.user)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(_detail_url(instance, "snapshots"))
    messages.info(request, _("Rollback to %(name)s requested.") % {"name": snapshot.name})
    return redirect(_detail_url(instance, "snapshots", action))


@require_POST
@org_view(P.ORG_READ)
def snapshot_delete(
    request: HttpRequest, organisation: Organisation, instance_id: Any, snapshot_id: Any
) -> HttpResponse:
    instance = _instance(request, instance_id, write=True)
    snapshot = selectors.snapshot_get(actor=request.user, instance=instance, public_id=snapshot_id)
    try:
        action = services.snapshot_delete(snapshot=snapshot, actor=request.user)
    except ApplicationError as exc:
        _report(request, exc)
        return redirect(_detail_url(instance, "snapshots"))
    messages.info(request, _("Deletion of %(name)s requested.") % {"name": snapshot.name})
    return redirect(_detail_url(instance, "snapshots", action))


@require_POST
@org_view(P.ORG_READ)
def snapshot_schedule_save(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """Create or replace the automatic snapshot schedule; an invalid form comes back with its errors (400)."""
    instance = _instance(request, instance_id, write=True)
    form = forms.SnapshotScheduleForm(request.POST)
    if form.is_valid():
        try:
            schedule = services.snapshot_schedule_set(instance=instance, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            if schedule.enabled:
                messages.success(request, _("Automatic snapshots scheduled."))
            else:
                messages.success(request, _("Schedule saved; automatic snapshots are paused."))
            return redirect(_detail_url(instance, "snapshots"))
    context = _snapshots_context(request, instance, schedule_form=form)
    return render(request, "instances/server_snapshots.html", context, status=400)


@require_POST
@org_view(P.ORG_READ)
def snapshot_schedule_delete(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """Stop automatic snapshots; the snapshots already taken stay."""
    instance = _instance(request, instance_id, write=True)
    try:
        services.snapshot_schedule_delete(instance=instance, actor=request.user)
    except NotFound:
        messages.info(request, _("This server has no snapshot schedule."))
    except ApplicationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("Automatic snapshots stopped. The snapshots already taken are kept."))
    return redirect(_detail_url(instance, "snapshots"))


# ---------------------------------------------------------------------------
# SSH keys (an organisation resource)
# ---------------------------------------------------------------------------
@org_view(P.ORG_READ)
def ssh_key_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    can_write = actor_has_permission(request.user, organisation, P.RESOURCES_WRITE)
    form = forms.SshKeyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("Your role does not allow this action."))
        if form.is_valid():
            try:
                key = services.ssh_key_create(
                    organisation=organisation,
                    name=form.cleaned_data["name"],
                    public_key=form.cleaned_data["public_key"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Key %(name)s added (%(fp)s).") % {"name": key.name, "fp": key.fingerprint})
                return redirect("instances:ssh_key_list")
        status = 400
    keys = selectors.ssh_key_list(actor=request.user, organisation=organisation)
    context = {
        "keys": keys,
        "form": form,
        "can_write": can_write,
        "list_curl": _curl(request, "GET", f"/ssh-keys/?organisation_id={organisation.pk}"),
        "create_curl": _curl(
            request,
            "POST",
            "/ssh-keys/",
            f'{{"organisation_id": {organisation.pk}, "name": "alice laptop", '
            '"public_key": "ssh-ed25519 AAAA… alice@laptop"}',
        ),
    }
    return render(request, "instances/ssh_key_list.html", context, status=status)


@require_POST
@org_view(P.ORG_READ)
def ssh_key_delete(request: HttpRequest, organisation: Organisation, key_id: Any) -> HttpResponse:
    key = selectors.ssh_key_get(actor=request.user, public_id=key_id)
    if key.organisation_id != organisation.pk:
        raise NotFound(_("SSH key not found."))
    try:
        services.ssh_key_delete(key=key, actor=request.user)
    except ApplicationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("Key %(name)s deleted.") % {"name": key.name})
    return redirect("instances:ssh_key_list")
