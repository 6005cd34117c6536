"""The storages that hold block storage volumes, one per cluster and tier (``ClusterStorage``).

``cluster_storage_sync`` reads each declared storage's size and free space
(``GET /nodes/{node}/storage/{storage}/status``, docs/dev/proxmox-behaviour.md#volumes)
into ``capacity_gb`` and ``free_gb``; the volumes ledger (``reserved_gb``) is
never touched here. Not yet wired into ``inventory_sync``: staff or a periodic
task call it per cluster.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.infrastructure.models import Cluster, ClusterStorage
from apps.infrastructure.proxmox import ProxmoxError
from apps.infrastructure.services.inventory import cluster_driver

GB = 1000**3  # the catalogue's GB are decimal (apps/infrastructure/models.py)


def cluster_storage_sync(*, cluster: Cluster, **driver_options: Any) -> int:
    """Refresh capacity and free space of ``cluster``'s tier storages; returns how many were read."""
    driver = cluster_driver(cluster=cluster, **driver_options)
    done = 0
    for row in ClusterStorage.objects.filter(cluster=cluster):
        try:
            status = driver.storage_status(row.node_name, row.storage)
        except ProxmoxError as exc:
            ClusterStorage.objects.filter(pk=row.pk).update(last_sync_error=str(exc)[:300])
            continue
        ClusterStorage.objects.filter(pk=row.pk).update(
            capacity_gb=status.total // GB,
            free_gb=status.free // GB,
            last_sync_at=timezone.now(),
            last_sync_error="",
        )
        done += 1
    return done
