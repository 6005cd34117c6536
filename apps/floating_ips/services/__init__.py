"""Writes of the floating IPs app (docs/dev/style.md#services): re-exported from its modules."""

from apps.floating_ips.services.execution import (
    FloatingIpOperationFailed,
    floating_ip_action_claim,
    floating_ip_action_execute,
    floating_ip_action_fail,
    server_allowed_cidrs,
    server_floating_addresses,
    server_ipset_sync,
)
from apps.floating_ips.services.floating_ips import (
    floating_ip_assign,
    floating_ip_create,
    floating_ip_delete,
    floating_ip_offer,
    floating_ip_offer_placeholder_ensure,
    floating_ip_prices,
    floating_ip_unassign,
    floating_ip_update,
    floating_ips_server_status_changed,
)

__all__ = [
    "FloatingIpOperationFailed",
    "floating_ip_action_claim",
    "floating_ip_action_execute",
    "floating_ip_action_fail",
    "floating_ip_assign",
    "floating_ip_create",
    "floating_ip_delete",
    "floating_ip_offer",
    "floating_ip_offer_placeholder_ensure",
    "floating_ip_prices",
    "floating_ip_unassign",
    "floating_ip_update",
    "floating_ips_server_status_changed",
    "server_allowed_cidrs",
    "server_floating_addresses",
    "server_ipset_sync",
]
