"""Back-office reads: the landing page's work queues, the organisation page, the fleet pages, the search.

Every reader here is for staff only: the admin views check the staff member's permissions first
(``AdminSite.admin_view`` and ``has_perm``), so these take no actor.
"""

from apps.backoffice.selectors.fleet import (
    ClusterView,
    DatacentreView,
    NodeCapacity,
    NodeView,
    cluster_view,
    datacentre_list,
    datacentre_view,
    node_view,
)
from apps.backoffice.selectors.organisation import OrganisationView, organisation_view
from apps.backoffice.selectors.queues import QUEUES, QueueCount, WorkQueue, work_queue_counts
from apps.backoffice.selectors.search import SearchHit, search

__all__ = [
    "QUEUES",
    "ClusterView",
    "DatacentreView",
    "NodeCapacity",
    "NodeView",
    "OrganisationView",
    "QueueCount",
    "SearchHit",
    "WorkQueue",
    "cluster_view",
    "datacentre_list",
    "datacentre_view",
    "node_view",
    "organisation_view",
    "search",
    "work_queue_counts",
]
