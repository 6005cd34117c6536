"""The Snapshots tab: a server's snapshots (take, roll back, delete) and its automatic snapshot schedule."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.instances import choices, forms, selectors, services
from apps.instances.models import Instance
from apps.instances.views.server_page import _base_context, _detail_url, _form_error, _instance, _report
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission


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
