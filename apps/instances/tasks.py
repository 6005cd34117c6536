"""Celery tasks of the instances app: thin, load an id, claim, call ``services``.

Every task is ``acks_late`` with ``reject_on_worker_lost`` (a killed worker's
message is redelivered, docs/dev/dependencies.md#celery-redis-redelivery) and claims its Action with
a conditional UPDATE, so a redelivered or duplicated message never runs the
work twice. Only transient Proxmox errors are retried, with exponential
backoff and jitter, capped; the hard time limit sits above the longest wait on
a Proxmox task (``services.TASK_WAIT_SECONDS``: a large GPU VM's start). Task names: ``task_names``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from celery import shared_task
from celery.app.task import Task
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext

from apps.infrastructure.proxmox import ProxmoxError
from apps.instances import services, task_names

logger = logging.getLogger(__name__)

MAX_RETRIES = 8
TIME_LIMIT = services.TASK_WAIT_SECONDS * 2 + 120
SOFT_TIME_LIMIT = services.TASK_WAIT_SECONDS * 2 + 60
TASK_OPTIONS = {
    "bind": True,
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": MAX_RETRIES,
    "time_limit": TIME_LIMIT,
    "soft_time_limit": SOFT_TIME_LIMIT,
}


def _countdown(retries: int) -> float:
    # 5 s, 10 s, 20 s ... capped at 5 min, with jitter (AWS "Exponential Backoff and Jitter").
    return min(300, 5 * 2**retries) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter


# What an action task retries: Proxmox unreachable, the database restarting or failing over.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (ProxmoxError, OperationalError, InterfaceError)


def run_claimed_action(
    task: Task,  # type: ignore[type-arg]
    action_id: int,
    *,
    claim: Callable[..., Any],
    execute: Callable[..., None],
    fail: Callable[..., None],
    transient: tuple[type[Exception], ...] = TRANSIENT_ERRORS,
) -> None:
    """The body of every action task, servers' and the resources' around them (volumes, networks …).

    ``claim(action_id=, task_id=)`` takes the action with a conditional UPDATE (None: done, or held by
    another task); ``execute(action=)`` runs it and ends it itself, letting only ``transient`` errors
    through (Proxmox unreachable, the database restarting, a router that may come back), which are
    retried with backoff (the work is resumable: a retry picks up where it stopped); after
    ``MAX_RETRIES`` ``fail(action=, code=, message=, detail=)`` ends it in error.
    """
    task_id = task.request.id or f"local-{action_id}"
    action = claim(action_id=action_id, task_id=task_id)
    if action is None:
        logger.info("action %s: not claimed (done, or held by another task)", action_id)
        return
    try:
        execute(action=action)
    except transient as exc:  # transient only: ``execute`` handles the rest
        if task.request.retries >= MAX_RETRIES:
            fail(
                action=action,
                code="proxmox_unavailable",
                message=gettext("The operation failed. Our team has been notified."),
                detail=f"gave up after {MAX_RETRIES} retries: {exc}",
            )
            return
        raise task.retry(exc=exc, countdown=_countdown(task.request.retries)) from exc


# Options of every resource action task (volumes, networks, firewalls, floating IPs): see this module's docstring.
RESOURCE_ACTION_TASK_OPTIONS = {
    "bind": True,
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": MAX_RETRIES,
}


def _run(task: Task, action_id: int) -> None:  # type: ignore[type-arg]
    run_claimed_action(
        task, action_id, claim=services.action_claim, execute=services.action_execute, fail=services.action_fail
    )


@shared_task(name=task_names.PROVISION, **TASK_OPTIONS)
def provision(self: Task, action_id: int) -> None:  # type: ignore[type-arg]
    """Provision (or resume provisioning) the instance of a ``create`` action."""
    _run(self, action_id)


@shared_task(name=task_names.RUN_ACTION, **TASK_OPTIONS)
def run_action(self: Task, action_id: int) -> None:  # type: ignore[type-arg]
    """Run one lifecycle action (power, resize, rebuild, password, snapshots, delete)."""
    _run(self, action_id)


@shared_task(name=task_names.SCHEDULED_SNAPSHOT, ignore_result=True)
def scheduled_snapshot(schedule_id: int) -> None:
    """Take a scheduled snapshot and prune the oldest beyond the schedule's retention."""
    services.scheduled_snapshot_take(schedule_id=schedule_id)


@shared_task(name=task_names.RECONCILE, ignore_result=True, acks_late=True, time_limit=900, soft_time_limit=840)
def reconcile_all() -> None:
    """Compare every instance with Proxmox: fix power drift, flag orphans and missing VMs, fail stuck work."""
    services.reconcile_all()


@shared_task(name=task_names.RESUME_RESOURCE_ACTIONS, ignore_result=True)
def resume_resource_actions() -> None:
    """Send again the task of every volume, network, firewall or floating IP action a lost message left open."""
    services.resource_actions_resume()
