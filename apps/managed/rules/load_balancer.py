"""Load balancer: forwarding rules and targets against the tier, and the forms' one rule-line parser.

A plain structured configuration; the automated load balancer (apps.loadbalancers) checks the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from apps.core.labels import label_selector_parse
from apps.managed.rules.fields import Offer, _Errors, _int, _list, _str

LB_RULE_KEYS = ("protocol", "port", "target_protocol", "target_port")


def lb_rules_parse(text: Any) -> list[dict[str, str]]:
    """The forms' rule lines → rule objects: "HTTPS 443 HTTP 8080" (or "HTTPS 443 -> HTTP 8080") per line.

    The one parser of the order form and the load balancer's page (apps/docs/content/load-balancers.md,
    "Order it"); what it gives is checked by ``service_config_clean`` (a short line misses keys, named there).
    """
    rules = []
    for line in str(text or "").replace("\r\n", "\n").split("\n"):
        parts = line.strip().replace("->", " ").replace("\u2192", " ").split()
        if parts:
            rules.append(dict(zip(LB_RULE_KEYS, parts, strict=False)))
    return rules


def lb_rules_text(rules: Any) -> str:
    """Rule objects → the forms' lines (``lb_rules_parse`` reads them back)."""
    return "\n".join(" ".join(str(r.get(k, "")) for k in LB_RULE_KEYS) for r in rules or [])


LB_RULES_MAX = 50
LB_TARGETS_MAX = 200
# The protocols as the catalogue writes them (seed: "HTTP", "HTTPS", "TCP", "UDP", "WebSocket", "gRPC", "HTTP/3").
LB_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "UDP", "WebSocket", "gRPC", "HTTP/3")
LB_TARGET_PROTOCOLS = {
    "HTTP": ("HTTP", "HTTPS"),
    "HTTPS": ("HTTP", "HTTPS"),
    "WebSocket": ("HTTP", "HTTPS"),
    "gRPC": ("HTTP", "HTTPS"),
    "HTTP/3": ("HTTP", "HTTPS"),
    "TCP": ("TCP",),
    "UDP": ("UDP",),
}


def _protocol(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    wanted = value.strip().lower()
    return next((p for p in LB_PROTOCOLS if p.lower() == wanted), None)


def _port(value: Any) -> int | None:
    port = _int(value)
    return port if port is not None and 1 <= port <= 65535 else None


def _load_balancer(offer: Offer, data: Mapping[str, Any], errors: _Errors) -> dict[str, Any]:
    tier_protocols = [p for p in (_protocol(x) for x in offer.lb_protocols or []) if p]
    rules: list[dict[str, Any]] = []
    raw_rules = _list(data, "rules", errors)
    if not raw_rules and "rules" not in errors.fields:
        errors.add("rules", _("Add at least one forwarding rule, e.g. HTTP 80 → HTTP 8080."))
    if len(raw_rules) > LB_RULES_MAX:
        errors.add("rules", _("At most %(max)s forwarding rules.") % {"max": LB_RULES_MAX})
    entry_ports: set[tuple[str, int]] = set()
    for index, item in enumerate(raw_rules[:LB_RULES_MAX]):
        if not isinstance(item, Mapping):
            errors.add(f"rules.{index}", _("Send an object with protocol, port, target_protocol and target_port."))
            continue
        protocol = _protocol(item.get("protocol"))
        target_protocol = _protocol(item.get("target_protocol") or item.get("protocol"))
        port = _port(item.get("port"))
        target_port = _port(item.get("target_port") or item.get("port"))
        for key, value in (("protocol", protocol), ("target_protocol", target_protocol)):
            if value is None:
                errors.add(
                    f"rules.{index}.{key}", _("Choose one of: %(choices)s.") % {"choices": ", ".join(LB_PROTOCOLS)}
                )
            elif value not in tier_protocols:
                errors.add(
                    f"rules.{index}.{key}",
                    _("The %(tier)s tier allows %(protocols)s.")
                    % {"tier": offer.code, "protocols": ", ".join(tier_protocols)},
                )
        if protocol and target_protocol and target_protocol not in LB_TARGET_PROTOCOLS[protocol]:
            errors.add(
                f"rules.{index}.target_protocol",
                _("%(protocol)s traffic is forwarded as %(targets)s.")
                % {"protocol": protocol, "targets": " or ".join(LB_TARGET_PROTOCOLS[protocol])},
            )
        if port is None:
            errors.add(f"rules.{index}.port", _("Enter a port from 1 to 65535."))
        if target_port is None:
            errors.add(f"rules.{index}.target_port", _("Enter a port from 1 to 65535."))
        if protocol and port:
            transport = "udp" if protocol in ("UDP", "HTTP/3") else "tcp"
            if (transport, port) in entry_ports:
                errors.add(f"rules.{index}.port", _("Another rule already listens on this port."))
            entry_ports.add((transport, port))
        for key in item:
            if key not in ("protocol", "port", "target_protocol", "target_port"):
                errors.add(f"rules.{index}.{key}", _("Unknown field for this kind of service."))
        if protocol and target_protocol and port and target_port:
            rules.append(
                {"protocol": protocol, "port": port, "target_protocol": target_protocol, "target_port": target_port}
            )

    targets: list[dict[str, Any]] = []
    servers: set[str] = set()
    raw_targets = _list(data, "targets", errors)
    if len(raw_targets) > LB_TARGETS_MAX:
        errors.add("targets", _("At most %(max)s targets.") % {"max": LB_TARGETS_MAX})
    for index, item in enumerate(raw_targets[:LB_TARGETS_MAX]):
        if not isinstance(item, Mapping):
            errors.add(f"targets.{index}", _("Send an object: a server id or a label selector."))
            continue
        kind = _str(item.get("kind")) or ("label_selector" if item.get("label_selector") else "server")
        if kind == "server":
            try:
                public_id = str(uuid.UUID(_str(item.get("id")) or ""))
            except ValueError:
                errors.add(f"targets.{index}.id", _("Enter a server id."))
                continue
            if public_id in servers:
                errors.add(f"targets.{index}.id", _("This server is already a target."))
                continue
            servers.add(public_id)
            targets.append({"kind": "server", "id": public_id})
        elif kind == "label_selector":
            selector = _str(item.get("label_selector"))
            if not selector:
                errors.add(f"targets.{index}.label_selector", _("Enter a label selector such as role=web,env=prod."))
                continue
            try:
                label_selector_parse(selector)
            except ValueError as exc:
                errors.add(f"targets.{index}.label_selector", str(exc))
                continue
            targets.append({"kind": "label_selector", "label_selector": selector})
        else:
            errors.add(f"targets.{index}.kind", _("Choose server or label_selector."))
    if not offer.lb_backends_unlimited and offer.lb_backends is not None and len(servers) > offer.lb_backends:
        errors.add(
            "targets",
            _("The %(tier)s tier balances at most %(max)s backends.") % {"tier": offer.code, "max": offer.lb_backends},
        )
    return {"rules": rules, "targets": targets}
