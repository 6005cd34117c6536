"""Reads of the fleet (docs/dev/style.md#selectors), one module per topic, re-exported here.

Callers write ``from apps.infrastructure import selectors`` then ``selectors.availability_matrix(...)``:

* ``envelopes``: the catalogue's capacity envelopes, the nodes and storages that may take new VMs,
  the GPUs placement may hand out;
* ``availability``: how many more VMs of an offer fit in a datacentre now, and with which images;
* ``capacity``: the capacity dashboard, sold against sellable per datacentre;
* ``fleet``: the staff lists (clusters, nodes, GPUs, storages, templates, IP pools, sync reports)
  and a reservation read by the services of higher apps.
"""

from apps.infrastructure.selectors.availability import (
    CATALOGUE_REASONS,
    LIMITED_THRESHOLD,
    ON_REQUEST,
    Availability,
    ImageChoice,
    OfferNeed,
    availability_matrix,
    buildable_images,
    offer_availability,
)
from apps.infrastructure.selectors.capacity import (
    CapacityLine,
    DatacentreCapacityView,
    datacentre_capacity,
    datacentres_for_capacity,
)
from apps.infrastructure.selectors.envelopes import (
    HELD_GPU_STATES,
    Envelopes,
    eligible_nodes,
    envelopes_get,
    gpu_usable_q,
    vm_disk_storages,
)
from apps.infrastructure.selectors.fleet import (
    cluster_get,
    cluster_list,
    gpu_list,
    ip_pool_list,
    node_get,
    node_list,
    reservation_get,
    storage_list,
    sync_report_list,
    template_list,
)

__all__ = [
    "CATALOGUE_REASONS",
    "HELD_GPU_STATES",
    "LIMITED_THRESHOLD",
    "ON_REQUEST",
    "Availability",
    "CapacityLine",
    "DatacentreCapacityView",
    "Envelopes",
    "ImageChoice",
    "OfferNeed",
    "availability_matrix",
    "buildable_images",
    "cluster_get",
    "cluster_list",
    "datacentre_capacity",
    "datacentres_for_capacity",
    "eligible_nodes",
    "envelopes_get",
    "gpu_list",
    "gpu_usable_q",
    "ip_pool_list",
    "node_get",
    "node_list",
    "offer_availability",
    "reservation_get",
    "storage_list",
    "sync_report_list",
    "template_list",
    "vm_disk_storages",
]
