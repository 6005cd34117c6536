"""A load balancer's spec: what is valid, what each field's error says, and the tiers of the seed enforced."""

from __future__ import annotations

import dataclasses

import pytest

from apps.catalogue.services.seed_data import OFFERS
from apps.core.errors import ValidationFailed
from apps.loadbalancers.rules.spec import (
    CATALOGUE_NAMES,
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
    protocols_from_catalogue,
    spec_check_tier,
    spec_problems,
    spec_validate,
)

P = Protocol
TIERS = {o["code"]: o for o in OFFERS if o["family"] == "load-balancer"}


def web(**changes: object) -> LoadBalancerSpec:
    spec = LoadBalancerSpec(
        name="lb-test",
        rules=(ForwardingRule(P.HTTP, 80, P.HTTP, 8080), ForwardingRule(P.HTTPS, 443, P.HTTP, 8080)),
        targets=(Target("web-1", "10.0.0.11"), Target("web-2", "10.0.0.12")),
        health_check=HealthCheck(HealthCheckProtocol.HTTP, path="/health"),
        tls=Tls(TlsMode.TERMINATE, "/etc/haproxy/certs/lb-0123456789abcdef.pem"),
    )
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def test_a_plain_web_load_balancer_is_valid():
    assert spec_problems(web()) == {}
    spec_validate(web())


def test_the_catalogue_names_every_protocol_the_spec_knows():
    assert set(CATALOGUE_NAMES.values()) == set(Protocol)
    offered = {name for tier in TIERS.values() for name in tier["lb_protocols"]}
    assert offered == set(CATALOGUE_NAMES), "the seed's protocol names and the engine's must match"


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"rules": (ForwardingRule(P.HTTP, 80, P.HTTP, 0),)}, "rules", "1 to 65535"),
        ({"rules": (ForwardingRule(P.HTTP, 80, P.HTTP, 1), ForwardingRule(P.TCP, 80, P.TCP, 2))}, "rules", "already"),
        ({"rules": (ForwardingRule(P.TCP, 5432, P.HTTP, 80),)}, "rules", "TCP cannot forward to HTTP"),
        ({"rules": (ForwardingRule(P.GRPC, 50051, P.TCP, 80),)}, "rules", "gRPC cannot forward"),
        ({"rules": (ForwardingRule(P.WEBSOCKET, 8081, P.GRPC, 80),)}, "rules", "WebSocket cannot forward"),
        ({"targets": (Target("a", "10.0.0.1"), Target("a", "10.0.0.2"))}, "targets", "used twice"),
        ({"targets": (Target("bad name", "10.0.0.1"),)}, "targets", "Target name"),
        ({"targets": (Target("a", "web.example.com"),)}, "targets", "not an IPv4 or IPv6 address"),
        ({"targets": (Target("a", "10.0.0.1", 70000),)}, "targets", "port"),
        ({"health_check": HealthCheck(HealthCheckProtocol.HTTP, path="no-slash")}, "health_check", "path"),
        ({"health_check": HealthCheck(HealthCheckProtocol.HTTP, path="/a b")}, "health_check", "path"),
        ({"health_check": HealthCheck(HealthCheckProtocol.HTTP, host="bad host")}, "health_check", "host"),
        ({"health_check": HealthCheck(interval_seconds=0)}, "health_check", "interval"),
        ({"health_check": HealthCheck(interval_seconds=2, timeout_seconds=5)}, "health_check", "timeout"),
        ({"health_check": HealthCheck(rise=0)}, "health_check", "thresholds"),
        ({"tls": None}, "tls", "HTTPS rules need TLS"),
        ({"tls": Tls(TlsMode.TERMINATE, "relative.pem")}, "tls", "path"),
        ({"tls": Tls(TlsMode.TERMINATE, "/etc/haproxy/my cert.pem")}, "tls", "path"),
        ({"tls": Tls(TlsMode.PASSTHROUGH, "/etc/x.pem")}, "tls", "no certificate"),
        ({"tls": Tls(TlsMode.PASSTHROUGH)}, "rules", "HTTPS cannot forward to HTTP"),
        ({"sticky_sessions": StickySessions(cookie_name="a;b")}, "sticky_sessions", "cookie"),
        ({"sticky_sessions": StickySessions(ttl_seconds=5)}, "sticky_sessions", "60 seconds"),
        ({"limits": Limits(max_connections=0)}, "limits", "Connections"),
        ({"limits": Limits(max_connections=250_001)}, "limits", "Connections"),
        (
            {"redirect_http_to_https": True, "rules": (ForwardingRule(P.HTTP, 80, P.HTTP, 8080),), "tls": None},
            "redirect_http_to_https",
            "HTTPS rule to redirect to",
        ),
    ],
)
def test_an_invalid_spec_names_the_field_and_why(changes, field, fragment):
    problems = spec_problems(web(**changes))
    assert field in problems, problems
    assert any(fragment in message for message in problems[field]), problems[field]
    with pytest.raises(ValidationFailed) as caught:
        spec_validate(web(**changes))
    assert caught.value.code == "validation_error"
    assert field in caught.value.fields


def test_passthrough_forwards_https_to_https():
    spec = web(rules=(ForwardingRule(P.HTTPS, 443, P.HTTPS, 443),), tls=Tls(TlsMode.PASSTHROUGH))
    assert spec_problems(spec) == {}


def test_a_target_port_overrides_the_rule_port():
    spec = web(targets=(Target("a", "10.0.0.1", 9000), Target("b", "10.0.0.2")))
    rule = spec.rules[0]
    assert [spec.target_port(rule, t) for t in spec.targets] == [9000, 8080]


@pytest.mark.parametrize(
    ("tier", "rule", "allowed"),
    [
        ("LB-STARTER", ForwardingRule(P.HTTPS, 443, P.HTTP, 80), True),
        ("LB-STARTER", ForwardingRule(P.TCP, 5432, P.TCP, 5432), False),
        ("LB-BUSINESS", ForwardingRule(P.TCP, 5432, P.TCP, 5432), True),
        ("LB-BUSINESS", ForwardingRule(P.HTTPS, 443, P.WEBSOCKET, 80), False),
        ("LB-ENTERPRISE", ForwardingRule(P.HTTPS, 443, P.WEBSOCKET, 80), True),
        ("LB-ENTERPRISE", ForwardingRule(P.GRPC, 50051, P.GRPC, 50051), False),
        ("LB-GLOBAL", ForwardingRule(P.GRPC, 50051, P.GRPC, 50051), True),
    ],
)
def test_the_tier_decides_the_protocols(tier, rule, allowed):
    offer = TIERS[tier]
    spec = web(rules=(rule,))
    if allowed:
        spec_check_tier(spec, protocols=offer["lb_protocols"], max_targets=offer["lb_backends"])
        return
    with pytest.raises(ValidationFailed) as caught:
        spec_check_tier(spec, protocols=offer["lb_protocols"], max_targets=offer["lb_backends"])
    assert caught.value.code == "tier_limit"
    assert "does not include" in caught.value.fields["rules"][0]


def test_the_tier_decides_the_number_of_targets():
    offer = TIERS["LB-STARTER"]
    five = tuple(Target(f"t{i}", f"10.0.0.{i}") for i in range(1, 6))
    spec_check_tier(web(targets=five), protocols=offer["lb_protocols"], max_targets=offer["lb_backends"])
    six = (*five, Target("t6", "10.0.0.6"))
    with pytest.raises(ValidationFailed) as caught:
        spec_check_tier(web(targets=six), protocols=offer["lb_protocols"], max_targets=offer["lb_backends"])
    assert "at most 5 targets" in caught.value.fields["targets"][0]
    unlimited = TIERS["LB-GLOBAL"]
    spec_check_tier(web(targets=six), protocols=unlimited["lb_protocols"], max_targets=unlimited["lb_backends"])


def test_catalogue_names_unknown_to_the_engine_are_ignored():
    assert protocols_from_catalogue(["HTTP", "SMTP", "HTTP/3"]) == {P.HTTP, P.HTTP3}
