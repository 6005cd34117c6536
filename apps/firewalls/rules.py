"""Pure rules of firewalls (no database): rule validation, limits, and the Proxmox rules a firewall becomes.

A firewall rule, as the API takes it (Hetzner's shape)::

    {"direction": "in", "protocol": "tcp", "port": "80-85",
     "source_ips": ["0.0.0.0/0", "::/0"], "destination_ips": [], "description": "web"}

* ``protocol``: tcp, udp, icmp, esp or gre; ``port`` (a port ``80`` or a range
  ``80-85``, 1 to 65535) only for tcp and udp; left out or ``any`` means every port.
* ``source_ips`` (inbound) or ``destination_ips`` (outbound): 1 to ``MAX_IPS_PER_RULE``
  IPv4 or IPv6 addresses or CIDRs (host bits clear; a plain address is a /32 or /128).
* At most ``MAX_RULES`` rules per firewall (an organisation's quota may set fewer).

On Proxmox a firewall is one cluster security group (docs/dev/proxmox-behaviour.md#firewall-rules):
each rule becomes ``ACCEPT`` rules of type ``in`` (``source``) or ``out`` (``dest``), one per
address family since PVE refuses a list mixing IPv4 and IPv6, split so that no address list
exceeds PVE's 512 characters; ICMP is ``icmp`` for IPv4 and ``ipv6-icmp`` for IPv6; a port range
is written ``80:85``. A VM that uses firewalls gets one ``group`` rule per firewall, inbound
policy DROP, and outbound policy DROP only if one of them has an outbound rule (as at Hetzner:
no outbound rule means all outbound traffic is allowed).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

MAX_RULES = 50
MAX_IPS_PER_RULE = 100
MAX_DESCRIPTION = 255
MAX_FIREWALLS_PER_SERVER = 5
# PVE's ``pve-fw-addr-spec`` is at most 512 characters.
PVE_ADDRESS_LIST_MAX = 512
DIRECTIONS = ("in", "out")
PROTOCOLS = ("tcp", "udp", "icmp", "esp", "gre")
PORT_PROTOCOLS = ("tcp", "udp")
_PORT_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")


def group_name(public_id_hex: str) -> str:
    """The security group of a firewall: ``fw`` and 16 hex digits (PVE allows 18 characters, a letter first)."""
    return f"fw{public_id_hex[:16]}"


def _port_error(port: str) -> str | None:
    match = _PORT_RE.match(port)
    if match is None:
        return "a port (80) or a range (80-85) of numbers from 1 to 65535"
    first = int(match[1])
    last = int(match[2]) if match[2] else first
    if not (1 <= first <= 65535 and 1 <= last <= 65535):
        return "ports are from 1 to 65535"
    if last < first:
        return f"the range is reversed: did you mean {last}-{first}?"
    return None


def cidr_clean(text: Any) -> tuple[str | None, str | None]:
    """(normalised CIDR, None) or (None, why it is not one)."""
    if not isinstance(text, str) or not text.strip():
        return None, "an IPv4 or IPv6 address or CIDR"
    value = text.strip()
    try:
        if "/" in value:
            network = ipaddress.ip_network(value, strict=True)
        else:
            network = ipaddress.ip_network(ipaddress.ip_address(value))
    except ValueError as exc:
        if "has host bits set" in str(exc):
            suggestion = ipaddress.ip_network(value, strict=False)
            return None, f"host bits are set in {value}: did you mean {suggestion}?"
        return None, f"{value[:60]} is not an IPv4 or IPv6 address or CIDR"
    return str(network), None


def rules_clean(rules: Any, *, max_rules: int = MAX_RULES) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(clean rules, errors): errors map a field (``rules``, ``rules[3].port``) to an English reason.

    The clean rules are only meaningful when there is no error.
    """
    errors: dict[str, str] = {}
    if rules is None:
        return [], {}
    if not isinstance(rules, list):
        return [], {"rules": "a list of rules"}
    if len(rules) > max_rules:
        errors["rules"] = f"at most {max_rules} rules per firewall"
        return [], errors
    clean: list[dict[str, Any]] = []
    for index, rule in enumerate(rules):
        at = f"rules[{index}]"
        if not isinstance(rule, dict):
            errors[at] = "a rule object"
            continue
        unknown = set(rule) - {"direction", "protocol", "port", "source_ips", "destination_ips", "description"}
        if unknown:
            errors[f"{at}.{sorted(unknown)[0]}"] = "unknown field"
        direction = rule.get("direction")
        if direction not in DIRECTIONS:
            errors[f"{at}.direction"] = "in or out"
        protocol = rule.get("protocol")
        if protocol not in PROTOCOLS:
            errors[f"{at}.protocol"] = "one of tcp, udp, icmp, esp, gre"
        port = rule.get("port")
        if port in ("", "any"):
            port = None
        if port is not None:
            if isinstance(port, int) and not isinstance(port, bool):
                port = str(port)
            if not isinstance(port, str):
                errors[f"{at}.port"] = "a port (80) or a range (80-85) as text"
            elif protocol in PROTOCOLS and protocol not in PORT_PROTOCOLS:
                errors[f"{at}.port"] = f"{protocol} has no ports: leave port out"
            elif (reason := _port_error(port.strip())) is not None:
                errors[f"{at}.port"] = reason
            else:
                port = port.strip()
        other_key = "source_ips" if direction == "out" else "destination_ips"
        own_key = "destination_ips" if direction == "out" else "source_ips"
        if rule.get(other_key) and direction in DIRECTIONS:
            errors[f"{at}.{other_key}"] = (
                "an outbound rule names destination_ips" if direction == "out" else "an inbound rule names source_ips"
            )
        ips = rule.get(own_key)
        cidrs: list[str] = []
        if not isinstance(ips, list) or not ips:
            errors[f"{at}.{own_key}"] = "a list of 1 or more addresses or CIDRs (0.0.0.0/0 and ::/0 for any)"
        elif len(ips) > MAX_IPS_PER_RULE:
            errors[f"{at}.{own_key}"] = f"at most {MAX_IPS_PER_RULE} addresses per rule"
        else:
            for position, text in enumerate(ips):
                cidr, reason = cidr_clean(text)
                if reason is not None:
                    errors.setdefault(f"{at}.{own_key}[{position}]", reason)
                elif cidr not in cidrs:
                    cidrs.append(str(cidr))
        description = rule.get("description") or ""
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            errors[f"{at}.description"] = f"text of at most {MAX_DESCRIPTION} characters"
            description = ""
        clean.append(
            {
                "direction": direction,
                "protocol": protocol,
                "port": port,
                own_key: cidrs,
                other_key: [],
                "description": description.strip(),
            }
        )
    return clean, errors


def _chunks(cidrs: Sequence[str]) -> list[str]:
    """Comma lists of ``cidrs`` of at most ``PVE_ADDRESS_LIST_MAX`` characters each."""
    lists: list[str] = []
    current = ""
    for cidr in cidrs:
        candidate = f"{current},{cidr}" if current else cidr
        if len(candidate) > PVE_ADDRESS_LIST_MAX:
            lists.append(current)
            candidate = cidr
        current = candidate
    if current:
        lists.append(current)
    return lists


def _comment(description: str) -> str | None:
    # PVE stores the comment in a one-line .fw file: no line breaks.
    text = " ".join(description.split())
    return text[:MAX_DESCRIPTION] or None


def pve_rules(rules: Sequence[dict[str, Any]]) -> list[dict[str, str | None]]:
    """The security group's rules, in order, as PVE fields (``type``, ``action``, ``proto``, ``dport``,
    ``source``, ``dest``, ``comment``)."""
    out: list[dict[str, str | None]] = []
    for rule in rules:
        inbound = rule["direction"] == "in"
        cidrs = rule["source_ips"] if inbound else rule["destination_ips"]
        port = rule.get("port")
        for version in (4, 6):
            family = [c for c in cidrs if ipaddress.ip_network(c).version == version]
            if not family:
                continue
            proto = rule["protocol"]
            if proto == "icmp" and version == 6:
                proto = "ipv6-icmp"
            for addresses in _chunks(family):
                out.append(
                    {
                        "type": rule["direction"],
                        "action": "ACCEPT",
                        "proto": proto,
                        "dport": port.replace("-", ":") if port else None,
                        "source": addresses if inbound else None,
                        "dest": None if inbound else addresses,
                        "comment": _comment(rule.get("description") or ""),
                    }
                )
    return out


def has_outbound(rules: Sequence[dict[str, Any]]) -> bool:
    return any(rule.get("direction") == "out" for rule in rules)


def vm_policy_out(firewalls_rules: Sequence[Sequence[dict[str, Any]]]) -> str:
    """Outbound policy of a VM using these firewalls: DROP if any has an outbound rule, else ACCEPT."""
    return "DROP" if any(has_outbound(rules) for rules in firewalls_rules) else "ACCEPT"
