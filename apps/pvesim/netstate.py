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
import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

from apps.pvesim.state import NODE_BRIDGES, PveHttpError, SimCluster


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

    # The built-in ``pve`` IPAM: IP → {zone, vnet, subnet, ip, mac?, vmid?} (docs/dev/proxmox-behaviour.md#sdn-ipam).
    ipam: dict[str, dict[str, Any]] = field(default_factory=dict)

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


def subnet_of(state: SdnState, vnet: str, ip: str) -> dict[str, Any] | None:
    """The running subnet of ``vnet`` that holds ``ip``."""
    address = ipaddress.ip_address(ip)
    for subnet in state.running["subnets"].values():
        if subnet.get("vnet") == vnet and address in ipaddress.ip_network(str(subnet["cidr"])):
            return subnet
    return None


def ipam_add(state: SdnState, *, vnet: str, ip: str, mac: str | None, vmid: int | None) -> None:
    subnet = subnet_of(state, vnet, ip)
    if subnet is None:
        raise PveHttpError(500, f"ip {ip} is not in a subnet of vnet {vnet}")
    if ip in state.ipam:
        raise PveHttpError(500, f"IP '{ip}' already exist")
    entry: dict[str, Any] = {"zone": subnet["zone"], "vnet": vnet, "subnet": subnet["cidr"], "ip": ip}
    if mac:
        entry["mac"] = mac
    if vmid is not None:
        entry["vmid"] = vmid
    state.ipam[ip] = entry


def ipam_dhcp(c: SimCluster, *, vmid: int, node: str, net: dict[str, str]) -> None:
    """A NIC on a vnet whose zone runs DHCP (``dhcp=dnsmasq`` and an IPAM) gets the next free address of a
    subnet's ``dhcp-range`` for its MAC, as ``add_next_free_cidr`` does (docs/dev/proxmox-behaviour.md#sdn-ipam)."""
    state = sdn_state(c)
    vnet_id, mac = net.get("bridge"), net.get("macaddr")
    vnet = state.running_vnet(str(vnet_id), node) if vnet_id else None
    if vnet is None or not mac:
        return
    zone = state.running["zones"].get(str(vnet.get("zone")), {})
    if zone.get("dhcp") != "dnsmasq" or not zone.get("ipam"):
        return
    if any(e.get("mac", "").lower() == mac.lower() and e["vnet"] == vnet_id for e in state.ipam.values()):
        return
    for subnet in sorted(state.running["subnets"].values(), key=lambda s: str(s["subnet"])):
        if subnet.get("vnet") != vnet_id:
            continue
        raw = subnet.get("dhcp-range") or []
        for item in raw if isinstance(raw, list) else [raw]:
            parts = dict(p.partition("=")[::2] for p in str(item).split(",") if p)
            start = int(ipaddress.ip_address(parts["start-address"]))
            end = int(ipaddress.ip_address(parts["end-address"]))
            for number in range(start, end + 1):
                ip = str(ipaddress.ip_address(number))
                if ip not in state.ipam and ip != subnet.get("gateway"):
                    ipam_add(state, vnet=str(vnet_id), ip=ip, mac=mac, vmid=vmid)
                    return
    raise PveHttpError(500, f"can't find free ip in subnets of vnet {vnet_id}")


def ipam_forget_vm(c: SimCluster, vmid: int) -> None:
    """Destroy removes the IPAM entries of the VM's NICs (docs/dev/proxmox-behaviour.md#destroy-volumes)."""
    state = sdn_state(c)
    for ip in [ip for ip, entry in state.ipam.items() if entry.get("vmid") == vmid]:
        del state.ipam[ip]


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
        if c.spec.firewall_enabled:
            c.firewall.cluster.options["enable"] = 1
    state: FirewallState = c.firewall
    return state
