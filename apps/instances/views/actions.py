"""The server's actions (POST only; each calls one service and redirects to follow the Action): power,
resize, rebuild, settings, delete protection, password reset, delete.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.instances import forms, services
from apps.instances.views.detail import _power_buttons, _rebuild_images, _resize_offers
from apps.instances.views.server_page import (
    ACTION_BADGE,
    POWER_SERVICES,
    _base_context,
    _detail_url,
    _form_error,
    _instance,
    _report,
)
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission


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
