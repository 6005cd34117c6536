"""Services of apps.firewalls: writes (``firewalls``) and the Proxmox work its tasks run (``execution``)."""

from apps.firewalls.services.execution import (
    Drivers,
    cluster_firewall_check,
    firewall_action_execute,
    firewall_group_drift,
    group_write,
    server_firewall_drift,
    server_firewall_sync,
)
from apps.firewalls.services.firewalls import (
    firewall_apply_to,
    firewall_authorise,
    firewall_create,
    firewall_delete,
    firewall_limits,
    firewall_quota_set,
    firewall_reapply,
    firewall_remove_from,
    firewall_server_started,
    firewall_set_rules,
    firewall_update,
    firewalls_reconcile_selectors,
    firewalls_server_labels_changed,
    firewalls_server_status_changed,
)
from apps.firewalls.services.reconcile import firewalls_reconcile

__all__ = [
    "Drivers",
    "cluster_firewall_check",
    "firewall_action_execute",
    "firewall_apply_to",
    "firewall_authorise",
    "firewall_create",
    "firewall_delete",
    "firewall_group_drift",
    "firewall_limits",
    "firewall_quota_set",
    "firewall_reapply",
    "firewall_remove_from",
    "firewall_server_started",
    "firewall_set_rules",
    "firewall_update",
    "firewalls_reconcile",
    "firewalls_reconcile_selectors",
    "firewalls_server_labels_changed",
    "firewalls_server_status_changed",
    "group_write",
    "server_firewall_drift",
    "server_firewall_sync",
]
