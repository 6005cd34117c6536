"""Writes of snapshots and their schedules: take, rename, roll back, delete; automatic snapshots.

A snapshot is an Action like any other operation (one at a time per
instance); its Proxmox side runs in ``execution``. A schedule is a
django-celery-beat crontab entry (UTC) whose task ``instances.scheduled_snapshot``
calls ``scheduled_snapshot_take``: the snapshot and the pruning of the oldest
scheduled ones beyond the retention are one Action.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.core.services import audit_record
from apps.instances import choices, task_names
from apps.instances.choices import ActionType, InstanceStatus
from apps.instances.models import Action, Instance, Snapshot, SnapshotSchedule
from apps.instances.services.access import action_open, instance_authorise, instance_lock
from apps.instances.services.validation import instance_labels_clean

logger = logging.getLogger(__name__)

MAX_SCHEDULE_RETENTION = 30
SNAPSHOT_NAME_MAX = 100


def snapshot_create(
    *,
    instance: Instance,
    name: str,
    actor: Actor,
    scheduled: bool = False,
    labels: Mapping[str, str] | None = None,
) -> tuple[Snapshot, Action]:
    """Take a snapshot within the plan's quota (disk only: the VFIO state of GPU VMs cannot be saved,
    docs/dev/proxmox-behaviour.md#snapshots)."""
    instance_authorise(actor, instance)
    name = (name or "").strip() or timezone.now().strftime("snapshot-%Y%m%d-%H%M")
    if len(name) > SNAPSHOT_NAME_MAX:
        raise ValidationFailed(_("Name too long."), code="invalid_name", fields={"name": [_("100 characters max.")]})
    labels_clean = instance_labels_clean(labels)
    with transaction.atomic():
        locked = instance_lock(instance)
        if locked.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
            raise Conflict(_("Only a running or stopped instance can be snapshotted."), code="invalid_transition")
        live = locked.snapshots.exclude(status__in=[choices.SnapshotStatus.DELETED, choices.SnapshotStatus.ERROR])
        if not scheduled and live.filter(scheduled=False).count() >= locked.offer.snapshot_quota:
            raise Conflict(
                _("This plan keeps %(n)s snapshots: delete one first.") % {"n": locked.offer.snapshot_quota},
                code="snapshot_quota_exceeded",
            )
        snapshot = Snapshot.objects.create(
            instance=locked,
            name=name,
            proxmox_name=f"s{uuid.uuid4().hex[:20]}",  # PVE: [a-zA-Z][a-zA-Z0-9_-]{1,39}
            labels=labels_clean,
            scheduled=scheduled,
            size_gb=locked.offer.disk_gb or 0,
        )
        action = action_open(
            instance=locked, type=ActionType.SNAPSHOT_CREATE, actor=actor, params={"snapshot_id": snapshot.pk}
        )
        audit_record(
            actor=actor,
            action="instances.snapshot.create",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"snapshot": name},
        )
    return snapshot, action


def snapshot_update(
    *, snapshot: Snapshot, actor: Actor, name: str | None = None, labels: Mapping[str, str] | None = None
) -> Snapshot:
    """Rename or relabel a snapshot (the Proxmox name is our own and never changes)."""
    instance_authorise(actor, snapshot.instance)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = Snapshot.objects.select_for_update().get(pk=snapshot.pk)
        if name is not None:
            name = name.strip()
            if not name or len(name) > SNAPSHOT_NAME_MAX:
                message = _("1 to 100 characters.")
                raise ValidationFailed(_("Give the snapshot a name."), code="invalid_name", fields={"name": [message]})
            if name != locked.name:
                changes["name"] = [locked.name, name]
                locked.name = name
        if labels is not None:
            clean = instance_labels_clean(labels)
            if clean != locked.labels:
                changes["labels"] = [locked.labels, clean]
                locked.labels = clean
        if changes:
            locked.save(update_fields=["name", "labels"])
            audit_record(
                actor=actor,
                action="instances.snapshot.update",
                target=snapshot.instance,
                organisation_id=snapshot.instance.organisation_id,
                changes=changes,
            )
    return locked


def snapshot_rollback(*, snapshot: Snapshot, actor: Actor) -> Action:
    """Return the instance to the snapshot (stopped for the rollback, started again if it ran)."""
    instance = snapshot.instance
    instance_authorise(actor, instance)
    with transaction.atomic():
        locked = instance_lock(instance)
        if locked.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
            raise Conflict(_("Only a running or stopped instance can be rolled back."), code="invalid_transition")
        if snapshot.status != choices.SnapshotStatus.AVAILABLE:
            raise Conflict(_("This snapshot is not available."), code="snapshot_not_available")
        action = action_open(
            instance=locked,
            type=ActionType.SNAPSHOT_ROLLBACK,
            actor=actor,
            params={"snapshot_id": snapshot.pk, "was_running": locked.status == "running"},
        )
        audit_record(
            actor=actor,
            action="instances.snapshot.rollback",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"snapshot": snapshot.name},
        )
    return action


def snapshot_delete(*, snapshot: Snapshot, actor: Actor) -> Action:
    """Delete a snapshot from Proxmox (an available one, or one whose creation failed)."""
    instance = snapshot.instance
    instance_authorise(actor, instance)
    with transaction.atomic():
        locked = instance_lock(instance)
        if snapshot.status not in (choices.SnapshotStatus.AVAILABLE, choices.SnapshotStatus.ERROR):
            raise Conflict(_("This snapshot is busy."), code="snapshot_not_available")
        action = action_open(
            instance=locked, type=ActionType.SNAPSHOT_DELETE, actor=actor, params={"snapshot_id": snapshot.pk}
        )
        Snapshot.objects.filter(pk=snapshot.pk).update(status=choices.SnapshotStatus.DELETING)
        audit_record(
            actor=actor,
            action="instances.snapshot.delete",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"snapshot": snapshot.name},
        )
    return action


# ---------------------------------------------------------------------------
# Schedules (automatic snapshots)
# ---------------------------------------------------------------------------
def _schedule_task_name(instance: Instance) -> str:
    return f"instances-snapshots-{instance.public_id}"


def _validate_schedule(*, frequency: str, hour: int, weekday: int, retention: int) -> None:
    errors: dict[str, list[str]] = {}
    if frequency not in choices.ScheduleFrequency.values:
        errors["frequency"] = [_("Choose daily or weekly.")]
    if not 0 <= hour <= 23:
        errors["hour"] = [_("An hour from 0 to 23 (UTC).")]
    if not 0 <= weekday <= 6:
        errors["weekday"] = [_("A day from 0 (Sunday) to 6 (Saturday).")]
    if not 1 <= retention <= MAX_SCHEDULE_RETENTION:
        errors["retention"] = [_("Keep between 1 and %(n)s snapshots.") % {"n": MAX_SCHEDULE_RETENTION}]
    if errors:
        raise ValidationFailed(_("Invalid snapshot schedule."), code="invalid_schedule", fields=errors)


def snapshot_schedule_set(
    *,
    instance: Instance,
    actor: Actor,
    frequency: str,
    hour: int = 3,
    weekday: int = 0,
    retention: int = 7,
    enabled: bool = True,
) -> SnapshotSchedule:
    """Create or replace the instance's automatic snapshots: a django-celery-beat crontab entry (UTC).

    Daily at ``hour``:00, or weekly on ``weekday`` (0 = Sunday, cron's
    numbering) at ``hour``:00. Each run takes a snapshot and prunes the oldest
    scheduled ones beyond ``retention``; scheduled snapshots do not count
    against the plan's manual snapshot quota.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    instance_authorise(actor, instance)
    _validate_schedule(frequency=frequency, hour=hour, weekday=weekday, retention=retention)
    if frequency == choices.ScheduleFrequency.DAILY:
        weekday = 0
    with transaction.atomic():
        locked = instance_lock(instance)
        if locked.status in (InstanceStatus.DELETING, InstanceStatus.DELETED):
            raise Conflict(_("This instance is being deleted."), code="instance_deleted")
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute="0",
            hour=str(hour),
            day_of_week="*" if frequency == choices.ScheduleFrequency.DAILY else str(weekday),
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        schedule = SnapshotSchedule.objects.filter(instance=locked).first() or SnapshotSchedule(instance=locked)
        before = (
            {"frequency": schedule.frequency, "hour": schedule.hour, "retention": schedule.retention}
            if schedule.pk
            else None
        )
        schedule.frequency, schedule.hour, schedule.weekday = frequency, hour, weekday
        schedule.retention, schedule.enabled = retention, enabled
        schedule.save()
        periodic, _p = PeriodicTask.objects.update_or_create(
            name=_schedule_task_name(locked),
            defaults={
                "task": task_names.SCHEDULED_SNAPSHOT,
                "crontab": crontab,
                "interval": None,
                "args": f"[{schedule.pk}]",
                "enabled": enabled,
                "description": f"Automatic snapshots of instance {locked.public_id}",
            },
        )
        if schedule.periodic_task_id != periodic.pk:
            schedule.periodic_task = periodic
            schedule.save(update_fields=["periodic_task", "updated_at"])
        audit_record(
            actor=actor,
            action="instances.snapshot_schedule.set",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={
                "before": before,
                "frequency": frequency,
                "hour": hour,
                "weekday": weekday,
                "retention": retention,
                "enabled": enabled,
            },
        )
    return schedule


def schedule_remove(*, instance: Instance) -> bool:
    """Drop the instance's schedule and its beat entry (no audit: callers audit). True if there was one."""
    from django_celery_beat.models import PeriodicTask

    removed, _per_model = PeriodicTask.objects.filter(name=_schedule_task_name(instance)).delete()
    deleted, _per_model = SnapshotSchedule.objects.filter(instance=instance).delete()
    return bool(removed or deleted)


def snapshot_schedule_delete(*, instance: Instance, actor: Actor) -> None:
    """Stop automatic snapshots (the snapshots already taken stay). ``NotFound`` when there is no schedule."""
    instance_authorise(actor, instance)
    with transaction.atomic():
        locked = instance_lock(instance)
        if not schedule_remove(instance=locked):
            raise NotFound(_("This instance has no snapshot schedule."))
        audit_record(
            actor=actor,
            action="instances.snapshot_schedule.delete",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={},
        )


def scheduled_snapshot_take(*, schedule_id: int) -> None:
    """Take the schedule's snapshot; its Action then prunes the oldest scheduled ones beyond the retention.

    Taking and pruning are one Action (``execution``), so the instance still
    runs one operation at a time. An instance busy with another operation, or
    not running or stopped, skips this occurrence.
    """
    schedule = SnapshotSchedule.objects.filter(pk=schedule_id, enabled=True).select_related("instance").first()
    if schedule is None or schedule.instance.status not in (InstanceStatus.RUNNING, InstanceStatus.STOPPED):
        return
    instance = schedule.instance
    try:
        snapshot_create(instance=instance, name=timezone.now().strftime("auto-%Y%m%d-%H%M"), actor=None, scheduled=True)
    except Conflict as exc:
        logger.info("scheduled snapshot of %s skipped: %s", instance.pk, exc)
