"""What a load balancer is, as the engine needs it: frozen dataclasses and their validation (no database).

A ``LoadBalancerSpec`` holds forwarding rules (entry protocol and port → target protocol
and port), targets (name, address, optional port), a health check, sticky sessions, the
HTTP→HTTPS redirect, TLS (termination with a certificate bundle, or passthrough), the
PROXY protocol toggle and the tier's limits. The resource layer builds one from its rows;
``haproxy.haproxy_config_render`` turns it into HAProxy's configuration.

Which entry protocol may forward to which target protocol (``RULE_TARGETS``):

* HTTP → HTTP or HTTPS (re-encrypted to the targets);
* HTTPS with TLS termination → HTTP, HTTPS, WebSocket (``wss://`` in, ``ws://`` out) or
  gRPC (TLS with ALPN ``h2`` in, cleartext HTTP/2 out); with TLS passthrough → HTTPS
  only, forwarded as TCP, untouched;
* WebSocket → WebSocket or HTTP (``ws://`` to the targets), or HTTPS (``wss://`` to them);
* gRPC → gRPC or HTTP (cleartext HTTP/2 to the targets), or HTTPS (HTTP/2 over TLS, ALPN ``h2``);
* TCP → TCP;
* UDP → UDP and HTTP/3 → HTTP or HTTPS are valid specs that the engine refuses
  (``apps/docs/content/load-balancer-engine.md``, "What is refused").

``spec_validate`` raises ``ValidationFailed`` whose fields name the part that is wrong
(``rules``, ``targets``, ``health_check``, ``sticky_sessions``, ``tls``,
``redirect_http_to_https``, ``limits``); ``spec_check_tier`` enforces a tier's protocols
and backend count (the catalogue's ``lb_protocols`` and ``lb_backends``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext as _

from apps.core.errors import ValidationFailed


class Protocol(StrEnum):
    HTTP = "http"
    HTTPS = "https"
    TCP = "tcp"
    UDP = "udp"
    WEBSOCKET = "websocket"
    GRPC = "grpc"
    HTTP3 = "http3"


# The catalogue names protocols as its price list does (``Offer.lb_protocols``, apps/catalogue/services/seed_data.py).
CATALOGUE_NAMES: dict[str, Protocol] = {
    "HTTP": Protocol.HTTP,
    "HTTPS": Protocol.HTTPS,
    "TCP": Protocol.TCP,
    "UDP": Protocol.UDP,
    "WebSocket": Protocol.WEBSOCKET,
    "gRPC": Protocol.GRPC,
    "HTTP/3": Protocol.HTTP3,
}
DISPLAY_NAMES: dict[Protocol, str] = {protocol: name for name, protocol in CATALOGUE_NAMES.items()}


class TlsMode(StrEnum):
    TERMINATE = "terminate"
    PASSTHROUGH = "passthrough"


class HealthCheckProtocol(StrEnum):
    HTTP = "http"
    HTTPS = "https"
    TCP = "tcp"


# Entry protocol → the target protocols it may forward to; passthrough narrows HTTPS (see the module docstring).
RULE_TARGETS: dict[Protocol, frozenset[Protocol]] = {
    Protocol.HTTP: frozenset({Protocol.HTTP, Protocol.HTTPS}),
    Protocol.HTTPS: frozenset({Protocol.HTTP, Protocol.HTTPS, Protocol.WEBSOCKET, Protocol.GRPC}),
    Protocol.WEBSOCKET: frozenset({Protocol.WEBSOCKET, Protocol.HTTP, Protocol.HTTPS}),
    Protocol.GRPC: frozenset({Protocol.GRPC, Protocol.HTTP, Protocol.HTTPS}),
    Protocol.TCP: frozenset({Protocol.TCP}),
    Protocol.UDP: frozenset({Protocol.UDP}),
    Protocol.HTTP3: frozenset({Protocol.HTTP, Protocol.HTTPS}),
}
PASSTHROUGH_TARGETS = frozenset({Protocol.HTTPS})

MAX_RULES = 32
MAX_TARGETS = 1000  # LB-GLOBAL's "unlimited" backends, bounded so a configuration stays a few hundred KiB
# HAProxy needs about two file descriptors per connection and refuses to start when it cannot raise its
# limit that far: 250 000 stays under systemd's default hard limit (524 288) and the kernel's fs.nr_open
# (1 048 576) on the load-balancer VM (apps/docs/content/load-balancer-engine.md, "Limits").
MAX_CONNECTIONS = 250_000
# A target's name becomes an HAProxy server name (and a cookie value): letters, digits and ``._:-``.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
COOKIE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# An HTTP path HAProxy can send verbatim: no spaces, quotes, backslashes or control characters.
PATH_RE = re.compile(r"^/[\x21-\x7e]{0,254}$")
HOST_RE = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$")
# A file path on the VM: absolute, no whitespace, quotes or characters HAProxy's parser treats specially.
FILE_PATH_RE = re.compile(r"^/[A-Za-z0-9_./-]{1,254}$")


@dataclass(frozen=True)
class ForwardingRule:
    """Traffic arriving on ``entry_port`` with ``entry_protocol`` goes to every target's ``target_port``."""

    entry_protocol: Protocol
    entry_port: int
    target_protocol: Protocol
    target_port: int


@dataclass(frozen=True)
class Target:
    """A server in the pool. ``port`` set: it is reached on that port for every rule, not the rule's target port."""

    name: str
    address: str
    port: int | None = None


@dataclass(frozen=True)
class HealthCheck:
    """How HAProxy decides a target is up: ``rise`` good checks in a row bring it in, ``fall`` bad ones take it out.

    ``port`` None checks the rule's target port; ``path`` (and ``host``, sent as the Host header)
    serve HTTP and HTTPS checks, which expect a 2xx or 3xx answer.
    """

    protocol: HealthCheckProtocol = HealthCheckProtocol.TCP
    port: int | None = None
    path: str = "/"
    host: str = ""
    interval_seconds: int = 5
    timeout_seconds: int = 3
    rise: int = 2
    fall: int = 3


@dataclass(frozen=True)
class StickySessions:
    """HTTP rules: a cookie names the target; TCP and passthrough: the client address does, for ``ttl_seconds``."""

    cookie_name: str = "LBSTICKY"
    ttl_seconds: int = 3600


@dataclass(frozen=True)
class Tls:
    """TLS on HTTPS entry rules: terminated with the bundle (cert, chain, key) at ``certificate_path``, or passed on."""

    mode: TlsMode
    certificate_path: str = ""


@dataclass(frozen=True)
class Limits:
    """The tier's limits the running HAProxy enforces: concurrent connections in total."""

    max_connections: int = 10_000


@dataclass(frozen=True)
class LoadBalancerSpec:
    """One load balancer as the generator needs it."""

    name: str
    rules: tuple[ForwardingRule, ...]
    targets: tuple[Target, ...] = ()
    health_check: HealthCheck = field(default_factory=HealthCheck)
    sticky_sessions: StickySessions | None = None
    redirect_http_to_https: bool = False
    tls: Tls | None = None
    proxy_protocol: bool = False
    limits: Limits = field(default_factory=Limits)

    def target_port(self, rule: ForwardingRule, target: Target) -> int:
        return target.port if target.port is not None else rule.target_port

    def https_entry_port(self) -> int | None:
        """The port an HTTP→HTTPS redirect sends clients to: the first HTTPS entry rule's."""
        return next((r.entry_port for r in self.rules if r.entry_protocol == Protocol.HTTPS), None)


def protocols_from_catalogue(names: Iterable[str]) -> frozenset[Protocol]:
    """A tier's protocols from the catalogue's names (``["HTTP", "HTTPS", "WebSocket"]``); unknown names are ignored."""
    return frozenset(CATALOGUE_NAMES[n] for n in names if n in CATALOGUE_NAMES)


def _port_ok(port: object) -> bool:
    return isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535


def _rule_problems(spec: LoadBalancerSpec) -> list[str]:
    problems: list[str] = []
    if len(spec.rules) > MAX_RULES:
        problems.append(_("At most %(max)s forwarding rules.") % {"max": MAX_RULES})
    seen_ports: set[int] = set()
    for number, rule in enumerate(spec.rules, start=1):
        where = _("Rule %(number)s") % {"number": number}
        if not _port_ok(rule.entry_port) or not _port_ok(rule.target_port):
            problems.append(_("%(where)s: ports are numbers from 1 to 65535.") % {"where": where})
        elif rule.entry_port in seen_ports:
            problems.append(
                _("%(where)s: entry port %(port)s is already used by another rule.")
                % {"where": where, "port": rule.entry_port}
            )
        seen_ports.add(rule.entry_port)
        allowed = RULE_TARGETS[rule.entry_protocol]
        if rule.entry_protocol == Protocol.HTTPS and spec.tls is not None and spec.tls.mode == TlsMode.PASSTHROUGH:
            allowed = PASSTHROUGH_TARGETS
        if rule.target_protocol not in allowed:
            problems.append(
                _("%(where)s: %(entry)s cannot forward to %(target)s; it forwards to %(allowed)s.")
                % {
                    "where": where,
                    "entry": DISPLAY_NAMES[rule.entry_protocol],
                    "target": DISPLAY_NAMES[rule.target_protocol],
                    "allowed": ", ".join(sorted(DISPLAY_NAMES[p] for p in allowed)),
                }
            )
    return problems


def _target_problems(spec: LoadBalancerSpec) -> list[str]:
    problems: list[str] = []
    if len(spec.targets) > MAX_TARGETS:
        problems.append(_("At most %(max)s targets.") % {"max": MAX_TARGETS})
    names: set[str] = set()
    for target in spec.targets:
        if not NAME_RE.match(target.name):
            problems.append(
                _(
                    "Target name %(name)r: use 1 to 64 letters, digits, '.', '_', ':' or '-', "
                    "starting with a letter or digit."
                )
                % {"name": target.name}
            )
        elif target.name in names:
            problems.append(_("Target name %(name)r is used twice.") % {"name": target.name})
        names.add(target.name)
        try:
            ipaddress.ip_address(target.address)
        except ValueError:
            problems.append(
                _("Target %(name)r: %(address)r is not an IPv4 or IPv6 address.")
                % {"name": target.name, "address": target.address}
            )
        if target.port is not None and not _port_ok(target.port):
            problems.append(_("Target %(name)r: the port is a number from 1 to 65535.") % {"name": target.name})
    return problems


def _health_problems(check: HealthCheck) -> list[str]:
    problems: list[str] = []
    if check.port is not None and not _port_ok(check.port):
        problems.append(_("The health check port is a number from 1 to 65535."))
    if check.protocol != HealthCheckProtocol.TCP:
        if not PATH_RE.match(check.path):
            problems.append(
                _("The health check path starts with / and has no spaces or quotes (at most 255 characters).")
            )
        if check.host and not HOST_RE.match(check.host):
            problems.append(_("The health check host is a DNS name, optionally with a port."))
    if not 1 <= check.interval_seconds <= 3600:
        problems.append(_("The health check interval is 1 to 3600 seconds."))
    if not 1 <= check.timeout_seconds <= 60 or check.timeout_seconds > check.interval_seconds:
        problems.append(_("The health check timeout is 1 to 60 seconds and no longer than the interval."))
    if not 1 <= check.rise <= 10 or not 1 <= check.fall <= 10:
        problems.append(_("The health check thresholds (rise, fall) are 1 to 10 checks."))
    return problems


def _tls_problems(spec: LoadBalancerSpec) -> list[str]:
    https_rules = [r for r in spec.rules if r.entry_protocol in (Protocol.HTTPS, Protocol.HTTP3)]
    if spec.tls is None:
        return [_("HTTPS rules need TLS: termination with a certificate, or passthrough.")] if https_rules else []
    if spec.tls.mode == TlsMode.TERMINATE and not FILE_PATH_RE.match(spec.tls.certificate_path):
        return [_("TLS termination needs the certificate bundle's path on the load balancer (absolute, no spaces).")]
    if spec.tls.mode == TlsMode.PASSTHROUGH and spec.tls.certificate_path:
        return [_("TLS passthrough takes no certificate: the targets hold it.")]
    return []


def spec_problems(spec: LoadBalancerSpec) -> dict[str, list[str]]:
    """What is wrong with ``spec``, by field (empty when it is a valid load balancer)."""
    problems: dict[str, list[str]] = {
        "rules": _rule_problems(spec),
        "targets": _target_problems(spec),
        "health_check": _health_problems(spec.health_check),
        "tls": _tls_problems(spec),
        "sticky_sessions": [],
        "redirect_http_to_https": [],
        "limits": [],
    }
    sticky = spec.sticky_sessions
    if sticky is not None:
        if not COOKIE_RE.match(sticky.cookie_name):
            problems["sticky_sessions"].append(_("The cookie name is 1 to 64 letters, digits, '_' or '-'."))
        if not 60 <= sticky.ttl_seconds <= 7 * 86400:
            problems["sticky_sessions"].append(_("Sticky sessions last 60 seconds to 7 days."))
    if spec.redirect_http_to_https:
        if not any(r.entry_protocol == Protocol.HTTP for r in spec.rules):
            problems["redirect_http_to_https"].append(_("The redirect needs an HTTP rule to redirect from."))
        if spec.https_entry_port() is None:
            problems["redirect_http_to_https"].append(_("The redirect needs an HTTPS rule to redirect to."))
    if not 1 <= spec.limits.max_connections <= MAX_CONNECTIONS:
        problems["limits"].append(_("Connections are limited to 1 to %(max)s.") % {"max": MAX_CONNECTIONS})
    return {key: messages for key, messages in problems.items() if messages}


def spec_validate(spec: LoadBalancerSpec) -> None:
    """Raise ``ValidationFailed`` (fields as in ``spec_problems``) unless ``spec`` is a valid load balancer."""
    problems = spec_problems(spec)
    if problems:
        raise ValidationFailed(_("The load balancer's settings are not valid."), fields=problems)


def spec_check_tier(spec: LoadBalancerSpec, *, protocols: Sequence[str], max_targets: int | None) -> None:
    """Raise ``ValidationFailed`` when ``spec`` uses a protocol or more targets than the tier sells.

    ``protocols`` are the catalogue's names (``Offer.lb_protocols``); ``max_targets`` is
    ``Offer.lb_backends`` (None: unlimited, bounded by ``MAX_TARGETS``).
    """
    allowed = protocols_from_catalogue(protocols)
    fields: dict[str, list[str]] = {}
    used = {p for r in spec.rules for p in (r.entry_protocol, r.target_protocol)}
    refused = sorted(DISPLAY_NAMES[p] for p in used - allowed)
    if refused:
        fields["rules"] = [
            _("This tier does not include %(refused)s; it includes %(allowed)s.")
            % {"refused": ", ".join(refused), "allowed": ", ".join(sorted(DISPLAY_NAMES[p] for p in allowed)) or "-"}
        ]
    if max_targets is not None and len(spec.targets) > max_targets:
        fields["targets"] = [
            _("This tier includes at most %(max)s targets (backends); %(count)s are selected.")
            % {"max": max_targets, "count": len(spec.targets)}
        ]
    if fields:
        raise ValidationFailed(_("The load balancer exceeds its tier."), code="tier_limit", fields=fields)
