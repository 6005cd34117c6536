"""The generated HAProxy configuration: Debian's real haproxy accepts every variant (``haproxy -c``), without a warning.

Variants: every entry → target protocol pair the engine runs, with each health-check protocol,
and the options (TLS termination and passthrough, sticky sessions in HTTP and TCP mode, the
PROXY protocol, the redirect, IPv6 targets, per-target ports, no targets, the tiers' connection
limits) alone and all at once, with the test runtime and with the VM's own (Debian's paths,
chroot, user). UDP and HTTP/3 are refused with a clear error, never rendered.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from apps.core.errors import ValidationFailed
from apps.loadbalancers.rules.certificates import certificate_validate
from apps.loadbalancers.rules.haproxy import ENGINE_PROTOCOLS, ENGINE_REFUSED, haproxy_config_render
from apps.loadbalancers.rules.spec import (
    PASSTHROUGH_TARGETS,
    RULE_TARGETS,
    ForwardingRule,
    HealthCheck,
    HealthCheckProtocol,
    Limits,
    LoadBalancerSpec,
    Protocol,
    StickySessions,
    Target,
    Tls,
    TlsMode,
)
from tests.loadbalancers.support import haproxy_check, make_chain

P = Protocol
TARGETS = (Target("srv-a", "10.0.0.11"), Target("srv-b", "10.0.0.12"))
CERT_PLACEHOLDER = "/CERT/PLACEHOLDER.pem"  # replaced by a real bundle's path in the test's directory


def _rule(entry: Protocol, target: Protocol) -> ForwardingRule:
    ports = {P.HTTP: 80, P.HTTPS: 443, P.WEBSOCKET: 8081, P.GRPC: 50051, P.TCP: 5432}
    return ForwardingRule(entry, ports[entry], target, 9000)


def _pair_variants() -> list[tuple[str, LoadBalancerSpec]]:
    variants = []
    pairs = [(e, t) for e, targets in RULE_TARGETS.items() for t in targets if {e, t} <= ENGINE_PROTOCOLS]
    for (entry, target), check in itertools.product(sorted(pairs), HealthCheckProtocol):
        tls = Tls(TlsMode.TERMINATE, CERT_PLACEHOLDER) if entry == P.HTTPS else None
        spec = LoadBalancerSpec(
            name=f"{entry}-{target}",
            rules=(_rule(entry, target),),
            targets=TARGETS,
            health_check=HealthCheck(check, path="/healthz"),
            tls=tls,
        )
        variants.append((f"{entry}-to-{target}-check-{check}", spec))
    for target, check in itertools.product(sorted(PASSTHROUGH_TARGETS), HealthCheckProtocol):
        spec = LoadBalancerSpec(
            name="passthrough",
            rules=(_rule(P.HTTPS, target),),
            targets=TARGETS,
            health_check=HealthCheck(check),
            tls=Tls(TlsMode.PASSTHROUGH),
        )
        variants.append((f"https-passthrough-to-{target}-check-{check}", spec))
    return variants


EVERYTHING = LoadBalancerSpec(
    name="everything",
    rules=(
        ForwardingRule(P.HTTP, 80, P.HTTP, 8080),
        ForwardingRule(P.HTTPS, 443, P.HTTP, 8080),
        ForwardingRule(P.HTTPS, 8443, P.GRPC, 50051),
        ForwardingRule(P.HTTPS, 9443, P.WEBSOCKET, 8082),
        ForwardingRule(P.HTTPS, 10443, P.HTTPS, 443),
        ForwardingRule(P.WEBSOCKET, 8081, P.WEBSOCKET, 8082),
        ForwardingRule(P.GRPC, 50051, P.GRPC, 50051),
        ForwardingRule(P.TCP, 5432, P.TCP, 5432),
    ),
    targets=(*TARGETS, Target("srv-v6", "2001:db8::20"), Target("srv-port", "10.0.0.13", 9999)),
    health_check=HealthCheck(HealthCheckProtocol.HTTPS, port=8443, path="/up?full=1", host="app.example.com"),
    sticky_sessions=StickySessions(cookie_name="STICK", ttl_seconds=1800),
    redirect_http_to_https=True,
    tls=Tls(TlsMode.TERMINATE, CERT_PLACEHOLDER),
    proxy_protocol=True,
    limits=Limits(max_connections=200_000),
)
BASE = _pair_variants()[0][1]


def _option_variants() -> list[tuple[str, LoadBalancerSpec]]:
    web = LoadBalancerSpec(
        name="web",
        rules=(ForwardingRule(P.HTTP, 80, P.HTTP, 8080), ForwardingRule(P.HTTPS, 443, P.HTTP, 8080)),
        targets=TARGETS,
        health_check=HealthCheck(HealthCheckProtocol.HTTP, path="/health"),
        tls=Tls(TlsMode.TERMINATE, CERT_PLACEHOLDER),
    )
    tcp = LoadBalancerSpec(name="tcp", rules=(ForwardingRule(P.TCP, 5432, P.TCP, 5432),), targets=TARGETS)
    return [
        ("web-sticky-cookie", dataclasses.replace(web, sticky_sessions=StickySessions())),
        ("tcp-sticky-source", dataclasses.replace(tcp, sticky_sessions=StickySessions())),
        ("web-proxy-protocol", dataclasses.replace(web, proxy_protocol=True)),
        ("tcp-proxy-protocol", dataclasses.replace(tcp, proxy_protocol=True)),
        ("web-redirect-443", dataclasses.replace(web, redirect_http_to_https=True)),
        ("web-ipv6-targets", dataclasses.replace(web, targets=(Target("v6", "2001:db8::1"), Target("v4", "10.0.0.1")))),
        ("web-target-ports", dataclasses.replace(web, targets=(Target("a", "10.0.0.1", 81), Target("b", "10.0.0.2")))),
        ("web-no-targets", dataclasses.replace(web, targets=())),
        ("no-rules", LoadBalancerSpec(name="empty", rules=())),
        ("web-check-port", dataclasses.replace(web, health_check=HealthCheck(HealthCheckProtocol.TCP, port=9100))),
        *[
            (f"tier-{n}-connections", dataclasses.replace(web, limits=Limits(max_connections=n)))
            for n in (10_000, 50_000, 200_000, 250_000)
        ],
        ("everything", EVERYTHING),
    ]


VARIANTS = _pair_variants() + _option_variants()


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    import datetime as dt

    chain = make_chain()
    checked = certificate_validate(
        certificate=chain.leaf.certificate,
        chain=chain.intermediate.certificate,
        private_key=chain.leaf.key,
        now=dt.datetime.now(dt.UTC),
    )
    path = tmp_path_factory.mktemp("certs") / "lb-bundle.pem"
    path.write_text(checked.bundle)
    path.chmod(0o600)
    return str(path)


def _check(config: str, tmp_path: Path, bundle_path: str) -> str:
    path = tmp_path / "haproxy.cfg"
    path.write_text(config.replace(CERT_PLACEHOLDER, bundle_path))
    done = haproxy_check(path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"haproxy -c refused the configuration:\n{output}\n---\n{config}"
    assert "[WARNING]" not in output and "[ALERT]" not in output, output
    return output


def test_every_rule_pair_is_covered():
    covered = {(s.rules[0].entry_protocol, s.rules[0].target_protocol) for _, s in _pair_variants()}
    expected = {(e, t) for e, ts in RULE_TARGETS.items() for t in ts if {e, t} <= ENGINE_PROTOCOLS}
    assert not ENGINE_PROTOCOLS & set(ENGINE_REFUSED)
    assert covered == expected
    assert len(VARIANTS) > 40


@pytest.mark.parametrize(("name", "spec"), VARIANTS, ids=[name for name, _ in VARIANTS])
def test_haproxy_accepts_the_configuration(name, spec, runtime, tmp_path, bundle_path):
    _check(haproxy_config_render(spec, runtime=runtime), tmp_path, bundle_path)


def test_haproxy_accepts_the_configuration_of_the_vm(tmp_path, bundle_path, haproxy_path):
    """The VM's runtime (Debian's socket path, chroot, user haproxy, /dev/log) is what production renders."""
    config = haproxy_config_render(EVERYTHING)
    assert "    chroot /var/lib/haproxy\n    user haproxy\n    group haproxy\n" in config
    assert "bind [::]:443 v4v6 ssl crt" in config
    _check(config, tmp_path, bundle_path)


def test_master_worker_with_a_stats_socket_that_hands_over_listeners(runtime):
    config = haproxy_config_render(BASE, runtime=runtime)
    assert "    master-worker\n" in config
    assert f"    stats socket {runtime.stats_socket} mode 600 level admin expose-fd listeners\n" in config
    assert "hard-stop-after" in config


def _section(config: str, name: str) -> str:
    start = config.index(f"\n{name}\n") + 1
    end = config.find("\n\n", start)
    return config[start : end if end != -1 else None]


def test_grpc_is_http2_on_both_sides(runtime):
    config = haproxy_config_render(EVERYTHING, runtime=runtime)
    assert "bind 127.0.0.1:50051 proto h2" in _section(config, "frontend fe_50051")
    assert "proto h2" in _section(config, "backend be_50051")
    terminated = _section(config, "frontend fe_8443")
    assert f"ssl crt {CERT_PLACEHOLDER} alpn h2,http/1.1" in terminated
    assert "mode http" in terminated
    assert " proto h2" in _section(config, "backend be_8443")
    # An HTTPS health check of gRPC targets negotiates HTTP/2 too.
    assert "check-proto h2 check-alpn h2" in _section(config, "backend be_8443")


def test_websocket_runs_in_http_mode_under_the_tunnel_timeout(runtime):
    config = haproxy_config_render(EVERYTHING, runtime=runtime)
    assert "mode http" in _section(config, "frontend fe_8081")
    assert "    timeout tunnel 1h\n" in config


def test_passthrough_forwards_bytes_untouched(runtime):
    spec = LoadBalancerSpec(
        name="pt",
        rules=(ForwardingRule(P.HTTPS, 443, P.HTTPS, 8443),),
        targets=TARGETS,
        tls=Tls(TlsMode.PASSTHROUGH),
    )
    config = haproxy_config_render(spec, runtime=runtime)
    frontend, backend = _section(config, "frontend fe_443"), _section(config, "backend be_443")
    assert "mode tcp" in frontend and "mode tcp" in backend
    assert "ssl" not in frontend and "ssl" not in backend


def test_options_reach_the_configuration(runtime):
    config = haproxy_config_render(EVERYTHING, runtime=runtime)
    http_backend = _section(config, "backend be_443")
    assert "cookie STICK insert indirect nocache httponly secure maxlife 1800s" in http_backend
    assert "server srv-a 10.0.0.11:8080 cookie srv-a" in http_backend
    assert "server srv-v6 [2001:db8::20]:8080" in http_backend
    assert "server srv-port 10.0.0.13:9999" in http_backend
    assert "send-proxy" in http_backend
    assert "http-check send meth GET uri /up?full=1 ver HTTP/1.1 hdr Host app.example.com" in http_backend
    assert "port 8443" in http_backend
    tcp_backend = _section(config, "backend be_5432")
    assert "stick on src" in tcp_backend
    assert "redirect location https://" in _section(config, "frontend fe_80")
    assert "    maxconn 200000\n" in config


def test_the_name_cannot_inject_configuration(runtime):
    spec = dataclasses.replace(BASE, name="evil\nfrontend pwn\n    bind :1")
    config = haproxy_config_render(spec, runtime=runtime)
    assert "\nfrontend pwn" not in config
    assert config.isascii()


@pytest.mark.parametrize(
    "rule",
    [ForwardingRule(P.UDP, 53, P.UDP, 53), ForwardingRule(P.HTTP3, 443, P.HTTP, 80)],
    ids=["udp", "http3"],
)
def test_protocols_the_engine_cannot_run_are_refused_with_a_reason(rule, runtime):
    spec = LoadBalancerSpec(
        name="refused",
        rules=(rule,),
        targets=TARGETS,
        tls=Tls(TlsMode.TERMINATE, "/etc/haproxy/certs/lb-0123456789abcdef.pem"),
    )
    with pytest.raises(ValidationFailed) as caught:
        haproxy_config_render(spec, runtime=runtime)
    assert caught.value.code == "protocol_unsupported"
    message = caught.value.fields["rules"][0]
    assert "not supported" in message
    assert ("QUIC" if rule.entry_protocol == P.HTTP3 else "UDP") in message


def test_debian_haproxy_lacks_quic(haproxy_path):
    """Why HTTP/3 is refused: the day the package gains QUIC, this fails and the refusal can be revisited."""
    import subprocess

    features = subprocess.run([haproxy_path, "-vv"], capture_output=True, text=True, timeout=30).stdout
    assert "-QUIC" in features


def test_an_invalid_spec_is_never_rendered(runtime):
    spec = dataclasses.replace(BASE, targets=(Target("a", "not-an-ip"),))
    with pytest.raises(ValidationFailed) as caught:
        haproxy_config_render(spec, runtime=runtime)
    assert "targets" in caught.value.fields


def test_a_missing_haproxy_fails_the_tests_with_how_to_install_it(monkeypatch):
    from tests.loadbalancers import support

    monkeypatch.setattr(support, "HAPROXY", "/nonexistent/haproxy")
    with pytest.raises(AssertionError, match="apt-get install haproxy"):
        support.haproxy_binary()
