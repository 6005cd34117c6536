"""Actions on any resource: open one, claim it in a task, record progress, end it.

One ``Action`` table serves servers and the resources around them (volumes,
networks, firewalls, floating IPs), so ``/api/v1/actions/{id}/``, the CLI's
``--wait`` and the portal's live panel follow all of them alike. A resource of
an app above this one is named by ``resource_type`` and ``resource_id`` (its
public id); that app runs the action's work itself and uses these helpers for
the bookkeeping (docs/dev/style.md#celery-tasks: claim with a conditional
UPDATE, idempotent, resumable).

Server actions keep their own entry point (``access.action_open``: one open
action per server) and executors (``execution``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.actors import Actor, actor_user
from apps.core.services import task_enqueue
from apps.instances.choices import OPEN_ACTION_STATUSES, ActionResource, ActionStatus
from apps.instances.models import Action, Instance
from apps.instances.services.access import lease_seconds
from apps.teams.models import Project


def resource_action_open(
    *,
    resource_type: ActionResource | str,
    resource_id: uuid.UUID,
    project: Project,
    type: str,
    actor: Actor,
    task: str,
    params: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
) -> Action:
    """Record an operation on a resource and enqueue ``task`` (with the action's pk) once the transaction commits.

    ``instance`` names the server the operation also concerns (an attach), so it is
    listed among the server's actions too; the server's own one-at-a-time rule
    (``access.action_open``) does not apply to it. The caller holds the resource's
    row lock and has checked that no other action is open on it (``resource_action_busy``).
    """
    action = Action.objects.create(
        organisation_id=project.organisation_id,
        project=project,
        resource_type=resource_type,
        resource_id=resource_id,
        instance=instance,
        type=type,
        params=dict(params or {}),
        task_name=task,
        created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
    )
    task_enqueue(task, action.pk)
    return action


# A pending action nobody claimed for this long lost its message (the broker was down when it was
# sent, or restarted before a worker took it): its task is sent again. A message merely waiting
# behind a long queue is sent twice, and the claim makes the second a no-op.
RESUME_AFTER = timedelta(minutes=5)


def resource_actions_resume(*, now: datetime | None = None) -> list[int]:
    """Send again the task of every action left open, a server's or another resource's: pending and
    never claimed for ``RESUME_AFTER``, or claimed by a task whose lease ran out (its worker died).
    Returns their ids. Actions recorded before they remembered their task are left to reconciliation.
    """
    now = now or timezone.now()
    lost = (
        Action.objects.exclude(task_name="")
        .filter(
            Q(status=ActionStatus.PENDING, task_id="", created_at__lt=now - RESUME_AFTER)
            | Q(status__in=OPEN_ACTION_STATUSES, lease_until__lt=now)
        )
        .values_list("pk", "task_name")
    )
    resumed = []
    for pk, task_name in lost:
        task_enqueue(task_name, pk)
        resumed.append(pk)
    return resumed


def resource_action_busy(*, resource_type: ActionResource | str, resource_id: uuid.UUID) -> bool:
    """Whether an action on this resource is still pending or running."""
    return Action.objects.filter(
        resource_type=resource_type, resource_id=resource_id, status__in=OPEN_ACTION_STATUSES
    ).exists()


def resource_action_claim(*, action_id: int, task_id: str) -> Action | None:
    """Claim the action for the task ``task_id`` with one conditional UPDATE; None when done or held elsewhere.

    Free, already the task's own (the broker redelivered the message of a killed
    worker), or its lease expired: the task may run it. ``attempts`` counts claims.
    """
    now = timezone.now()
    claimed = (
        Action.objects.filter(pk=action_id, status__in=OPEN_ACTION_STATUSES)
        .filter(Q(task_id="") | Q(task_id=task_id) | Q(lease_until__lt=now))
        .update(
            status=ActionStatus.RUNNING,
            task_id=task_id[:64],
            lease_until=now + timedelta(seconds=lease_seconds()),
            started_at=Coalesce("started_at", now),
            attempts=Coalesce("attempts", 0) + 1,
        )
    )
    if not claimed:
        return None
    return Action.objects.get(pk=action_id)


def resource_action_progress(*, action: Action, value: int) -> None:
    """Record how far the action got (0-100)."""
    Action.objects.filter(pk=action.pk).update(progress=max(0, min(100, value)))


def resource_action_succeed(*, action: Action) -> None:
    """End the action in success (call inside the transaction that saves the resource's new state)."""
    Action.objects.filter(pk=action.pk).update(
        status=ActionStatus.SUCCESS, progress=100, finished_at=timezone.now(), lease_until=None
    )


def resource_action_fail(*, action: Action, code: str, message: str, detail: str = "") -> None:
    """End the action in error: ``code`` and ``message`` for the customer, ``detail`` for staff."""
    Action.objects.filter(pk=action.pk).update(
        status=ActionStatus.ERROR,
        finished_at=timezone.now(),
        lease_until=None,
        error_code=code[:64],
        error_message=message[:300],
        error_detail=detail or message,
    )
