"""What every write of the instances app starts with: who may act, the row lock, one operation at a time.

* ``instance_authorise``: a resource write needs ``resources.write`` on the
  instance; staff in the back office and the platform itself (no user) may act
  (``apps.core.actors``).
* ``instance_lock``: the instance re-read under a row lock.
* ``action_open``: the Action of an asynchronous operation, refused with
  ``Conflict`` (``action_in_progress``) while another one is open on the
  instance, its task enqueued on commit (by name: services never import tasks).
* ``instance_driver``: the Proxmox client of a cluster with the platform's
  driver options (``INSTANCES_DRIVER_OPTIONS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from apps.core.actors import Actor, actor_is_back_office_staff, actor_user
from apps.core.errors import Conflict, PermissionDenied
from apps.core.services import task_enqueue
from apps.infrastructure.models import Cluster
from apps.infrastructure.proxmox import ProxmoxDriver
from apps.infrastructure.services import cluster_driver
from apps.instances import choices, task_names
from apps.instances.models import Action, Instance
from apps.teams.access import actor_has_permission, require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation


def instance_authorise(actor: Actor, instance: Instance) -> None:
    """Resource writes need ``resources.write``; staff in the back office and the system (None) may act."""
    if actor is None or actor_is_back_office_staff(actor):
        return
    require_permission(actor, instance.organisation, Permission.RESOURCES_WRITE, obj=instance)


def organisation_authorise(actor: Actor, organisation: Organisation) -> None:
    """Writes of an organisation's account resources (SSH keys): ``resources.write``, not suspended."""
    if organisation.is_suspended or not actor_has_permission(actor, organisation, Permission.RESOURCES_WRITE):
        raise PermissionDenied(_("Your role does not allow this action."))


def instance_lock(instance: Instance) -> Instance:
    """Re-read the instance under a row lock (one operation at a time)."""
    return Instance.objects.select_for_update().select_related("organisation", "offer").get(pk=instance.pk)


def action_open(
    *,
    instance: Instance,
    type: str,
    actor: Actor,
    params: Mapping[str, Any] | None = None,
    task: str = task_names.RUN_ACTION,
) -> Action:
    """Record an asynchronous operation and enqueue ``task`` on commit; ``Conflict`` while another is open."""
    # The server's own actions only: attaching a volume or assigning a floating IP names the server
    # too (``actions.resource_action_open``) but never holds its power, resize or delete back.
    server_actions = Action.objects.filter(instance=instance, resource_type=choices.ActionResource.SERVER)
    if server_actions.filter(status__in=choices.OPEN_ACTION_STATUSES).exists():
        raise Conflict(_("Another operation is still running on this instance."), code="action_in_progress")
    action = Action.objects.create(
        instance=instance,
        organisation_id=instance.organisation_id,
        project_id=instance.project_id,
        resource_type=choices.ActionResource.SERVER,
        resource_id=instance.public_id,
        type=type,
        params=dict(params or {}),
        task_name=task,
        created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
    )
    task_enqueue(task, action.pk)
    return action


def lease_seconds() -> int:
    """How long a claimed action stays claimed: above the hard task time limit."""
    return int(settings.CELERY_TASK_TIME_LIMIT) + 60


def instance_driver(cluster: Cluster) -> ProxmoxDriver:
    """The Proxmox client of ``cluster`` with ``INSTANCES_DRIVER_OPTIONS`` (timeouts, poll interval, TLS)."""
    return cluster_driver(cluster=cluster, **settings.INSTANCES_DRIVER_OPTIONS)
