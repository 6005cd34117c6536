"""Reads of the instances app (docs/dev/style.md#app-shape), one module per concern, re-exported here.

Other apps and the interfaces call ``apps.instances.selectors.<function>``:

* ``instances``: servers, their actions, snapshots and schedules, SSH keys, always
  scoped to the actor through the teams permission layer; and what is billable
  during an hour (billing's metering);
* ``server_extras``: what the apps around a server (volumes, private networks,
  firewalls, floating IPs) add to it in the API, registered by those apps and
  read for a whole page of servers in one query.
"""

from __future__ import annotations

from apps.instances.selectors.instances import (
    API_LIST_COLUMNS,
    action_get,
    action_list,
    action_list_for_actor,
    action_of_creation,
    billable_since,
    instance_get,
    instance_list,
    instance_list_rows,
    price_periods_billable,
    snapshot_get,
    snapshot_list,
    snapshot_schedule_get,
    snapshots_billable,
    ssh_key_get,
    ssh_key_list,
    ssh_key_organisations,
)
from apps.instances.selectors.server_extras import (
    SERVER_EXTRA_FIELDS,
    server_extra_register,
    server_extras,
    server_extras_add,
    uuid_value,
)

__all__ = [
    "API_LIST_COLUMNS",
    "SERVER_EXTRA_FIELDS",
    "action_get",
    "action_list",
    "action_list_for_actor",
    "action_of_creation",
    "billable_since",
    "instance_get",
    "instance_list",
    "instance_list_rows",
    "price_periods_billable",
    "server_extra_register",
    "server_extras",
    "server_extras_add",
    "snapshot_get",
    "snapshot_list",
    "snapshot_schedule_get",
    "snapshots_billable",
    "ssh_key_get",
    "ssh_key_list",
    "ssh_key_organisations",
    "uuid_value",
]
