"""Writes of the networks app (docs/dev/style.md#services): re-exported from its modules."""

from apps.networks.services.execution import (
    NetworkOperationFailed,
    network_action_claim,
    network_action_execute,
    network_action_fail,
)
from apps.networks.services.networks import (
    network_attach,
    network_create,
    network_delete,
    network_detach,
    network_quota_check,
    network_update,
    network_zone_ensure,
    networks_server_status_changed,
    range_clean,
    subnet_add,
    subnet_delete,
    subnets_clean,
)
from apps.networks.services.reconcile import attachment_card_problems, network_cards_check, network_cards_repair

__all__ = [
    "NetworkOperationFailed",
    "attachment_card_problems",
    "network_action_claim",
    "network_action_execute",
    "network_action_fail",
    "network_attach",
    "network_cards_check",
    "network_cards_repair",
    "network_create",
    "network_delete",
    "network_detach",
    "network_quota_check",
    "network_update",
    "network_zone_ensure",
    "networks_server_status_changed",
    "range_clean",
    "subnet_add",
    "subnet_delete",
    "subnets_clean",
]
