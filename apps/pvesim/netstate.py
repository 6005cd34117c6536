"""SDN and firewall state of one simulated cluster (handlers in ``apps.pvesim.sdn`` and ``apps.pvesim.firewall``).

SDN objects live twice, as PVE keeps them: the *pending* configuration every
write changes, and the *running* one that ``PUT /cluster/sdn`` commits
(docs/dev/proxmox-behaviour.md#sdn-apply). A VM NIC may only name a node bridge
or a vnet of the running configuration (docs/dev/proxmox-behaviour.md#simulator-wave2).

Firewall objects (cluster options, security groups, IP sets, aliases, and per
VM options, rules, IP sets, aliases) are written at once, as PVE's firewall
writes are synchronous (docs/dev/proxmox-behaviour.md#firewall).
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from apps.pvesim.state import NODE_BRIDGES, SimCluster


def digest_of(value: Any) -> str:
    """A SHA1 over an object, as PVE digests its config files (optimistic concurrency)."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


# Keys whose values PVE's config parsers return as numbers (integers and 0/1 booleans) in GET answers.
NUMERIC_KEYS = frozenset(
    {
        "tag", "mtu", "vxlan-port", "vrf-vxlan", "dp-id", "vlanaware", "isolate-ports", "snat", "advertise-subnets",
        "exitnodes-local-routing", "disable-arp-nd-suppression", "bridge-disable-mac-learning", "enable",
        "ipfilter", "macfilter", "dhcp", "ndp", "radv", "ebtables", "nomatch",
    }
)  # fmt: skip


def typed(params: dict[str, Any]) -> dict[str, Any]:
    """Request parameters as PVE stores and returns them: numbers for numeric keys."""
    return {
        k: int(v) if k in NUMERIC_KEYS and isinstance(v, str) and v.lstrip("-").isdigit() else v
        for k, v in params.items()
    }


def _empty_sdn() -> dict[str, dict[str, dict[str, Any]]]:
    return {"zones": {}, "vnets": {}, "subnets": {}}


@dataclass
class SdnState:
    pending: dict[str, dict[str, dict[str, Any]]] = field(default_factory=_empty_sdn)
    running: dict[str, dict[str, dict[str, Any]]] = field(default_factory=_empty_sdn)
    version: int = 0
    # What each node's last network reload (``srvreload`` task) put in place: a committed vnet exists on a
    # node only once that node reloaded (docs/dev/proxmox-behaviour.md#sdn-apply).
    on_node: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)

    def commit(self) -> None:
        self.running = copy.deepcopy(self.pending)
        self.version += 1

    def reload_node(self, node: str) -> None:
        self.on_node[node] = copy.deepcopy(self.running)

    def running_vnet(self, name: str, node: str) -> dict[str, Any] | None:
        """The vnet ``name`` as ``node`` runs it, if its zone reaches ``node``."""
        config = self.on_node.get(node) or _empty_sdn()
        vnet = config["vnets"].get(name)
        if vnet is None:
            return None
        zone = config["zones"].get(str(vnet.get("zone")))
        if zone is None:
            return None
        nodes = [n for n in str(zone.get("nodes", "")).replace(";", ",").split(",") if n]
        if nodes and node not in nodes:
            return None
        return vnet


def sdn_state(c: SimCluster) -> SdnState:
    if c.sdn is None:
        c.sdn = SdnState()
    state: SdnState = c.sdn
    return state


def bridge_error(c: SimCluster, node: str, net: dict[str, str]) -> str | None:
    """Why a NIC cannot be plugged on ``node`` (None: it can). Node bridges always exist; a vnet must be applied,
    and a VLAN tag needs a VLAN-aware vnet (docs/dev/proxmox-behaviour.md#simulator-wave2)."""
    bridge = net.get("bridge")
    if bridge is None or bridge in NODE_BRIDGES:
        return None
    vnet = sdn_state(c).running_vnet(bridge, node)
    if vnet is None:
        return f"bridge '{bridge}' does not exist"
    if (net.get("tag") or net.get("trunks")) and str(vnet.get("vlanaware", "0")) != "1":
        return f"vm vlans are not allowed on vnet {bridge}"
    return None


# ---------------------------------------------------------------------------------------------- firewall


@dataclass
class FwScope:
    """One firewall config file: the cluster's (with groups) or one VM's."""

    options: dict[str, Any] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    ipsets: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → {comment?, entries: [..]}
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case name → {name, cidr, comment?}


@dataclass
class FirewallState:
    cluster: FwScope = field(default_factory=FwScope)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → {comment?, rules: [..]}
    vms: dict[int, FwScope] = field(default_factory=dict)

    def vm(self, vmid: int) -> FwScope:
        return self.vms.setdefault(vmid, FwScope())


def firewall_state(c: SimCluster) -> FirewallState:
    if c.firewall is None:
        c.firewall = FirewallState()
    state: FirewallState = c.firewall
    return state
