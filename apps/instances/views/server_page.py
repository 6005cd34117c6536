"""The frame every server page shares: the instance as the actor may see it, the tabs (the instances
app's own and those other apps register), the action being followed, the curl snippets, and how a
service's refusal reaches the page. The list and SSH key pages use its curl and error helpers too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.instances import choices, selectors, services
from apps.instances.choices import ActionStatus, InstanceStatus
from apps.instances.models import Action, Instance
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission

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
