"""Enqueueing the inventory sync, by task name (services never import tasks)."""

from __future__ import annotations

from celery import current_app
from django.db import transaction

from apps.infrastructure import choices
from apps.infrastructure.models import Cluster

SYNC_CLUSTER_TASK = "infrastructure.sync_cluster"


def inventory_sync_enqueue(*, cluster: Cluster | None = None) -> list[int]:
    """Queue a sync of ``cluster`` (or of every active cluster) once the current transaction commits."""
    if cluster is not None:
        ids = [cluster.pk]
    else:
        ids = list(Cluster.objects.filter(status=choices.ClusterStatus.ACTIVE).values_list("pk", flat=True))
    for cluster_id in ids:
        transaction.on_commit(lambda cid=cluster_id: _send(cid))  # type: ignore[misc]
    return ids


def _send(cluster_id: int) -> None:
    # The registered task object honours CELERY_TASK_ALWAYS_EAGER; send_task by name does not.
    task = current_app.tasks.get(SYNC_CLUSTER_TASK)
    if task is not None:
        task.delay(cluster_id)
    else:
        current_app.send_task(SYNC_CLUSTER_TASK, args=[cluster_id])
