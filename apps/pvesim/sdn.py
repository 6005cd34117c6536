"""SDN endpoints of the simulated PVE API: zones, vnets, subnets, and ``PUT /cluster/sdn``.

Writes change the pending configuration only; ``PUT /cluster/sdn`` commits it at
once and returns a ``reloadnetworkall`` task, which starts one ``srvreload``
task per online node; a vnet exists on a node once that node's reload ended
(docs/dev/proxmox-behaviour.md#sdn, #sdn-apply; the simulator's choices on
unverified points are in #simulator-wave2). Routes register on import.
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
import re
from collections.abc import Callable
from typing import Any

from apps.pvesim.handlers import Call, route
from apps.pvesim.netstate import SdnState, digest_of, ipam_add, sdn_state, typed
from apps.pvesim.state import PveHttpError, SimTask, param_error

_COMMON = {"nodes", "mtu", "ipam", "dns", "reversedns", "dnszone", "dhcp"}
# Options each zone plugin accepts, and those it requires (pve-network Zones/*Plugin.pm ``options``).
ZONE_KEYS = {
    "simple": _COMMON,
    "vlan": _COMMON | {"bridge", "bridge-disable-mac-learning"},
    "qinq": _COMMON | {"bridge", "tag", "vlan-protocol", "bridge-disable-mac-learning"},
    "vxlan": _COMMON | {"peers", "vxlan-port", "bridge-disable-mac-learning"},
    "evpn": _COMMON
    | {
        "controller",
        "vrf-vxlan",
        "mac",
        "exitnodes",
        "exitnodes-primary",
        "exitnodes-local-routing",
        "advertise-subnets",
        "disable-arp-nd-suppression",
        "rt-import",
    },
    "faucet": _COMMON | {"dp-id"},
}
ZONE_REQUIRED = {"vlan": ("bridge",), "qinq": ("bridge", "tag"), "vxlan": ("peers",), "evpn": ("controller",)}
CONTROL = {"digest", "delete", "pending", "running", "lock-token"}


def _kind_rows(state: SdnState, kind: str, call: Call) -> list[dict[str, Any]]:
    """A list as GET shows it: the pending files (default), the running config (``running=1``), or both with
    ``state`` and ``pending`` markers (``pending=1``)."""
    if call.flag("running"):
        return [copy.deepcopy(obj) for _, obj in sorted(state.running[kind].items())]
    if not call.flag("pending"):
        return [copy.deepcopy(obj) for _, obj in sorted(state.pending[kind].items())]
    rows = []
    for key in sorted(set(state.pending[kind]) | set(state.running[kind])):
        new, old = state.pending[kind].get(key), state.running[kind].get(key)
        if old is None and new is not None:
            rows.append({**new, "state": "new"})
        elif new is None and old is not None:
            rows.append({**old, "state": "deleted"})
        elif new is not None and old is not None:
            row = dict(old)
            if new != old:
                row["state"] = "changed"
                row["pending"] = {k: v for k, v in new.items() if old.get(k) != v}
            rows.append(row)
    return rows


def _one(state: SdnState, kind: str, key: str, call: Call) -> dict[str, Any]:
    source = state.running if call.flag("running") else state.pending
    obj = source[kind].get(key)
    if obj is None:
        raise PveHttpError(
            500, f"sdn '{key}' does not exist" if kind != "subnets" else f"subnet '{key}' does not exist"
        )
    return {**copy.deepcopy(obj), "digest": digest_of(state.pending[kind])}


def _check_digest(state: SdnState, kind: str, call: Call) -> None:
    digest = call.params.get("digest")
    if digest and digest != digest_of(state.pending[kind]):
        raise PveHttpError(500, "detected modified configuration - file changed by other user? Try again.")


def _delete_keys(call: Call) -> list[str]:
    return [d for d in re.split(r"[,;\s]+", str(call.params.get("delete", ""))) if d]


@route("GET", "/cluster/sdn")
def sdn_index(call: Call) -> Any:
    return [{"id": name} for name in ("controllers", "dns", "ipams", "vnets", "zones")]


@route("PUT", "/cluster/sdn")
def sdn_apply(call: Call) -> Any:
    """Commit pending → running synchronously, then ``reloadnetworkall`` (empty id), which starts each online
    node's ``srvreload``/``networking`` task and does not wait for them: it ends OK even when a node is down."""
    c = call.cluster
    state = sdn_state(c)
    state.commit()
    first = next(iter(c.nodes))

    def reload_all(task: SimTask) -> None:
        for node in c.nodes.values():
            if not node.online:
                # a plain warn: not counted, the task still ends OK
                task.log.append(f"{node.name}: unable to reload network - node is offline")
                continue
            c.start_task(
                node=node.name,
                task_type="srvreload",
                task_id="networking",
                token="root@pam",  # noqa: S106 - the per-node reload runs as root via pvesh, not a secret
                effect=_reloader(state, node.name),
            )

    task = c.start_task(node=first, task_type="reloadnetworkall", task_id="", token=call.token, effect=reload_all)
    return task.upid


def _reloader(state: SdnState, node: str) -> Callable[[SimTask], None]:
    def reload(task: SimTask) -> None:
        state.reload_node(node)

    return reload


# ----------------------------------------------------------------------------------------------- zones


@route("GET", "/cluster/sdn/zones")
def zone_list(call: Call) -> Any:
    rows = _kind_rows(sdn_state(call.cluster), "zones", call)
    if "type" in call.params:
        rows = [r for r in rows if r.get("type") == call.params["type"]]
    return rows


@route("GET", "/cluster/sdn/zones/{zone}")
def zone_get(call: Call) -> Any:
    return _one(sdn_state(call.cluster), "zones", call.path_params["zone"], call)


def _check_zone(zone: dict[str, Any]) -> None:
    kind = str(zone["type"])
    allowed = ZONE_KEYS.get(kind, _COMMON)
    errors = {k: f"unexpected property '{k}'" for k in zone if k not in allowed | {"type", "zone"}}
    for key in ZONE_REQUIRED.get(kind, ()):
        if zone.get(key) in (None, ""):
            errors[key] = "property is missing and it is not optional"
    if zone.get("ipam") not in (None, "pve"):
        errors["ipam"] = f"ipam '{zone['ipam']}' does not exist"
    if errors:
        raise param_error(errors)


@route("POST", "/cluster/sdn/zones")
def zone_create(call: Call) -> Any:
    state = sdn_state(call.cluster)
    zone_id = str(call.params["zone"])
    if zone_id in state.pending["zones"]:
        raise PveHttpError(500, f"sdn zone object ID '{zone_id}' already defined")
    zone = typed({k: v for k, v in call.params.items() if k not in CONTROL})
    zone["zone"] = zone_id
    _check_zone(zone)
    state.pending["zones"][zone_id] = zone
    return None


@route("PUT", "/cluster/sdn/zones/{zone}")
def zone_update(call: Call) -> Any:
    state = sdn_state(call.cluster)
    zone_id = call.path_params["zone"]
    if zone_id not in state.pending["zones"]:
        raise PveHttpError(500, f"sdn '{zone_id}' does not exist")
    _check_digest(state, "zones", call)
    zone = dict(state.pending["zones"][zone_id])
    zone.update(typed({k: v for k, v in call.params.items() if k not in CONTROL}))
    for key in _delete_keys(call):
        zone.pop(key, None)
    _check_zone(zone)
    state.pending["zones"][zone_id] = zone
    for vnet_id, vnet in state.pending["vnets"].items():
        if vnet.get("zone") == zone_id:
            _check_vnet_tag(state, vnet_id, vnet)
    return None


@route("DELETE", "/cluster/sdn/zones/{zone}")
def zone_delete(call: Call) -> Any:
    state = sdn_state(call.cluster)
    zone_id = call.path_params["zone"]
    if zone_id not in state.pending["zones"]:
        raise PveHttpError(500, f"sdn '{zone_id}' does not exist")
    for vnet_id, vnet in sorted(state.pending["vnets"].items()):
        if vnet.get("zone") == zone_id:
            raise PveHttpError(500, f"zone {zone_id} is used by vnet {vnet_id}")
    del state.pending["zones"][zone_id]
    return None


# ----------------------------------------------------------------------------------------------- vnets


def _check_vnet_tag(state: SdnState, vnet_id: str, vnet: dict[str, Any]) -> None:
    """The zone plugin's ``vnet_update_hook``: tags per zone type, and no tag twice (per zone for VLANs,
    cluster-wide for VXLAN VNIs)."""
    zone = state.pending["zones"].get(str(vnet.get("zone")))
    if zone is None:
        raise param_error({"zone": f"zone '{vnet.get('zone')}' does not exist"})
    kind = zone["type"]
    tag = vnet.get("tag")
    if kind == "simple" and tag is not None:
        raise param_error({"tag": "vlan tag is not allowed on simple zone"})
    if kind in ("vlan", "qinq"):
        if tag is None:
            raise param_error({"tag": "missing vlan tag"})
        if not 1 <= int(tag) <= 4094:
            raise param_error({"tag": "vlan tag must be between 1 and 4094"})
    if kind in ("vxlan", "evpn"):
        if tag is None:
            raise param_error({"tag": "missing vxlan tag"})
        if not 1 <= int(tag) <= 16777215:
            raise param_error({"tag": "vxlan tag must be between 1 and 16777215"})
    if tag is None:
        return
    for other_id, other in sorted(state.pending["vnets"].items()):
        if other_id == vnet_id or other.get("tag") is None or int(other["tag"]) != int(tag):
            continue
        other_zone = state.pending["zones"].get(str(other.get("zone")), {})
        same_space = other.get("zone") == vnet.get("zone") or (
            kind in ("vxlan", "evpn") and other_zone.get("type") in ("vxlan", "evpn")
        )
        if same_space:
            raise param_error({"tag": f"tag {tag} already exist in vnet {other_id}"})


@route("GET", "/cluster/sdn/vnets")
def vnet_list(call: Call) -> Any:
    return _kind_rows(sdn_state(call.cluster), "vnets", call)


@route("GET", "/cluster/sdn/vnets/{vnet}")
def vnet_get(call: Call) -> Any:
    return _one(sdn_state(call.cluster), "vnets", call.path_params["vnet"], call)


@route("POST", "/cluster/sdn/vnets")
def vnet_create(call: Call) -> Any:
    state = sdn_state(call.cluster)
    vnet_id = str(call.params["vnet"])
    if vnet_id in state.pending["vnets"]:
        raise PveHttpError(500, f"sdn vnet object ID '{vnet_id}' already defined")
    if vnet_id in state.pending["zones"]:
        raise param_error({"vnet": f"vnet ID '{vnet_id}' is already used by a zone"})
    vnet = typed({k: v for k, v in call.params.items() if k not in CONTROL})
    vnet.setdefault("type", "vnet")
    _check_vnet_tag(state, vnet_id, vnet)
    state.pending["vnets"][vnet_id] = vnet
    return None


@route("PUT", "/cluster/sdn/vnets/{vnet}")
def vnet_update(call: Call) -> Any:
    state = sdn_state(call.cluster)
    vnet_id = call.path_params["vnet"]
    if vnet_id not in state.pending["vnets"]:
        raise PveHttpError(500, f"sdn '{vnet_id}' does not exist")
    _check_digest(state, "vnets", call)
    vnet = dict(state.pending["vnets"][vnet_id])
    vnet.update(typed({k: v for k, v in call.params.items() if k not in CONTROL}))
    for key in _delete_keys(call):
        vnet.pop(key, None)
    _check_vnet_tag(state, vnet_id, vnet)
    state.pending["vnets"][vnet_id] = vnet
    return None


@route("DELETE", "/cluster/sdn/vnets/{vnet}")
def vnet_delete(call: Call) -> Any:
    state = sdn_state(call.cluster)
    vnet_id = call.path_params["vnet"]
    if vnet_id not in state.pending["vnets"]:
        raise PveHttpError(500, f"sdn '{vnet_id}' does not exist")
    if any(s.get("vnet") == vnet_id for s in state.pending["subnets"].values()):
        raise param_error({"vnet": "Can't delete vnet if subnets exists"})
    del state.pending["vnets"][vnet_id]
    return None


# --------------------------------------------------------------------------------------------- subnets


def _vnet_for(state: SdnState, call: Call) -> dict[str, Any]:
    vnet_id = call.path_params["vnet"]
    vnet = state.pending["vnets"].get(vnet_id)
    if vnet is None:
        raise PveHttpError(500, f"sdn '{vnet_id}' does not exist")
    return vnet


def _check_subnet(subnet: dict[str, Any]) -> None:
    network = ipaddress.ip_network(str(subnet["cidr"]), strict=False)
    gateway = subnet.get("gateway")
    if gateway and ipaddress.ip_address(str(gateway)) not in network:
        raise param_error({"gateway": f"gateway {gateway} is not in subnet {network}"})
    ranges = []
    raw = subnet.get("dhcp-range") or []
    for item in raw if isinstance(raw, list) else [raw]:
        parts = dict(p.partition("=")[::2] for p in str(item).split(",") if p)
        try:
            start = int(ipaddress.ip_address(parts["start-address"]))
            end = int(ipaddress.ip_address(parts["end-address"]))
        except (KeyError, ValueError):
            raise param_error({"dhcp-range": f"invalid dhcp-range '{item}'"}) from None
        for label in ("start-address", "end-address"):
            if ipaddress.ip_address(parts[label]) not in network:
                raise param_error({"dhcp-range": f"{label} {parts[label]} is not in subnet {network}"})
        if start >= end:
            raise param_error(
                {
                    "dhcp-range": f"start-address {parts['start-address']} must be smaller than "
                    f"end-address {parts['end-address']}"
                }
            )
        ranges.append((start, end))
    ranges.sort()
    for (_, first_end), (second_start, _) in itertools.pairwise(ranges):
        if second_start <= first_end:
            raise param_error({"dhcp-range": "dhcp ranges must not overlap"})


@route("GET", "/cluster/sdn/vnets/{vnet}/subnets")
def subnet_list(call: Call) -> Any:
    state = sdn_state(call.cluster)
    _vnet_for(state, call)
    rows = _kind_rows(state, "subnets", call)
    return [r for r in rows if r.get("vnet") == call.path_params["vnet"]]


@route("GET", "/cluster/sdn/vnets/{vnet}/subnets/{subnet}")
def subnet_get(call: Call) -> Any:
    state = sdn_state(call.cluster)
    _vnet_for(state, call)
    return _one(state, "subnets", call.path_params["subnet"], call)


@route("POST", "/cluster/sdn/vnets/{vnet}/subnets")
def subnet_create(call: Call) -> Any:
    state = sdn_state(call.cluster)
    vnet = _vnet_for(state, call)
    network = ipaddress.ip_network(str(call.params["subnet"]), strict=False)
    zone = str(vnet["zone"])
    subnet_id = f"{zone}-{network.network_address}-{network.prefixlen}"
    if subnet_id in state.pending["subnets"]:
        raise PveHttpError(500, f"sdn subnet object ID '{subnet_id}' already defined")
    subnet = typed({k: v for k, v in call.params.items() if k not in CONTROL | {"subnet"}})
    subnet.update({"subnet": subnet_id, "cidr": str(network), "vnet": call.path_params["vnet"], "zone": zone})
    subnet["network"] = str(network.network_address)
    subnet["mask"] = str(network.prefixlen)
    _check_subnet(subnet)
    state.pending["subnets"][subnet_id] = subnet
    return None


@route("PUT", "/cluster/sdn/vnets/{vnet}/subnets/{subnet}")
def subnet_update(call: Call) -> Any:
    state = sdn_state(call.cluster)
    _vnet_for(state, call)
    subnet_id = call.path_params["subnet"]
    if subnet_id not in state.pending["subnets"]:
        raise PveHttpError(500, f"subnet '{subnet_id}' does not exist")
    _check_digest(state, "subnets", call)
    subnet = dict(state.pending["subnets"][subnet_id])
    subnet.update(typed({k: v for k, v in call.params.items() if k not in CONTROL | {"subnet", "vnet"}}))
    for key in _delete_keys(call):
        subnet.pop(key, None)
    _check_subnet(subnet)
    state.pending["subnets"][subnet_id] = subnet
    return None


@route("DELETE", "/cluster/sdn/vnets/{vnet}/subnets/{subnet}")
def subnet_delete(call: Call) -> Any:
    state = sdn_state(call.cluster)
    _vnet_for(state, call)
    subnet_id = call.path_params["subnet"]
    if subnet_id not in state.pending["subnets"]:
        raise PveHttpError(500, f"subnet '{subnet_id}' does not exist")
    del state.pending["subnets"][subnet_id]
    return None


# ------------------------------------------------------------------------------------------------- IPAM


def _ipam_vnet(call: Call) -> tuple[SdnState, str]:
    state = sdn_state(call.cluster)
    vnet_id = call.path_params["vnet"]
    vnet = state.running["vnets"].get(vnet_id)
    if vnet is None:
        raise PveHttpError(500, f"sdn '{vnet_id}' does not exist")
    if str(vnet.get("zone")) != str(call.params["zone"]):
        raise PveHttpError(500, f"vnet {vnet_id} is not in zone {call.params['zone']}")
    return state, vnet_id


@route("POST", "/cluster/sdn/vnets/{vnet}/ips")
def ipam_create(call: Call) -> Any:
    """Register an address (no ``vmid`` on POST); the vnet and its subnet must be applied."""
    state, vnet_id = _ipam_vnet(call)
    ipam_add(state, vnet=vnet_id, ip=str(call.params["ip"]), mac=call.params.get("mac"), vmid=None)
    return None


@route("PUT", "/cluster/sdn/vnets/{vnet}/ips")
def ipam_update(call: Call) -> Any:
    """Replace the mapping of ``ip`` (the old one is restored if the new one fails)."""
    state, vnet_id = _ipam_vnet(call)
    ip = str(call.params["ip"])
    old = state.ipam.pop(ip, None)
    vmid = int(call.params["vmid"]) if "vmid" in call.params else None
    try:
        ipam_add(state, vnet=vnet_id, ip=ip, mac=call.params.get("mac"), vmid=vmid)
    except PveHttpError:
        if old is not None:
            state.ipam[ip] = old
        raise
    return None


@route("DELETE", "/cluster/sdn/vnets/{vnet}/ips")
def ipam_delete(call: Call) -> Any:
    state, _vnet_id = _ipam_vnet(call)
    state.ipam.pop(str(call.params["ip"]), None)
    return None


@route("GET", "/cluster/sdn/ipams")
def ipam_list(call: Call) -> Any:
    return [{"ipam": "pve", "type": "pve"}]


@route("GET", "/cluster/sdn/ipams/{ipam}/status")
def ipam_status(call: Call) -> Any:
    if call.path_params["ipam"] != "pve":
        raise PveHttpError(500, f"sdn '{call.path_params['ipam']}' does not exist")
    return [dict(entry) for _, entry in sorted(sdn_state(call.cluster).ipam.items())]


# ------------------------------------------------------------------------------------- node network view


@route("GET", "/nodes/{node}/network")
def node_network(call: Call) -> Any:
    """The node's interfaces: its bridges, plus the vnets its last network reload put in place."""
    c = call.cluster
    c.node(call.node)
    rows: list[dict[str, Any]] = [
        {"iface": "vmbr0", "type": "bridge", "active": 1, "autostart": 1, "bridge_ports": "eno1", "families": ["inet"]}
    ]
    state = sdn_state(c)
    for vnet_id in sorted((state.on_node.get(call.node) or {"vnets": {}})["vnets"]):
        if state.running_vnet(vnet_id, call.node) is not None:
            rows.append({"iface": vnet_id, "type": "vnet", "active": 1})
    kind = call.params.get("type")
    if kind in ("any_bridge", "any_local_bridge"):
        return rows if kind == "any_bridge" else rows[:1]
    if kind:
        rows = [r for r in rows if r["type"] == kind]
    return rows
