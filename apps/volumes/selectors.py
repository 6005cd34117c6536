"""Reads of volumes, scoped to the actor (docs/dev/style.md#selectors): another organisation's volume is a 404."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Min, Q, QuerySet, Value
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.core.sql import as_text
from apps.instances.models import Action
from apps.teams.access import object_get_for_actor, restrict_to_actor
from apps.teams.choices import Permission
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume

RELATED = ("tier", "datacentre", "server", "project", "organisation")


def volume_list(*, actor: Actor, where: Q | None = None, order_by: Sequence[Any] | None = None) -> QuerySet[Volume]:
    """Every volume the actor can read, newest first; deleted ones are left out."""
    qs = restrict_to_actor(Volume.objects.exclude(status=VolumeStatus.DELETED), actor=actor).select_related(*RELATED)
    if where is not None:
        qs = qs.filter(where)
    return qs.order_by(*order_by) if order_by else qs.order_by("-created_at", "-id")


def volume_get(*, actor: Actor, public_id: Any, permission: Permission = Permission.RESOURCES_READ) -> Volume:
    """One volume by public id: 404 unless visible, 403 if visible without ``permission``."""
    qs = Volume.objects.exclude(status=VolumeStatus.DELETED).select_related(*RELATED)
    try:
        pk = qs.filter(public_id=public_id).values_list("pk", flat=True).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Volume not found.")) from exc
    if pk is None:
        raise NotFound(_("Volume not found."))
    return object_get_for_actor(qs, actor=actor, pk=pk, permission=permission)


def volume_action_list(*, volume: Volume) -> QuerySet[Action]:
    """Actions of a volume the actor can already see (shared ``Action`` table), newest first."""
    return volume.actions.select_related("instance")


def volumes_billable(*, start: datetime, end: datetime) -> QuerySet[Volume]:
    """Volumes that exist during [start, end), attached or not (billed per GB-hour, apps/docs/content/volumes.md).

    From creation to deletion; a volume whose creation failed before any disk was allocated is never billed.
    Its current size and price are billed for the hour (a grow inside the hour bills the new size).
    """
    return (
        Volume.objects.filter(created_at__lt=end)
        .filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=start))
        .exclude(status=VolumeStatus.ERROR, volid="")
        .exclude(status=VolumeStatus.DELETED, deleted_at__isnull=True)
    )


def volumes_billable_since(*, floor: datetime) -> datetime | None:
    """When the earliest volume still billable after ``floor`` was created."""
    return (
        Volume.objects.filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=floor))
        .exclude(status=VolumeStatus.ERROR, volid="")
        .aggregate(m=Min("created_at"))["m"]
    )


def volumes_by_server() -> QuerySet[Volume]:
    """The volumes attached to servers, as ``apps.instances.selectors.server_extras`` rows (the volume's id);
    the registry narrows them to a page of servers."""
    return (
        Volume.objects.filter(server_id__isnull=False)
        .exclude(status=VolumeStatus.DELETED)
        .annotate(extra_server=F("server_id"), extra_a=as_text("public_id"), extra_b=Value(""))
    )
