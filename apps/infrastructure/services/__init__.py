"""Writes of the infrastructure app: placement, inventory sync and staff operations.

Split by concern (``placement``, ``inventory``, ``fleet``, ``fleet_file``: a simulator fleet file read
into inventory snapshots for ``manage.py fleet_bootstrap``); every public
service is re-exported here, so callers write ``from apps.infrastructure
import services`` then ``services.placement_reserve(...)``.
"""

from apps.infrastructure.services.expiry import (
    RESERVATION_TTL,
    placement_release_expired,
    reservation_holder_fields,
    reservations_expired,
)
from apps.infrastructure.services.fleet import (
    cluster_create,
    cluster_rotate_secrets,
    cluster_update,
    gpu_mark_faulty,
    gpu_mark_free,
    ip_pool_create,
    node_set_maintenance,
    vmid_block,
)
from apps.infrastructure.services.fleet_file import FleetFileError, load_fleet_file
from apps.infrastructure.services.inventory import cluster_driver, inventory_sync
from apps.infrastructure.services.placement import (
    choose_gpus,
    node_recount,
    placement_commit,
    placement_release,
    placement_reserve,
    placement_resize,
)
from apps.infrastructure.services.snippets import snippet_delete, snippet_volume, snippet_write
from apps.infrastructure.services.tasks_enqueue import inventory_sync_enqueue
from apps.infrastructure.services.volume_storage import cluster_storage_ensure

__all__ = [
    "RESERVATION_TTL",
    "FleetFileError",
    "choose_gpus",
    "cluster_create",
    "cluster_driver",
    "cluster_rotate_secrets",
    "cluster_storage_ensure",
    "cluster_update",
    "gpu_mark_faulty",
    "gpu_mark_free",
    "inventory_sync",
    "inventory_sync_enqueue",
    "ip_pool_create",
    "load_fleet_file",
    "node_recount",
    "node_set_maintenance",
    "placement_commit",
    "placement_release",
    "placement_release_expired",
    "placement_reserve",
    "placement_resize",
    "reservation_holder_fields",
    "reservations_expired",
    "snippet_delete",
    "snippet_volume",
    "snippet_write",
    "vmid_block",
]
