"""Portal pages of the instances app: the servers list, the instance page and its tabs,
lifecycle actions with their live progress, and SSH keys.

Each view: login required and the current organisation through ``org_view``;
the instance through ``selectors.instance_get`` (another organisation's is a
404, a write without ``resources.write`` a 403, both raised inside
``org_view``'s handler); one service call; then a redirect with a message.
Service errors (``ApplicationError``) become messages or form errors, never a
500. Live parts (status, action progress) are htmx partials polled every few
seconds while something is moving, and stop polling once it settled.

One module per page group, re-exported here for the URL map and the apps that
add a tab to the server page (``server_tab_register``, ``server_tab_context``):

* ``server_page``: the frame every server page shares (the instance, the tabs,
  the followed action, curl snippets, error reporting);
* ``lists``: the servers page and its live table;
* ``detail``: the overview, its live parts, the Activity tab;
* ``metrics``, ``console``, ``snapshots``: those tabs;
* ``actions``: power, resize, rebuild, settings, protection, password, delete;
* ``sshkeys``: the SSH keys page.
"""

from __future__ import annotations

from apps.instances.views.actions import (
    server_delete,
    server_power,
    server_protection,
    server_rebuild,
    server_reset_password,
    server_resize,
    server_settings,
)
from apps.instances.views.console import server_console
from apps.instances.views.detail import (
    action_detail,
    server_activity,
    server_detail,
    server_status,
)
from apps.instances.views.lists import (
    server_list,
    server_table,
)
from apps.instances.views.metrics import (
    CHART_H,
    CHART_W,
    METRIC_CHARTS,
    build_charts,
    server_metrics,
)
from apps.instances.views.server_page import (
    ACTION_BADGE,
    EXTRA_TABS,
    POWER_SERVICES,
    TABS,
    TRANSITIONAL,
    ServerTab,
    server_tab_context,
    server_tab_register,
)
from apps.instances.views.snapshots import (
    server_snapshots,
    snapshot_create,
    snapshot_delete,
    snapshot_rollback,
    snapshot_schedule_delete,
    snapshot_schedule_save,
)
from apps.instances.views.sshkeys import (
    ssh_key_delete,
    ssh_key_list,
)

__all__ = [
    "ACTION_BADGE",
    "CHART_H",
    "CHART_W",
    "EXTRA_TABS",
    "METRIC_CHARTS",
    "POWER_SERVICES",
    "TABS",
    "TRANSITIONAL",
    "ServerTab",
    "action_detail",
    "build_charts",
    "server_activity",
    "server_console",
    "server_delete",
    "server_detail",
    "server_list",
    "server_metrics",
    "server_power",
    "server_protection",
    "server_rebuild",
    "server_reset_password",
    "server_resize",
    "server_settings",
    "server_snapshots",
    "server_status",
    "server_tab_context",
    "server_tab_register",
    "server_table",
    "snapshot_create",
    "snapshot_delete",
    "snapshot_rollback",
    "snapshot_schedule_delete",
    "snapshot_schedule_save",
    "ssh_key_delete",
    "ssh_key_list",
]
