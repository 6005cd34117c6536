"""The storages that hold block storage volumes, one per cluster and tier (``ClusterStorage``).

Staff declare them in the back office. Their size and free space come from
the cluster: ``cluster_storage_refresh`` copies them from the inventory's
``Storage`` rows (``inventory_sync`` calls it after each sync, so a fleet file
import refreshes them too), and ``cluster_storage_sync`` asks the node directly
(``GET /nodes/{node}/storage/{storage}/status``, docs/dev/proxmox-behaviour.md#volumes).
The volumes ledger (``reserved_gb``) is never touched here.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.services import audit_record
from apps.infrastructure.models import Cluster, ClusterStorage, Storage
from apps.infrastructure.proxmox import ProxmoxDriver, ProxmoxError

GB = 1000**3  # the catalogue's GB are decimal (apps/infrastructure/models.py)


def cluster_storage_refresh(*, cluster: Cluster) -> int:
    """Copy capacity and free space of ``cluster``'s tier storages from its synced ``Storage`` rows."""
    done = 0
    for row in ClusterStorage.objects.filter(cluster=cluster):
        storage = (
            Storage.objects.filter(cluster=cluster, name=row.storage)
            .filter(Q(node__isnull=True) | Q(node__name=row.node_name))
            .first()
        )
        if storage is None:
            ClusterStorage.objects.filter(pk=row.pk).update(last_sync_error="storage not found in the inventory")
            continue
        ClusterStorage.objects.filter(pk=row.pk).update(
            capacity_gb=storage.capacity_gb,
            free_gb=max(0, storage.capacity_gb - storage.used_gb),
            last_sync_at=timezone.now(),
            last_sync_error="",
        )
        done += 1
    return done


def cluster_storage_sync(*, cluster: Cluster, driver: ProxmoxDriver | None = None, **driver_options: Any) -> int:
    """Read capacity and free space of ``cluster``'s tier storages from their nodes; returns how many were read."""
    if driver is None:
        from apps.infrastructure.services.inventory import cluster_driver  # inventory imports this module

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


def cluster_storage_ensure(
    *, cluster: Cluster, tier: Any, storage: str, node_name: str, holder_vmid: int, shared: bool = True
) -> ClusterStorage:
    """Declare ``storage`` as ``cluster``'s storage for ``tier`` unless the cluster already has one (idempotent).

    For demo data and scripted set-ups; staff use the back office. An existing row is left as staff set it.
    Capacity and free space follow from the inventory (``cluster_storage_refresh``).
    """
    with transaction.atomic():
        row, created = ClusterStorage.objects.get_or_create(
            cluster=cluster,
            tier=tier,
            defaults={"storage": storage, "node_name": node_name, "holder_vmid": holder_vmid, "shared": shared},
        )
        if created:
            audit_record(
                actor=None,
                action="infrastructure.cluster_storage.create",
                target=row,
                changes={"tier": tier.code, "storage": storage, "holder_vmid": holder_vmid},
            )
    if created:
        cluster_storage_refresh(cluster=cluster)
        row.refresh_from_db()
    return row
