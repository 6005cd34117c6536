"""Pure rules of private networks: ranges, subnets, address choice, VNet names (no database).

* A network's range is an RFC 1918 IPv4 block (10/8, 172.16/12, 192.168/16)
  between /8 and /24; its subnets lie inside it, between /16 and /29, and do
  not overlap each other.
* Neither may overlap a range the platform uses itself (``NETWORKS_PLATFORM_RANGES``
  and the datacentre's IP pools): a guest routing such a range to its private
  card would cut itself off from the platform.
* In every subnet the network address, the first host (kept for a router the
  customer may add, as Hetzner does) and the broadcast address are never given
  to a server.
* A VNet id is at most 8 letters and digits (it becomes a Linux bridge name;
  docs/dev/proxmox-behaviour.md#sdn-objects): ``n`` and the network's tag in base 36,
  so the unique tag per cluster makes the VNet unique too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
RANGE_MIN_PREFIX, RANGE_MAX_PREFIX = 8, 24
SUBNET_MIN_PREFIX, SUBNET_MAX_PREFIX = 16, 29
# Tags per zone type: VLAN ids 1–4094, VXLAN/EVPN VNIs 1–16777215 (docs/dev/proxmox-behaviour.md#simulator-sdn).
TAG_BOUNDS = {"vlan": (1, 4094), "qinq": (1, 4094), "vxlan": (1, 16_777_215), "evpn": (1, 16_777_215)}
SIMPLE_BOUNDS = (1, 36**7 - 1)  # no tag sent to PVE: only the VNet id's number


def network_parse(text: str) -> ipaddress.IPv4Network | None:
    """``text`` as a strict IPv4 network (host bits clear), or None."""
    try:
        network = ipaddress.ip_network(str(text).strip(), strict=True)
    except ValueError:
        return None
    return network if isinstance(network, ipaddress.IPv4Network) else None


def overlapping(network: ipaddress.IPv4Network, others: Iterable[str]) -> str | None:
    for other in others:
        try:
            parsed = ipaddress.ip_network(str(other), strict=False)
        except ValueError:
            continue
        if isinstance(parsed, ipaddress.IPv4Network) and network.overlaps(parsed):
            return str(parsed)
    return None


def range_error(text: str, *, platform_ranges: Iterable[str]) -> str | None:
    """Why ``text`` is not a valid network range, or None (an English key the service translates)."""
    network = network_parse(text)
    if network is None:
        return "malformed"
    if not any(network.subnet_of(block) for block in RFC1918):
        return "not_private"
    if not RANGE_MIN_PREFIX <= network.prefixlen <= RANGE_MAX_PREFIX:
        return "prefix"
    if overlapping(network, platform_ranges):
        return "platform"
    return None


def subnet_error(text: str, *, ip_range: ipaddress.IPv4Network, others: Iterable[str]) -> str | None:
    """Why ``text`` is not a valid subnet of ``ip_range`` next to ``others``, or None."""
    network = network_parse(text)
    if network is None:
        return "malformed"
    if not network.subnet_of(ip_range):
        return "outside"
    if not SUBNET_MIN_PREFIX <= network.prefixlen <= SUBNET_MAX_PREFIX:
        return "prefix"
    if overlapping(network, others):
        return "overlap"
    return None


def default_subnet(ip_range: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """The subnet a network gets when none is given: the whole range, or its first /16 when larger."""
    if ip_range.prefixlen >= SUBNET_MIN_PREFIX:
        return ip_range
    return next(ip_range.subnets(new_prefix=SUBNET_MIN_PREFIX))


def reserved_addresses(subnet: ipaddress.IPv4Network) -> set[ipaddress.IPv4Address]:
    """Network, first host (router) and broadcast: never given to a server."""
    return {subnet.network_address, subnet.network_address + 1, subnet.broadcast_address}


def assignable(subnet: ipaddress.IPv4Network) -> Iterator[ipaddress.IPv4Address]:
    """The subnet's addresses a server may get, in order."""
    reserved = reserved_addresses(subnet)
    return (address for address in subnet.hosts() if address not in reserved)


def address_error(text: str, *, subnet: ipaddress.IPv4Network) -> str | None:
    """Why ``text`` cannot be asked for in ``subnet``, or None."""
    try:
        address = ipaddress.IPv4Address(str(text).strip())
    except ValueError:
        return "malformed"
    if address not in subnet:
        return "outside"
    if address in reserved_addresses(subnet):
        return "reserved"
    return None


def first_free(subnet: ipaddress.IPv4Network, taken: Iterable[str]) -> str | None:
    """The lowest assignable address of ``subnet`` not in ``taken``, or None when the subnet is full."""
    used = {str(a) for a in taken}
    return next((str(a) for a in assignable(subnet) if str(a) not in used), None)


def capacity(subnet: ipaddress.IPv4Network) -> int:
    """How many servers the subnet holds."""
    return max(0, subnet.num_addresses - len(reserved_addresses(subnet)))


def tag_bounds(zone_type: str) -> tuple[int, int]:
    """The (first, last) tag of a zone type."""
    return TAG_BOUNDS.get(zone_type, SIMPLE_BOUNDS)


def vnet_id(tag: int) -> str:
    """``n`` + ``tag`` in base 36: at most 8 characters for any tag below 36**7."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    value, out = int(tag), ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if value == 0:
            return f"n{out}"
