"""Celery tasks of the fleet: the periodic inventory sync and reservation expiry (thin: call services).

``infrastructure.release_expired_reservations`` runs every 15 minutes
(``CELERY_BEAT_SCHEDULE``) and releases placement reservations left
``reserved`` past their deadline that nothing holds (``services.expiry``).

``infrastructure.sync_inventory`` runs every 10 minutes (``CELERY_BEAT_SCHEDULE``)
and queues ``infrastructure.sync_cluster`` for each active cluster, so one
unreachable cluster neither delays nor fails the others. A cluster sync is
idempotent (it converges on what the cluster reports) and is retried with
exponential backoff and jitter only on transient driver errors (docs/dev/proxmox-behaviour.md#locks).
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.app.task import Task

from apps.infrastructure import choices, services, task_names
from apps.infrastructure.models import Cluster
from apps.infrastructure.proxmox import ProxmoxError

logger = logging.getLogger(__name__)


@shared_task(name=task_names.SYNC_INVENTORY, ignore_result=True)
def sync_inventory() -> list[int]:
    """Queue a sync of every active cluster."""
    return services.inventory_sync_enqueue()


@shared_task(
    bind=True,
    name=task_names.SYNC_CLUSTER,
    ignore_result=True,
    acks_late=True,
    max_retries=5,
    # A sync that a later one would repeat anyway must not pile up.
    expires=600,
)
def sync_cluster(self: Task, cluster_id: int) -> None:  # type: ignore[type-arg]
    cluster = Cluster.objects.filter(pk=cluster_id, status=choices.ClusterStatus.ACTIVE).first()
    if cluster is None:
        return
    try:
        services.inventory_sync(cluster=cluster)
    except ProxmoxError as exc:
        if not exc.is_transient:
            logger.warning("inventory sync of %s failed (permanent): %s", cluster.name, exc)
            return
        # Exponential backoff with jitter, capped: 30 s, 60 s, 120 s ... 10 min.
        countdown = min(600, 30 * 2**self.request.retries) * random.uniform(0.5, 1.0)  # noqa: S311
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name=task_names.RELEASE_EXPIRED_RESERVATIONS, ignore_result=True, expires=900)
def release_expired_reservations() -> int:
    """Release unused placement reservations past their deadline; idempotent (each is re-checked under lock)."""
    return len(services.placement_release_expired())
