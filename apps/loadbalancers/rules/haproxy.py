"""The HAProxy configuration of a load balancer: ``haproxy_config_render(spec) -> str``, a pure function.

The engine is Debian 12's ``haproxy`` package (2.6 LTS, ``haproxy -vv``: OpenSSL, no QUIC),
the same on the load-balancer template as in the tests, which run ``haproxy -c`` on every
variant and a live instance on loopback. It runs in master-worker mode (Debian's unit starts
``haproxy -Ws``; ``master-worker`` here makes a plain ``haproxy -f`` do the same) with an
admin stats socket: the platform reads health through it (``show stat``, ``apps.loadbalancers.rules.health``)
and ``expose-fd listeners`` lets a reload hand the listening sockets to the new workers, so a
reload (``systemctl reload haproxy``: SIGUSR2 to the master) drops no connection; old workers
finish their connections, for at most ``HARD_STOP_AFTER``.
https://docs.haproxy.org/2.6/management.html#4 (stopping and restarting) and
https://docs.haproxy.org/2.6/configuration.html#3.1-expose-fd.

What the engine refuses (``ENGINE_REFUSED``, documented in apps/docs/content/load-balancer-engine.md):
UDP, because community HAProxy balances TCP and HTTP only, and HTTP/3, because it needs QUIC,
which Debian's 2.6 build lacks (``-QUIC`` in ``haproxy -vv``). A spec that uses either is a
``ValidationFailed`` with code ``protocol_unsupported``, never a configuration that fails.

One frontend ``fe_<entry port>`` and one backend ``be_<entry port>`` per rule:

* HTTP, WebSocket, gRPC and terminated HTTPS run in ``mode http`` (``option forwardfor``,
  ``X-Forwarded-Proto``); WebSocket upgrades are native in HTTP mode and live under
  ``timeout tunnel``; gRPC listens as cleartext HTTP/2 (``proto h2``) or, behind TLS, with
  ALPN ``h2,http/1.1``, and reaches its targets as HTTP/2 (``proto h2``), over TLS with ALPN
  ``h2`` when the rule's target protocol is HTTPS;
* TCP and passthrough HTTPS run in ``mode tcp``: bytes are forwarded untouched;
* HTTPS targets are reached over TLS without verifying their certificate (``verify none``):
  they are the customer's own servers, usually with self-signed certificates.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.core.errors import ValidationFailed
from apps.loadbalancers.rules.spec import (
    DISPLAY_NAMES,
    HealthCheckProtocol,
    LoadBalancerSpec,
    Protocol,
    TlsMode,
    spec_validate,
)

# Protocols the spec can name but this engine cannot run, and why (shown to the customer).
ENGINE_REFUSED: dict[Protocol, str] = {
    Protocol.UDP: gettext_noop("HAProxy balances TCP and HTTP only; UDP load balancing is not available."),
    Protocol.HTTP3: gettext_noop("HTTP/3 needs QUIC, which the load balancer's HAProxy (Debian 2.6) is built without."),
}
ENGINE_PROTOCOLS = frozenset(Protocol) - frozenset(ENGINE_REFUSED)
# Old workers keep serving their connections after a reload, for this long at most (WebSocket, TCP).
HARD_STOP_AFTER = "1h"
TIMEOUTS = (
    ("connect", "5s"),
    ("client", "60s"),
    ("server", "60s"),
    ("tunnel", "1h"),
    ("http-request", "10s"),
    ("http-keep-alive", "10s"),
    ("queue", "30s"),
)
# Mozilla's "intermediate" profile, as Debian's packaged haproxy.cfg ships it.
BIND_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"
)
BIND_CIPHERSUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"


@dataclass(frozen=True)
class Runtime:
    """Where HAProxy runs: the load-balancer VM's defaults (Debian's layout); tests point these at a temp dir."""

    stats_socket: str = "/run/haproxy/admin.sock"
    bind_address: str = "::"
    chroot: str | None = "/var/lib/haproxy"
    user: str | None = "haproxy"
    group: str | None = "haproxy"
    # Debian's unit bind-mounts /dev/log into the chroot (haproxy.service, BindReadOnlyPaths).
    log_target: str | None = "/dev/log"


def engine_problems(spec: LoadBalancerSpec) -> list[str]:
    """Why this engine cannot run ``spec`` (empty when it can)."""
    used = sorted({p for r in spec.rules for p in (r.entry_protocol, r.target_protocol)} & set(ENGINE_REFUSED))
    return [
        _("%(protocol)s is not supported: %(reason)s") % {"protocol": DISPLAY_NAMES[p], "reason": _(ENGINE_REFUSED[p])}
        for p in used
    ]


def _address(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ipaddress.ip_address(address).version == 6 else f"{address}:{port}"


def _comment(text: str) -> str:
    # ASCII only: the file then goes through the guest agent as plain text (apps.loadbalancers.rules.delivery).
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text)[:200]


def _global(spec: LoadBalancerSpec, runtime: Runtime) -> list[str]:
    lines = ["global", "    master-worker"]
    if runtime.log_target:
        lines.append(f"    log {runtime.log_target} local0")
    if runtime.chroot:
        lines.append(f"    chroot {runtime.chroot}")
    if runtime.user:
        lines.append(f"    user {runtime.user}")
    if runtime.group:
        lines.append(f"    group {runtime.group}")
    lines += [
        f"    stats socket {runtime.stats_socket} mode 600 level admin expose-fd listeners",
        "    stats timeout 30s",
        f"    maxconn {spec.limits.max_connections}",
        f"    hard-stop-after {HARD_STOP_AFTER}",
        f"    ssl-default-bind-ciphers {BIND_CIPHERS}",
        f"    ssl-default-bind-ciphersuites {BIND_CIPHERSUITES}",
        "    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets",
        "",
        "defaults",
        "    log global",
        "    option dontlognull",
        # A connection a target refuses is retried on another target, not answered with an error.
        "    option redispatch",
        "    retries 3",
        f"    maxconn {spec.limits.max_connections}",
        *(f"    timeout {name} {value}" for name, value in TIMEOUTS),
        f"    timeout check {spec.health_check.timeout_seconds}s",
        "",
    ]
    return lines


def _is_http_mode(spec: LoadBalancerSpec, entry: Protocol) -> bool:
    if entry == Protocol.TCP:
        return False
    return not (entry == Protocol.HTTPS and spec.tls is not None and spec.tls.mode == TlsMode.PASSTHROUGH)


def _frontend(spec: LoadBalancerSpec, runtime: Runtime, index: int) -> list[str]:
    rule = spec.rules[index]
    http = _is_http_mode(spec, rule.entry_protocol)
    terminated = rule.entry_protocol == Protocol.HTTPS and http
    bind = f"    bind {_address(runtime.bind_address, rule.entry_port)}"
    if ipaddress.ip_address(runtime.bind_address) == ipaddress.ip_address("::"):
        bind += " v4v6"
    if terminated and spec.tls is not None:
        bind += f" ssl crt {spec.tls.certificate_path} alpn h2,http/1.1"
    elif rule.entry_protocol == Protocol.GRPC:
        bind += " proto h2"
    lines = [f"frontend fe_{rule.entry_port}", f"    mode {'http' if http else 'tcp'}", bind]
    if http:
        if runtime.log_target:
            lines.append("    option httplog")
        lines += [
            "    option forwardfor",
            f"    http-request set-header X-Forwarded-Proto {'https' if terminated else 'http'}",
        ]
        https_port = spec.https_entry_port()
        if spec.redirect_http_to_https and rule.entry_protocol == Protocol.HTTP and https_port is not None:
            # The Host header without its port (IPv6 literals keep their brackets), then the HTTPS rule's port.
            port = "" if https_port == 443 else f":{https_port}"
            lines.append(
                "    http-request redirect location "
                f"https://%[req.hdr(host),regsub(:[0-9]+$,)]{port}%[capture.req.uri] code 301"
            )
    elif runtime.log_target:
        lines.append("    option tcplog")
    lines += [f"    default_backend be_{rule.entry_port}", ""]
    return lines


def _backend(spec: LoadBalancerSpec, index: int) -> list[str]:
    rule = spec.rules[index]
    http = _is_http_mode(spec, rule.entry_protocol)
    terminated = rule.entry_protocol == Protocol.HTTPS and http
    check = spec.health_check
    lines = [f"backend be_{rule.entry_port}", f"    mode {'http' if http else 'tcp'}", "    balance roundrobin"]
    if check.protocol != HealthCheckProtocol.TCP:
        send = f"    http-check send meth GET uri {check.path}"
        if check.host:
            send += f" ver HTTP/1.1 hdr Host {check.host}"
        lines += ["    option httpchk", send, "    http-check expect status 200-399"]
    sticky = spec.sticky_sessions
    if sticky is not None and http:
        lines.append(
            f"    cookie {sticky.cookie_name} insert indirect nocache httponly"
            f"{' secure' if terminated else ''} maxlife {sticky.ttl_seconds}s"
        )
    elif sticky is not None:
        lines += [f"    stick-table type ipv6 size 1m expire {sticky.ttl_seconds}s", "    stick on src"]

    server = [f"check inter {check.interval_seconds}s rise {check.rise} fall {check.fall}"]
    if check.port is not None:
        server.append(f"port {check.port}")
    target_tls = http and rule.target_protocol == Protocol.HTTPS
    # gRPC is HTTP/2 to the targets, whether the rule names gRPC, HTTP (cleartext) or HTTPS (TLS) as their side.
    grpc = http and Protocol.GRPC in (rule.entry_protocol, rule.target_protocol)
    if target_tls:
        server.append("ssl verify none alpn h2" if grpc else "ssl verify none")
    if grpc:
        server.append("proto h2")
    if check.protocol == HealthCheckProtocol.HTTPS and not target_tls:
        server.append("check-ssl verify none")
    elif check.protocol != HealthCheckProtocol.HTTPS and target_tls:
        server.append("no-check-ssl")
    if check.protocol != HealthCheckProtocol.TCP and grpc:
        server.append("check-proto h2")
        if check.protocol == HealthCheckProtocol.HTTPS:
            server.append("check-alpn h2")
    if spec.proxy_protocol:
        server.append("send-proxy")
    lines.append(f"    default-server {' '.join(server)}")
    for target in spec.targets:
        line = f"    server {target.name} {_address(target.address, spec.target_port(rule, target))}"
        if sticky is not None and http:
            line += f" cookie {target.name}"
        lines.append(line)
    lines.append("")
    return lines


def haproxy_config_render(spec: LoadBalancerSpec, *, runtime: Runtime | None = None) -> str:
    """HAProxy's configuration for ``spec``; ``ValidationFailed`` if the spec is invalid or uses a refused protocol."""
    spec_validate(spec)
    refused = engine_problems(spec)
    if refused:
        raise ValidationFailed(
            _("The load balancer uses a protocol the platform cannot run."),
            code="protocol_unsupported",
            fields={"rules": refused},
        )
    runtime = runtime or Runtime()
    lines = [
        f"# Load balancer {_comment(spec.name)}: generated by the platform, replaced at every change.",
        "",
        *_global(spec, runtime),
    ]
    for index in range(len(spec.rules)):
        lines += _frontend(spec, runtime, index)
        lines += _backend(spec, index)
    return "\n".join(lines).rstrip("\n") + "\n"
