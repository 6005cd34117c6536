"""Portal pages of firewalls: the list, create, the detail page (rules editor, servers, actions) and the
server page's "Firewalls" tab.

The rules editor is a plain form of rule rows (``rule-<n>-direction``, ``-protocol``, ``-port``,
``-ips``, ``-description``, ``-remove``): "Add a rule row" re-renders it with one more row, a ticked
"remove" drops the row on save, so it works without JavaScript. A service's field error
(``rules[3].port``) is shown on its row. Views are thin: ``org_view`` resolves the organisation,
selectors find the objects (404 for another organisation's), one service call, a redirect with a message.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.firewalls import choices, rules, selectors, services
from apps.firewalls.models import Firewall
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.instances.selectors import instance_get
from apps.instances.views import server_tab_context
from apps.teams.access import actor_has_permission, project_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission
MAX_ROWS = rules.MAX_RULES
SSH_RULE = {
    "direction": "in",
    "protocol": "tcp",
    "port": "22",
    "source_ips": ["0.0.0.0/0", "::/0"],
    "description": "SSH",
}
_FIELD_RE = re.compile(r"^rules\[(\d+)\]\.([a-z_]+)")


def _can_write(request: HttpRequest, organisation: Organisation) -> bool:
    return actor_has_permission(request.user, organisation, P.RESOURCES_WRITE)


def _firewall(request: HttpRequest, organisation: Organisation, firewall_id: Any, *, write: bool = False) -> Firewall:
    firewall = selectors.firewall_get(
        actor=request.user, public_id=firewall_id, permission=P.RESOURCES_WRITE if write else P.RESOURCES_READ
    )
    if firewall.organisation_id != organisation.pk:
        raise NotFound(_("Firewall not found."))
    return firewall


def _rows_from_rules(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "direction": r.get("direction", "in"),
            "protocol": r.get("protocol", "tcp"),
            "port": r.get("port") or "",
            "ips": ", ".join(r.get("source_ips") or r.get("destination_ips") or []),
            "description": r.get("description", ""),
            "errors": [],
        }
        for r in items
    ]


def _blank_row() -> dict[str, Any]:
    return {"direction": "in", "protocol": "tcp", "port": "", "ips": "", "description": "", "errors": []}


def _rows_from_post(post: Any) -> list[dict[str, Any]]:
    count = min(int(post.get("rows") or 0) if str(post.get("rows") or "").isdigit() else 0, MAX_ROWS + 1)
    rows = []
    for n in range(count):
        prefix = f"rule-{n}-"
        rows.append(
            {
                "direction": post.get(prefix + "direction", "in"),
                "protocol": post.get(prefix + "protocol", "tcp"),
                "port": post.get(prefix + "port", "").strip(),
                "ips": post.get(prefix + "ips", "").strip(),
                "description": post.get(prefix + "description", "").strip(),
                "remove": bool(post.get(prefix + "remove")),
                "errors": [],
            }
        )
    return rows


def _rules_of(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[int]]:
    """The rules the kept, non-empty rows describe, and the row of each rule."""
    out: list[dict[str, Any]] = []
    where: list[int] = []
    for index, row in enumerate(rows):
        if row.get("remove") or not (row["port"] or row["ips"] or row["description"]):
            continue
        ips = [part for part in re.split(r"[\s,]+", row["ips"]) if part]
        key = "destination_ips" if row["direction"] == "out" else "source_ips"
        rule: dict[str, Any] = {"direction": row["direction"], "protocol": row["protocol"], key: ips}
        if row["port"]:
            rule["port"] = row["port"]
        if row["description"]:
            rule["description"] = row["description"]
        out.append(rule)
        where.append(index)
    return out, where


def _attach_errors(exc: ApplicationError, rows: list[dict[str, Any]], where: list[int]) -> list[str]:
    """Put ``rules[i].field`` errors on their rows; the others are returned for the page."""
    loose: list[str] = []
    for field, problems in exc.fields.items():
        match = _FIELD_RE.match(field)
        if match and int(match[1]) < len(where):
            rows[where[int(match[1])]]["errors"] += [f"{match[2]}: {p}" for p in problems]
        else:
            loose += [f"{field}: {p}" for p in problems]
    if not exc.fields:
        loose.append(exc.message)
    return loose


def _editor_context(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rows": rows,
        "row_count": len(rows),
        "directions": choices.Direction.choices,
        "protocols": choices.Protocol.choices,
        "max_rules": rules.MAX_RULES,
    }


@org_view(P.RESOURCES_READ)
def firewall_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    firewalls = list(selectors.firewall_list(actor=request.user, where=None).filter(organisation=organisation))
    for firewall in firewalls:
        firewall.is_applied = selectors.firewall_is_applied(firewall)  # type: ignore[attr-defined]
    context = {"firewalls": firewalls, "can_write": _can_write(request, organisation), "organisation": organisation}
    return render(request, "firewalls/firewall_list.html", context)


@org_view(P.RESOURCES_READ)
def firewall_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    if not _can_write(request, organisation):
        raise PermissionDenied(_("Your role does not allow this action."))
    projects = list(project_list_for_actor(actor=request.user, organisation=organisation))
    servers = _servers(organisation)
    errors: list[str] = []
    status = 200
    name, selector, project_id, server_ids = "", "", "", []
    if request.method == "POST":
        rows = _rows_from_post(request.POST)
        name = request.POST.get("name", "").strip()
        selector = request.POST.get("label_selector", "").strip()
        project_id = request.POST.get("project", "")
        server_ids = request.POST.getlist("servers")
        if request.POST.get("op") == "add_row":
            rows = [r for r in rows if not r.get("remove")] + [_blank_row()]
        else:
            rules_data, where = _rules_of(rows)
            project = next((p for p in projects if str(p.pk) == project_id), None) or next(
                (p for p in projects if p.is_default), projects[0] if projects else None
            )
            chosen = [
                s for s in servers if str(s.public_id) in server_ids and s.project_id == getattr(project, "pk", 0)
            ]
            try:
                if project is None:
                    raise NotFound(_("Project not found."))
                firewall, _actions = services.firewall_create(
                    actor=request.user,
                    organisation=organisation,
                    project=project,
                    name=name,
                    rules_data=rules_data,
                    servers=chosen,
                    label_selectors=[selector] if selector else [],
                )
            except (NotFound, PermissionDenied):
                raise
            except ApplicationError as exc:
                errors = _attach_errors(exc, rows, where)
                status = 400
            else:
                messages.success(request, _("Firewall %(name)s created.") % {"name": firewall.name})
                return redirect("firewalls:firewall_detail", firewall.public_id)
    else:
        rows = [*_rows_from_rules([SSH_RULE]), _blank_row()]
    context = {
        **_editor_context(rows),
        "errors": errors,
        "name": name,
        "label_selector": selector,
        "projects": projects,
        "project_id": project_id,
        "servers": servers,
        "server_ids": server_ids,
    }
    return render(request, "firewalls/firewall_create.html", context, status=status)


def _servers(organisation: Organisation) -> list[Instance]:
    return list(
        Instance.objects.filter(organisation=organisation)
        .exclude(status__in=(InstanceStatus.DELETING, InstanceStatus.DELETED))
        .order_by("name")
    )


@org_view(P.RESOURCES_READ)
def firewall_detail(request: HttpRequest, organisation: Organisation, firewall_id: Any) -> HttpResponse:
    firewall = _firewall(request, organisation, firewall_id)
    can_write = _can_write(request, organisation)
    errors: list[str] = []
    status = 200
    rows = [*_rows_from_rules(firewall.rules), _blank_row()]
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("Your role does not allow this action."))
        rows = _rows_from_post(request.POST)
        if request.POST.get("op") == "add_row":
            rows = [r for r in rows if not r.get("remove")] + [_blank_row()]
        else:
            rules_data, where = _rules_of(rows)
            try:
                services.firewall_set_rules(firewall=firewall, actor=request.user, rules_data=rules_data)
            except (NotFound, PermissionDenied):
                raise
            except ApplicationError as exc:
                errors = _attach_errors(exc, rows, where)
                status = 400
            else:
                messages.success(request, _("Rules saved; applying them to the firewall's servers."))
                return redirect("firewalls:firewall_detail", firewall.public_id)
    members = list(selectors.firewall_members(firewall=firewall))
    member_ids = {m.instance_id for m in members}
    context = {
        **_editor_context(rows),
        "firewall": firewall,
        "applied": selectors.firewall_is_applied(firewall),
        "members": members,
        "actions": list(selectors.firewall_action_list(firewall=firewall)[:10]),
        "servers": [
            s for s in _servers(organisation) if s.project_id == firewall.project_id and s.pk not in member_ids
        ],
        "can_write": can_write,
        "errors": errors,
    }
    return render(request, "firewalls/firewall_detail.html", context, status=status)


@org_view(P.RESOURCES_READ)
def firewall_live(request: HttpRequest, organisation: Organisation, firewall_id: Any) -> HttpResponse:
    """The firewall's status and per-server application status, polled by the detail page while applying."""
    firewall = _firewall(request, organisation, firewall_id)
    context = {
        "firewall": firewall,
        "applied": selectors.firewall_is_applied(firewall),
        "members": list(selectors.firewall_members(firewall=firewall)),
        "can_write": _can_write(request, organisation),
    }
    return render(request, "firewalls/_live.html", context)


@require_POST
@org_view(P.RESOURCES_READ)
def firewall_apply(request: HttpRequest, organisation: Organisation, firewall_id: Any) -> HttpResponse:
    firewall = _firewall(request, organisation, firewall_id, write=True)
    servers = [
        instance_get(actor=request.user, public_id=pk, permission=P.RESOURCES_WRITE)
        for pk in request.POST.getlist("servers")
        if _uuid_like(pk)
    ]
    selector = request.POST.get("label_selector", "").strip()
    try:
        services.firewall_apply_to(
            firewall=firewall, actor=request.user, servers=servers, label_selectors=[selector] if selector else []
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        messages.error(request, "; ".join([exc.message, *(m for v in exc.fields.values() for m in v)]))
    else:
        messages.success(request, _("Applying the firewall."))
    return _back(request, firewall)


@require_POST
@org_view(P.RESOURCES_READ)
def firewall_remove(request: HttpRequest, organisation: Organisation, firewall_id: Any) -> HttpResponse:
    firewall = _firewall(request, organisation, firewall_id, write=True)
    servers = [
        instance_get(actor=request.user, public_id=pk, permission=P.RESOURCES_WRITE)
        for pk in request.POST.getlist("servers")
        if _uuid_like(pk)
    ]
    selector = request.POST.get("label_selector", "").strip()
    try:
        services.firewall_remove_from(
            firewall=firewall, actor=request.user, servers=servers, label_selectors=[selector] if selector else []
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Removing the firewall."))
    return _back(request, firewall)


@require_POST
@org_view(P.RESOURCES_READ)
def firewall_delete(request: HttpRequest, organisation: Organisation, firewall_id: Any) -> HttpResponse:
    firewall = _firewall(request, organisation, firewall_id, write=True)
    try:
        services.firewall_delete(firewall=firewall, actor=request.user)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("firewalls:firewall_detail", firewall.public_id)
    messages.success(request, _("Firewall %(name)s is being deleted.") % {"name": firewall.name})
    return redirect("firewalls:firewall_list")


def _back(request: HttpRequest, firewall: Firewall) -> HttpResponse:
    """Back to the page the form was on (the server's tab), else the firewall's page; never off-site."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("firewalls:firewall_detail", firewall.public_id)


def _uuid_like(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F-]{32,36}", value or ""))


@org_view(P.RESOURCES_READ)
def server_firewalls(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance, context = server_tab_context(request, instance_id, tab="firewalls")
    memberships = list(selectors.server_firewalls(instance=instance))
    used = {m.firewall_id for m in memberships}
    available = [
        f
        for f in selectors.firewall_list(actor=request.user).filter(project_id=instance.project_id)
        if f.pk not in used and f.status == choices.FirewallStatus.ACTIVE
    ]
    context.update({"memberships": memberships, "available": available, "instance": instance})
    return render(request, "firewalls/server_firewalls.html", context)
