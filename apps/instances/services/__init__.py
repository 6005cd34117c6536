"""Writes of the instances app (docs/dev/style.md#services), one module per concern, re-exported here.

Other apps and the interfaces call ``apps.instances.services.<function>``:

* ``lifecycle``: create, edit, power, resize, rebuild, password, delete, staff
  retry and fail; ``instance_transition`` (the one place a status changes: it
  keeps price periods and tells higher apps through ``signals``);
* ``snapshots``: snapshots and their schedules, the scheduled snapshot run;
* ``sshkeys``: an organisation's SSH keys;
* ``console``: single-use browser console tickets;
* ``validation``: the checks that need the database (user-data delivery, SSH key ids),
  shared with ``apps.orders``;
* ``execution`` and ``provisioning``: the worker side of every Action (claim,
  build the VM step by step, run lifecycle operations), on ``runner``'s Proxmox
  machinery; ``reconciliation``: pull the truth back from Proxmox, staff
  actions on drift.

``access`` holds what every write starts with (permission, row lock, one
operation at a time); ``actions`` the bookkeeping of Actions on the resources of
the apps above (volumes, networks, firewalls, floating IPs).
"""

from __future__ import annotations

from apps.instances.services.access import action_open, instance_driver, lease_seconds
from apps.instances.services.actions import (
    resource_action_busy,
    resource_action_claim,
    resource_action_fail,
    resource_action_open,
    resource_action_progress,
    resource_action_succeed,
    resource_actions_resume,
)
from apps.instances.services.console import (
    CONSOLE_STATUSES,
    ConsoleTicket,
    ConsoleUpstream,
    console_ticket_issue,
    console_ticket_redeem,
)
from apps.instances.services.execution import action_claim, action_execute, action_fail
from apps.instances.services.guest_network import (
    guest_address_provider_register,
    guest_extra_addresses,
    guest_network_config,
    guest_network_sync,
)
from apps.instances.services.lifecycle import (
    METRIC_TIMEFRAMES,
    instance_billing_stop,
    instance_create,
    instance_delete,
    instance_fail,
    instance_metrics,
    instance_reboot,
    instance_rebuild,
    instance_reset,
    instance_reset_password,
    instance_resize,
    instance_retry,
    instance_shutdown,
    instance_start,
    instance_stop,
    instance_transition,
    instance_update,
)
from apps.instances.services.provisioning import provision_run
from apps.instances.services.reconciliation import (
    drift_adopt,
    drift_quarantine,
    drift_repair,
    drift_resolve,
    reconcile_all,
    reconcile_cluster,
)
from apps.instances.services.runner import TASK_WAIT_SECONDS, OperationFailed, marker
from apps.instances.services.snapshots import (
    schedule_remove,
    scheduled_snapshot_take,
    snapshot_create,
    snapshot_delete,
    snapshot_rollback,
    snapshot_schedule_delete,
    snapshot_schedule_set,
    snapshot_update,
)
from apps.instances.services.sshkeys import ssh_key_create, ssh_key_delete, ssh_key_rename, ssh_key_update
from apps.instances.services.validation import (
    USER_DATA_UNAVAILABLE,
    instance_labels_clean,
    instance_name_clean,
    ssh_key_ids_problems,
    ssh_keys_of,
    ssh_keys_resolve,
    user_data_available,
    user_data_check,
)

__all__ = [
    "CONSOLE_STATUSES",
    "METRIC_TIMEFRAMES",
    "TASK_WAIT_SECONDS",
    "USER_DATA_UNAVAILABLE",
    "ConsoleTicket",
    "ConsoleUpstream",
    "OperationFailed",
    "action_claim",
    "action_execute",
    "action_fail",
    "action_open",
    "console_ticket_issue",
    "console_ticket_redeem",
    "drift_adopt",
    "drift_quarantine",
    "drift_repair",
    "drift_resolve",
    "guest_address_provider_register",
    "guest_extra_addresses",
    "guest_network_config",
    "guest_network_sync",
    "instance_billing_stop",
    "instance_create",
    "instance_delete",
    "instance_driver",
    "instance_fail",
    "instance_labels_clean",
    "instance_metrics",
    "instance_name_clean",
    "instance_reboot",
    "instance_rebuild",
    "instance_reset",
    "instance_reset_password",
    "instance_resize",
    "instance_retry",
    "instance_shutdown",
    "instance_start",
    "instance_stop",
    "instance_transition",
    "instance_update",
    "lease_seconds",
    "marker",
    "provision_run",
    "reconcile_all",
    "reconcile_cluster",
    "resource_action_busy",
    "resource_action_claim",
    "resource_action_fail",
    "resource_action_open",
    "resource_action_progress",
    "resource_action_succeed",
    "resource_actions_resume",
    "schedule_remove",
    "scheduled_snapshot_take",
    "snapshot_create",
    "snapshot_delete",
    "snapshot_rollback",
    "snapshot_schedule_delete",
    "snapshot_schedule_set",
    "snapshot_update",
    "ssh_key_create",
    "ssh_key_delete",
    "ssh_key_ids_problems",
    "ssh_key_rename",
    "ssh_key_update",
    "ssh_keys_of",
    "ssh_keys_resolve",
    "user_data_available",
    "user_data_check",
]
