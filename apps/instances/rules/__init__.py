"""Pure rules of the instances app: no database, no Proxmox, no settings (docs/dev/style.md#app-shape).

What a server's name, its cloud-init user-data and an SSH public key must look
like. ``apps.instances.services`` applies them when it writes, and
``apps.orders`` calls the same functions when it checks an order, so each rule
and its message exist once.
"""

from __future__ import annotations

from apps.instances.rules.hostnames import HOSTNAME_MAX, hostname_problems
from apps.instances.rules.sshkeys import ParsedKey, ssh_key_parse
from apps.instances.rules.user_data import MAX_USER_DATA, USER_DATA_FORMATS, user_data_problems

__all__ = [
    "HOSTNAME_MAX",
    "MAX_USER_DATA",
    "USER_DATA_FORMATS",
    "ParsedKey",
    "hostname_problems",
    "ssh_key_parse",
    "user_data_problems",
]
