"""vmcl's load-balancer commands against a live platform running load balancers, every one with ``-o json``.

Order one over a label selector and wait until it runs, list it, describe it, change its
rules, targets, health check and settings, upload a certificate, read the health, then a
refused input is one line with the API's code, and ``vmcl service cancel`` ends it. The
platform is the one of ``tests/clients/lbsim.py`` (the real ``haproxy -c`` in the guest).
"""

from __future__ import annotations

import json

import pytest

from apps.instances.models import Instance
from apps.loadbalancers.models import LoadBalancer
from apps.managed.choices import ServiceState
from tests.clients.cli import run_vmcl
from tests.clients.lbsim import lb_platform, pvesim  # noqa: F401  (fixtures)
from tests.loadbalancers.support import make_chain

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_load_balancers_through_the_cli_with_json_output(lb_platform, tmp_path):  # noqa: F811
    config = tmp_path / "config.toml"
    env = {"VMCL_URL": lb_platform.url, "VMCL_TOKEN": lb_platform.token}

    def vmcl(*args: str):
        result = run_vmcl(*args, config=config, env=env)
        assert "Traceback" not in result.err
        return result

    def as_json(*args: str):
        result = vmcl(*args, "-o", "json")
        assert result.code == 0, f"vmcl {' '.join(args)}: {result.err}"
        return json.loads(result.out)

    fleet = lb_platform.fleet
    for name in ("web-1", "db-1"):
        as_json(
            "server", "create", "--name", name, "--offer", fleet.vps_offer.code, "--datacentre", fleet.dc.code,
            "--image", fleet.ubuntu24.slug, "--wait",
        )  # fmt: skip
    as_json("server", "add-label", "web-1", "role=web")
    web = Instance.objects.get(name="web-1")
    db = Instance.objects.get(name="db-1")

    created = as_json(
        "load-balancer", "create", "--name", "front", "--offer", "LB-STARTER", "--datacentre", fleet.dc.code,
        "--rule", "http:80:8080", "--target-selector", "role=web", "--label", "env=prod", "--wait",
    )  # fmt: skip
    lb = LoadBalancer.objects.select_related("service").get(service__name="front")
    assert created["id"] == str(lb.service.public_id) and created["state"] == ServiceState.ACTIVE
    assert created["labels"] == {"env": "prod"} and lb.rules[0]["target_port"] == 8080
    assert [t["id"] for t in lb.applied_targets] == [str(web.public_id)]

    listed = as_json("load-balancer", "list", "-l", "env=prod")
    assert [row["id"] for row in listed] == [created["id"]]
    assert vmcl("load-balancer", "list", "--no-header", "-l", "env=dev").out == ""
    described = as_json("load-balancer", "describe", "front")
    assert described["rules"] == [{"protocol": "HTTP", "port": 80, "target_protocol": "HTTP", "target_port": 8080}]
    assert [t["id"] for t in described["applied_targets"]] == [str(web.public_id)]

    rules = as_json("load-balancer", "set-rules", "front", "--rule", "http:80:9090", "--rule", "https:443:http:9090")
    assert [r["port"] for r in rules["rules"]] == [80, 443] and rules["tls_mode"] == "terminate"
    targets = as_json("load-balancer", "set-targets", "front", "--server", "db-1", "--target-selector", "role=web")
    assert targets["targets"] == [
        {"kind": "server", "id": str(db.public_id)},
        {"kind": "label_selector", "label_selector": "role=web"},
    ]
    health = as_json("load-balancer", "set-health-check", "front", "--protocol", "http", "--path", "/healthz")
    assert (health["health_check"]["protocol"], health["health_check"]["path"]) == ("http", "/healthz")
    settings = as_json("load-balancer", "update-settings", "front", "--sticky-ttl", "600", "--redirect-http-to-https")
    assert settings["sticky_sessions"]["ttl_seconds"] == 600 and settings["redirect_http_to_https"] is True

    chain = make_chain(("shop.example.com",))
    (tmp_path / "cert.pem").write_text(chain.leaf.certificate)
    (tmp_path / "key.pem").write_text(chain.leaf.key)
    (tmp_path / "chain.pem").write_text(chain.intermediate.certificate)
    uploaded = as_json(
        "load-balancer", "upload-certificate", "front", "--certificate", str(tmp_path / "cert.pem"),
        "--private-key", str(tmp_path / "key.pem"), "--chain", str(tmp_path / "chain.pem"),
    )  # fmt: skip
    assert uploaded["certificate"]["names"][0] == "shop.example.com" and "private_key" not in json.dumps(uploaded)
    health_read = as_json("load-balancer", "read-health", "front")
    assert {t["id"] for t in health_read["applied_targets"]} == {str(web.public_id), str(db.public_id)}
    assert {t["health"] for t in health_read["applied_targets"]} <= {"up", "down", "maint", "unknown"}
    lb.refresh_from_db()
    assert lb.applied_generation == lb.config_generation

    refused = vmcl("load-balancer", "set-rules", "front", "--rule", "tcp:5432:5432")
    assert refused.code != 0 and len(refused.err.strip().splitlines()) == 1 and "validation_error" in refused.err
    cancelled = as_json("service", "cancel", "front", "--yes")
    assert cancelled["state"] == ServiceState.CANCELLED
    assert as_json("load-balancer", "list", "--state", "active") == []
