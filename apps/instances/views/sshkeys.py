"""The SSH keys page (an organisation resource): list, add, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.instances import forms, selectors, services
from apps.instances.views.server_page import _curl, _form_error, _report
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission


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
