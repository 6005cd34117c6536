"""Reads of alert policies, incidents and notices, scoped to the actor: another organisation's policy is a 404."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from apps.alerts.models import AlertIncident, AlertNotice, AlertPolicy
from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.core.labels import label_selector_parse, label_selector_q
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.teams.access import object_get_for_actor, restrict_to_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation

RELATED = ("organisation", "project", "instance")


def alert_policy_list(
    *, actor: Actor, where: Q | None = None, order_by: Sequence[Any] | None = None
) -> QuerySet[AlertPolicy]:
    """Every alert policy the actor can read, by name."""
    qs = restrict_to_actor(AlertPolicy.objects.all(), actor=actor).select_related(*RELATED)
    if where is not None:
        qs = qs.filter(where)
    return qs.order_by(*order_by) if order_by else qs.order_by("name", "id")


def alert_policy_get(
    *, actor: Actor, public_id: Any, permission: Permission = Permission.RESOURCES_READ
) -> AlertPolicy:
    """One policy by public id: 404 unless visible, 403 if visible without ``permission``."""
    qs = AlertPolicy.objects.select_related(*RELATED)
    try:
        pk = qs.filter(public_id=public_id).values_list("pk", flat=True).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Alert policy not found.")) from exc
    if pk is None:
        raise NotFound(_("Alert policy not found."))
    return object_get_for_actor(qs, actor=actor, pk=pk, permission=permission)


def alert_incident_list(*, policy: AlertPolicy) -> QuerySet[AlertIncident]:
    """A visible policy's incidents, newest first (open ones have no ``resolved_at``)."""
    return policy.incidents.select_related("instance", "policy").order_by("-opened_at", "-id")


def alert_incidents_of_server(*, actor: Actor, instance: Instance) -> QuerySet[AlertIncident]:
    """Incidents on a server the actor can see, through the policies the actor can read, newest first."""
    policies = alert_policy_list(actor=actor).values("pk")
    return (
        AlertIncident.objects.filter(instance=instance, policy__in=policies)
        .select_related("policy")
        .order_by("-opened_at", "-id")
    )


def alert_policies_of_server(*, actor: Actor, instance: Instance) -> list[AlertPolicy]:
    """The readable policies that watch a server: named, or picked by a label selector of its project."""
    out = []
    for policy in alert_policy_list(actor=actor).filter(project_id=instance.project_id):
        if policy.instance_id == instance.pk or (
            policy.label_selector and alert_policy_targets(policy=policy).filter(pk=instance.pk).exists()
        ):
            out.append(policy)
    return out


def alert_notices_open(*, organisation: Organisation, limit: int = 10) -> QuerySet[AlertNotice]:
    """The organisation's alert notices not dismissed, newest first (dashboard and alerts pages)."""
    return AlertNotice.objects.filter(organisation=organisation, dismissed_at__isnull=True).order_by(
        "-created_at", "-id"
    )[:limit]


def alert_policies_enabled() -> QuerySet[AlertPolicy]:
    """Every enabled policy (the evaluation beat), with what it needs."""
    return AlertPolicy.objects.filter(enabled=True).select_related(*RELATED).order_by("id")


def alert_policy_targets(*, policy: AlertPolicy) -> QuerySet[Instance]:
    """The running servers a policy watches now: its server, or its project's servers matching its selector."""
    qs = Instance.objects.filter(status=InstanceStatus.RUNNING, organisation_id=policy.organisation_id)
    if policy.instance_id is not None:
        return qs.filter(pk=policy.instance_id)
    try:
        requirements = label_selector_parse(policy.label_selector)
    except ValueError:
        return qs.none()
    return qs.filter(project_id=policy.project_id).filter(label_selector_q(requirements)).select_related("cluster")


def alert_open_counts(*, policy_ids: list[int]) -> dict[int, int]:
    """Open incidents per policy, in one query (the policies list)."""
    rows = (
        AlertIncident.objects.filter(policy_id__in=policy_ids, resolved_at__isnull=True)
        .values("policy_id")
        .annotate(n=Count("id"))
    )
    return {row["policy_id"]: row["n"] for row in rows}
