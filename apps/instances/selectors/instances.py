"""Reads of the instances app, always scoped to the actor through the teams permission layer.

Another organisation's instance, action or key is ``NotFound`` (404), never
403: ``apps.teams.access.restrict_to_actor`` builds every query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.instances import choices
from apps.instances.models import Action, Instance, InstancePricePeriod, Snapshot, SnapshotSchedule, SshKey
from apps.teams.access import (
    object_get_for_actor,
    organisation_list_for_actor,
    organisation_permissions,
    project_list_for_actor,
    restrict_to_actor,
)
from apps.teams.choices import Permission
from apps.teams.models import Organisation

# Columns the API's instance list reads, in this order (``apps.instances.api.listing`` turns the tuples
# into ``InstanceOutputSerializer``'s exact JSON): nothing else is loaded for it.
API_LIST_COLUMNS = (
    "public_id",
    "name",
    "organisation_id",
    "project_id",
    "status",
    "power_state",
    "offer__code",
    "datacentre__code",
    "image__slug",
    "ipv4",
    "ipv6",
    "gpu_mappings",
    "labels",
    "delete_protection",
    "price_hourly",
    "price_monthly",
    "error_message",
    "created_at",
    "updated_at",
    "pk",  # not shown: what the apps around a server look their rows up by (``server_extras``)
)


def _instances_visible(*, actor: Actor, include_deleted: bool) -> QuerySet[Instance]:
    qs = restrict_to_actor(Instance.objects.all(), actor=actor)
    if not include_deleted:
        qs = qs.exclude(status=choices.InstanceStatus.DELETED)
    return qs.order_by("-created_at", "-id")


def instance_list(*, actor: Actor, include_deleted: bool = False) -> QuerySet[Instance]:
    """Instances the actor may see, newest first, with what list pages show joined in (constant queries)."""
    return _instances_visible(actor=actor, include_deleted=include_deleted).select_related(
        "offer", "datacentre", "image", "project", "organisation"
    )


def _filtered(qs: QuerySet[Any], where: Q | None, order_by: Sequence[Any] | None) -> QuerySet[Any]:
    """``qs`` narrowed by a list's filters and sorted by its ``sort`` (``apps.core.api.queries``)."""
    if where is not None:
        qs = qs.filter(where)
    return qs.order_by(*order_by) if order_by else qs


def instance_list_rows(
    *, actor: Actor, where: Q | None = None, order_by: Sequence[Any] | None = None
) -> tuple[QuerySet[Any], QuerySet[Instance]]:
    """The API list: the same instances as ``instance_list`` as tuples of ``API_LIST_COLUMNS``, and the
    bare queryset to count them on (the display columns would join offers, datacentres and images into
    the COUNT for nothing).

    No model instances: building 50 instances plus their offer, datacentre and
    image rows, then walking them through DRF fields, was two thirds of the
    list's cost (measured with ``benchmarks/instance_list_bench.py``).
    """
    visible = _filtered(_instances_visible(actor=actor, include_deleted=False), where, order_by)
    return visible.values_list(*API_LIST_COLUMNS), visible


def instance_get(*, actor: Actor, public_id: Any, permission: Permission = Permission.RESOURCES_READ) -> Instance:
    """One instance by public id: 404 unless visible, 403 if visible without ``permission``."""
    qs = Instance.objects.select_related("offer", "datacentre", "image", "project__organisation", "organisation")
    try:
        pk = qs.filter(public_id=public_id).values_list("pk", flat=True).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Instance not found.")) from exc
    if pk is None:
        raise NotFound(_("Instance not found."))
    return object_get_for_actor(qs, actor=actor, pk=pk, permission=permission)


def action_list(*, actor: Actor, instance: Instance) -> QuerySet[Action]:
    """Actions of an instance the actor can already see."""
    return Action.objects.filter(instance=instance).select_related("instance").order_by("-created_at", "-id")


def action_list_for_actor(
    *, actor: Actor, where: Q | None = None, order_by: Sequence[Any] | None = None
) -> QuerySet[Action]:
    """Every action the actor may see, newest first: on a visible server (deleted ones included), or on
    another resource (volume, network …) of a project the actor may read."""
    qs = Action.objects.filter(_actions_visible(actor)).select_related("instance").order_by("-created_at", "-id")
    return _filtered(qs, where, order_by)


def _actions_visible(actor: Actor) -> Q:
    visible_instances = restrict_to_actor(Instance.objects.all(), actor=actor).values("pk")
    projects = list(
        project_list_for_actor(actor=actor, permission=Permission.RESOURCES_READ).values_list("pk", flat=True)
    )
    return Q(instance__in=visible_instances) | (
        ~Q(resource_type=choices.ActionResource.SERVER) & Q(project_id__in=projects)
    )


def action_of_creation(*, actor: Actor, instance_id: int | None) -> Action | None:
    """The latest ``create`` Action of an instance the actor just ordered (None without an instance)."""
    if instance_id is None:
        return None
    return (
        Action.objects.select_related("instance")
        .filter(instance_id=instance_id, type=choices.ActionType.CREATE)
        .order_by("-created_at", "-id")
        .first()
    )


def action_get(*, actor: Actor, public_id: Any) -> Action:
    """One action the actor may see (``action_list_for_actor``), 404 otherwise."""
    try:
        action = Action.objects.select_related("instance").filter(_actions_visible(actor), public_id=public_id).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Action not found.")) from exc
    if action is None:
        raise NotFound(_("Action not found."))
    return action


def snapshot_list(
    *, actor: Actor, instance: Instance, where: Q | None = None, order_by: Sequence[Any] | None = None
) -> QuerySet[Snapshot]:
    qs = instance.snapshots.exclude(status=choices.SnapshotStatus.DELETED).order_by("-created_at", "-id")
    return _filtered(qs, where, order_by)


def snapshot_get(*, actor: Actor, instance: Instance, public_id: Any) -> Snapshot:
    try:
        snapshot = snapshot_list(actor=actor, instance=instance).filter(public_id=public_id).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Snapshot not found.")) from exc
    if snapshot is None:
        raise NotFound(_("Snapshot not found."))
    return snapshot


def snapshot_schedule_get(*, actor: Actor, instance: Instance) -> SnapshotSchedule:
    """The automatic snapshot schedule of an instance the actor can already see (``NotFound`` if none)."""
    schedule = SnapshotSchedule.objects.filter(instance=instance).first()
    if schedule is None:
        raise NotFound(_("This instance has no snapshot schedule."))
    return schedule


def ssh_key_organisations(*, actor: Actor, permission: Permission = Permission.RESOURCES_READ) -> list[Organisation]:
    """Organisations in which the actor holds ``permission`` organisation-wide (keys are account resources)."""
    return [
        org
        for org in organisation_list_for_actor(actor=actor).filter(suspended_at__isnull=True)
        if permission in organisation_permissions(actor, org)
    ]


def ssh_key_list(
    *,
    actor: Actor,
    organisation: Organisation | None = None,
    where: Q | None = None,
    order_by: Sequence[Any] | None = None,
) -> QuerySet[SshKey]:
    orgs = ssh_key_organisations(actor=actor)
    qs = SshKey.objects.filter(organisation__in=orgs).select_related("organisation")
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    return _filtered(qs.order_by("name", "id"), where, order_by)


def ssh_key_get(*, actor: Actor, public_id: Any) -> SshKey:
    try:
        key = ssh_key_list(actor=actor).filter(public_id=public_id).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("SSH key not found.")) from exc
    if key is None:
        raise NotFound(_("SSH key not found."))
    return key


# ---------------------------------------------------------------------------
# What is billable during an hour (read by billing's metering, which builds
# one INSERT … SELECT per resource kind from these querysets; not actor-scoped:
# the platform meters every organisation)
# ---------------------------------------------------------------------------
def _overlapping_periods(*, start: datetime, end: datetime) -> QuerySet[InstancePricePeriod]:
    """Price periods of positive length that overlap [start, end)."""
    return InstancePricePeriod.objects.filter(started_at__lt=end).filter(
        Q(ended_at__isnull=True) | (Q(ended_at__gt=start) & Q(ended_at__gt=F("started_at")))
    )


def price_periods_billable(*, start: datetime, end: datetime) -> QuerySet[InstancePricePeriod]:
    """The one price period each server is billed at for the hour [start, end).

    When a resize inside the hour leaves two periods overlapping it, the later one
    (greatest ``started_at``, then id) wins, so the hour is billed once
    (``apps/docs/content/pricing-rules.md``).
    """
    later = _overlapping_periods(start=start, end=end).filter(
        Q(started_at__gt=OuterRef("started_at")) | Q(started_at=OuterRef("started_at"), id__gt=OuterRef("id")),
        instance_id=OuterRef("instance_id"),
    )
    return _overlapping_periods(start=start, end=end).filter(~Exists(later))


def snapshots_billable(*, start: datetime, end: datetime) -> QuerySet[Snapshot]:
    """Snapshots that exist, with a size, during [start, end).

    A snapshot marked deleted without a deletion time (deleted before that time was recorded) is
    never billed.
    """
    return (
        Snapshot.objects.exclude(status=choices.SnapshotStatus.ERROR)
        .filter(size_gb__gt=0, created_at__lt=end)
        .filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=start))
        .exclude(status=choices.SnapshotStatus.DELETED, deleted_at__isnull=True)
    )


def billable_since(*, floor: datetime) -> datetime | None:
    """When the earliest price period or snapshot still billable after ``floor`` started."""
    starts = [
        InstancePricePeriod.objects.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=floor)).aggregate(
            m=Min("started_at")
        )["m"],
        Snapshot.objects.filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=floor))
        .exclude(status=choices.SnapshotStatus.ERROR)
        .aggregate(m=Min("created_at"))["m"],
    ]
    known = [s for s in starts if s is not None]
    return min(known) if known else None
