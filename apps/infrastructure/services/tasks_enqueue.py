"""Enqueueing the inventory sync, by task name (services never import tasks)."""

from __future__ import annotations

from apps.core.services import task_enqueue
from apps.infrastructure import choices, task_names
from apps.infrastructure.models import Cluster


def inventory_sync_enqueue(*, cluster: Cluster | None = None) -> list[int]:
    """Queue a sync of ``cluster`` (or of every active cluster) once the current transaction commits."""
    if cluster is not None:
        ids = [cluster.pk]
    else:
        ids = list(Cluster.objects.filter(status=choices.ClusterStatus.ACTIVE).values_list("pk", flat=True))
    for cluster_id in ids:
        task_enqueue(task_names.SYNC_CLUSTER, cluster_id)
    return ids
