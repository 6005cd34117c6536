"""The server page's overview with what its forms offer (the larger plans, the images to rebuild with,
the power buttons), its live parts (status block, an action's progress), and its Activity tab.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.catalogue.choices import ImageStatus
from apps.catalogue.models import Offer, OsImage
from apps.core.errors import NotFound
from apps.core.models import AuditEvent
from apps.infrastructure.models import VmTemplate
from apps.instances import choices, forms, selectors
from apps.instances.models import Instance
from apps.instances.views.server_page import ACTION_BADGE, _base_context, _can_write, _instance
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

P = Permission


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
