"""Portal pages of the alerts app: the policies list (with open notices), the create and edit form, a
policy's page with its incidents, delete, and the server page's "Alerts" tab.

Each view: login required and the current organisation through ``org_view``; the policy through
``selectors.alert_policy_get`` (another organisation's is a 404, a write without ``resources.write``
a 403); one service call; a redirect with a message. Service errors become form errors, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.alerts import forms, selectors, services
from apps.alerts.models import AlertPolicy
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.instances import selectors as instance_selectors
from apps.instances.models import Instance
from apps.instances.views import server_tab_context
from apps.teams.access import actor_has_permission, project_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission
FORM_FIELDS = {"instance_id": "server", "project_id": "project"}


# The session key under which a new webhook secret waits to be shown once on the policy's page.
_SECRET_SESSION_KEY = "alerts-webhook-secret-{}"


def _secret_show_once(request: HttpRequest, policy: AlertPolicy) -> None:
    """Keep the policy's new signing secret for the next page only, as API tokens are shown once."""
    request.session[_SECRET_SESSION_KEY.format(policy.public_id)] = policy.webhook_secret


def _form_error(form: Any, exc: ApplicationError) -> None:
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    for field, errors in exc.fields.items():
        name = FORM_FIELDS.get(field, field)
        for error in errors:
            form.add_error(name if name in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def _servers(request: HttpRequest, organisation: Organisation) -> list[Instance]:
    return list(
        instance_selectors.instance_list(actor=request.user)
        .filter(organisation=organisation)
        .exclude(status="deleted")
        .order_by("name")
    )


def _write_args(request: HttpRequest, form: Any, servers: list[Instance]) -> dict[str, Any]:
    data = form.cleaned_data
    server = next((s for s in servers if str(s.public_id) == data["server"]), None) if data["server"] else None
    return {
        "name": data["name"],
        "metric": data["metric"],
        "comparison": data["comparison"],
        "threshold": data["threshold"],
        "duration_minutes": data["duration_minutes"],
        "instance": server,
        "label_selector": "" if server else data["label_selector"],
        "email_members": data["email_members"],
        "emails": data["emails"],
        "portal_notice": data["portal_notice"],
        "webhook_url": data["webhook_url"],
        "enabled": data["enabled"],
    }


@org_view(P.ORG_READ)
def policy_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    policies = list(selectors.alert_policy_list(actor=request.user).filter(organisation=organisation))
    open_counts = selectors.alert_open_counts(policy_ids=[p.pk for p in policies])
    for policy in policies:
        policy.open_incidents = open_counts.get(policy.pk, 0)  # type: ignore[attr-defined]
    context = {
        "policies": policies,
        "notices": selectors.alert_notices_open(organisation=organisation),
        "can_create": actor_has_permission(request.user, organisation, P.RESOURCES_WRITE),
    }
    return render(request, "alerts/policy_list.html", context)


@org_view(P.RESOURCES_WRITE)
def policy_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    projects = list(project_list_for_actor(actor=request.user, organisation=organisation).order_by("name"))
    servers = _servers(request, organisation)
    default = next((p for p in projects if p.is_default), projects[0] if projects else None)
    initial: dict[str, Any] = {"project": str(default.pk) if default else "", "metric": "cpu", "threshold": 80}
    wanted = request.GET.get("server")
    chosen = next((s for s in servers if str(s.public_id) == wanted), None)
    if chosen is not None:
        initial.update(server=str(chosen.public_id), project=str(chosen.project_id))
    form = forms.AlertPolicyForm(request.POST or None, initial=initial, projects=projects, servers=servers)
    if request.method == "POST" and form.is_valid():
        project = next((p for p in projects if str(p.pk) == form.cleaned_data["project"]), None)
        try:
            if project is None:
                raise NotFound(_("Project not found."))
            policy = services.alert_policy_create(
                actor=request.user, organisation=organisation, project=project, **_write_args(request, form, servers)
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Alert policy “%(name)s” created.") % {"name": policy.name})
            if policy.webhook_secret:
                _secret_show_once(request, policy)
            return redirect("alerts:policy_detail", policy_id=policy.public_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "alerts/policy_form.html", {"form": form, "policy": None}, status=status)


@org_view(P.RESOURCES_WRITE)
def policy_edit(request: HttpRequest, organisation: Organisation, policy_id: Any) -> HttpResponse:
    policy = selectors.alert_policy_get(actor=request.user, public_id=policy_id, permission=P.RESOURCES_WRITE)
    projects = [policy.project]
    servers = [s for s in _servers(request, organisation) if s.project_id == policy.project_id]
    initial = {
        "name": policy.name,
        "project": str(policy.project_id),
        "metric": policy.metric,
        "comparison": policy.comparison,
        "threshold": policy.threshold,
        "duration_minutes": policy.duration_minutes,
        "server": str(policy.instance.public_id) if policy.instance else "",
        "label_selector": policy.label_selector,
        "email_members": policy.email_members,
        "emails": ", ".join(policy.emails),
        "portal_notice": policy.portal_notice,
        "webhook_url": policy.webhook_url,
        "enabled": policy.enabled,
    }
    form = forms.AlertPolicyForm(request.POST or None, initial=initial, projects=projects, servers=servers)
    if request.method == "POST" and form.is_valid():
        had_secret = bool(policy.webhook_secret)
        try:
            saved = services.alert_policy_update(
                actor=request.user, policy=policy, **_write_args(request, form, servers)
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Alert policy saved."))
            if saved.webhook_secret and not had_secret:  # its first webhook URL: a secret was made
                _secret_show_once(request, saved)
            return redirect("alerts:policy_detail", policy_id=policy.public_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "alerts/policy_form.html", {"form": form, "policy": policy}, status=status)


@org_view(P.ORG_READ)
def policy_detail(request: HttpRequest, organisation: Organisation, policy_id: Any) -> HttpResponse:
    policy = selectors.alert_policy_get(actor=request.user, public_id=policy_id)
    context = {
        "policy": policy,
        "new_secret": request.session.pop(_SECRET_SESSION_KEY.format(policy.public_id), ""),
        "incidents": list(selectors.alert_incident_list(policy=policy)[:50]),
        "targets": list(selectors.alert_policy_targets(policy=policy)[:50]),
        "can_write": actor_has_permission(request.user, organisation, P.RESOURCES_WRITE),
    }
    return render(request, "alerts/policy_detail.html", context)


@require_POST
@org_view(P.RESOURCES_WRITE)
def policy_rotate_secret(request: HttpRequest, organisation: Organisation, policy_id: Any) -> HttpResponse:
    policy: AlertPolicy = selectors.alert_policy_get(
        actor=request.user, public_id=policy_id, permission=P.RESOURCES_WRITE
    )
    if not policy.webhook_url:
        messages.error(request, _("This policy has no webhook, so it has no signing secret."))
        return redirect("alerts:policy_detail", policy_id=policy.public_id)
    policy = services.alert_policy_secret_rotate(actor=request.user, policy=policy)
    messages.success(request, _("A new signing secret was made; the old one no longer verifies."))
    _secret_show_once(request, policy)
    return redirect("alerts:policy_detail", policy_id=policy.public_id)


@require_POST
@org_view(P.RESOURCES_WRITE)
def policy_delete(request: HttpRequest, organisation: Organisation, policy_id: Any) -> HttpResponse:
    policy: AlertPolicy = selectors.alert_policy_get(
        actor=request.user, public_id=policy_id, permission=P.RESOURCES_WRITE
    )
    # The detail page's delete form asks for the policy's name, as volumes do (no JavaScript needed).
    if str(request.POST.get("confirm_name", "")).strip() != policy.name:
        messages.error(request, _("Type the alert policy's exact name to delete it."))
        return redirect("alerts:policy_detail", policy_id=policy.public_id)
    services.alert_policy_delete(actor=request.user, policy=policy)
    messages.success(request, _("Alert policy “%(name)s” deleted.") % {"name": policy.name})
    return redirect("alerts:policy_list")


@require_POST
@org_view(P.ORG_READ)
def notice_dismiss(request: HttpRequest, organisation: Organisation, notice_id: int) -> HttpResponse:
    services.alert_notice_dismiss(actor=request.user, organisation=organisation, notice_id=notice_id)
    return redirect("alerts:policy_list")


@org_view(P.ORG_READ)
def server_alerts(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    """The policies watching this server and its incidents, with a link to create one for it."""
    instance, context = server_tab_context(request, instance_id, tab="alerts")
    context.update(
        policies=selectors.alert_policies_of_server(actor=request.user, instance=instance),
        incidents=list(selectors.alert_incidents_of_server(actor=request.user, instance=instance)[:20]),
    )
    return render(request, "alerts/server_alerts.html", context)
