"""The periodic reconciliation of firewalls (task ``firewalls.reconcile``, every ``FIREWALLS_RECONCILE_SECONDS``).

1. Each cluster's datacentre firewall is checked (flagged in the back office when off).
2. Label selectors are matched again against servers' current labels (a relabelled server gains or
   loses firewalls; an ``apply`` Action writes it).
3. Every server with a firewall state is compared with its VM (``vm_firewall_state``): a difference
   is flagged as drift (``ServerFirewall.drift``; staff re-apply from the back office), and every
   security group is compared with its firewall's rules (a drifted group is rewritten next apply).
"""

from __future__ import annotations

import logging
from typing import Any

from apps.firewalls.choices import FirewallStatus
from apps.firewalls.models import Firewall, ServerFirewall
from apps.firewalls.services.execution import (
    Drivers,
    cluster_firewall_check,
    firewall_group_drift,
    server_firewall_drift,
)
from apps.firewalls.services.firewalls import firewalls_reconcile_selectors
from apps.infrastructure.models import Cluster
from apps.infrastructure.proxmox.errors import ProxmoxError

logger = logging.getLogger(__name__)


def firewalls_reconcile() -> dict[str, Any]:
    """Run the three checks; a summary (for logs and tests)."""
    drivers = Drivers()
    clusters_off = []
    for cluster in Cluster.objects.all():
        if cluster_firewall_check(cluster=cluster) is False:
            clusters_off.append(cluster.name)
    actions = firewalls_reconcile_selectors()
    drifted: list[int] = []
    for instance_id in ServerFirewall.objects.values_list("instance_id", flat=True):
        try:
            if server_firewall_drift(instance_id=instance_id, drivers=drivers):
                drifted.append(instance_id)
        except ProxmoxError as exc:
            logger.warning("firewall drift check of server %s failed: %s", instance_id, exc)
    groups: dict[str, list[str]] = {}
    for firewall in Firewall.objects.filter(status=FirewallStatus.ACTIVE):
        try:
            bad = firewall_group_drift(firewall=firewall, drivers=drivers)
        except ProxmoxError as exc:
            logger.warning("firewall group check of %s failed: %s", firewall.pk, exc)
            continue
        if bad:
            groups[str(firewall.public_id)] = bad
    return {"clusters_off": clusters_off, "actions": len(actions), "drifted": drifted, "groups": groups}
