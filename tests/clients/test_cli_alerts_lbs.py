"""vmcl's alert-policy and load-balancer commands against a stub server: what they send, what they print."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.clients.cli import run_vmcl
from tests.clients.stub import error, stub_server

PID = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
SERVER = "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b"
SID = "5b0c6a1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"
PAGE = {"count": 1, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1}
POLICY = {
    "id": PID,
    "organisation_id": 1,
    "project_id": 2,
    "name": "cpu-high",
    "labels": {"env": "prod"},
    "metric": "cpu",
    "unit": "%",
    "comparison": "gt",
    "threshold": "90.00",
    "duration_minutes": 5,
    "server_id": SERVER,
    "label_selector": "",
    "email_members": True,
    "emails": [],
    "portal_notice": True,
    "webhook_url": "",
    "enabled": True,
}
LB = {
    "service_id": SID,
    "datacentre": "PAR-1",
    "rules": [{"protocol": "http", "port": 80, "target_protocol": "http", "target_port": 8080}],
    "targets": [{"kind": "label_selector", "label_selector": "role=web"}],
    "health_check": {"protocol": "tcp", "port": None, "interval_seconds": 5},
    "sticky_sessions": None,
    "redirect_http_to_https": False,
    "tls_mode": "",
    "proxy_protocol": False,
    "certificate": None,
    "config_generation": 2,
    "applied_generation": 1,
    "applied_at": None,
    "applied_targets": [{"id": SERVER, "name": "web-1", "address": "10.0.0.5", "health": "up"}],
    "health_read_at": None,
}


@pytest.fixture
def config(tmp_path):
    return tmp_path / "vmcl" / "config.toml"


def _vmcl(stub, config, *args: str, stdin: str = ""):
    return run_vmcl(*args, config=config, env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"}, stdin=stdin)


def _query(request) -> dict:
    return parse_qs(urlsplit(request["path"]).query)


def test_alert_policy_list_sends_filters_and_prints_the_columns(config):
    with stub_server([(200, {}, {**PAGE, "results": [POLICY]})]) as stub:
        result = _vmcl(
            stub, config, "alert-policy", "list", "--metric", "cpu", "--metric", "disk", "--disabled",
            "-l", "env=prod", "--server", SERVER,
        )  # fmt: skip
    assert result.code == 0, result.err
    assert urlsplit(stub.requests[0]["path"]).path == "/api/v1/alert-policies/"
    query = _query(stub.requests[0])
    assert query["metric"] == ["cpu", "disk"]
    assert query["enabled"] == ["false"]
    assert query["label_selector"] == ["env=prod"]
    assert query["server"] == [SERVER]
    header, row = result.out.splitlines()
    assert header.split() == [
        "ID", "NAME", "METRIC", "COMPARISON", "THRESHOLD", "UNIT", "DURATION_MINUTES", "ENABLED", "LABELS",
    ]  # fmt: skip
    assert row.split() == [PID, "cpu-high", "cpu", "gt", "90.00", "%", "5", "yes", "env=prod"]


def test_alert_policy_create_on_a_server_by_name_sends_the_body_and_shows_the_secret_once(config):
    orgs = {**PAGE, "results": [{"id": 7, "name": "Acme"}]}
    server_page = {**PAGE, "results": [{"id": SERVER, "name": "web-1"}]}
    created = {**POLICY, "webhook_secret": "whsec_abc"}
    with stub_server([(200, {}, orgs), (200, {}, server_page), (201, {}, created)]) as stub:
        result = _vmcl(
            stub, config, "alert-policy", "create", "--name", "cpu-high", "--metric", "cpu", "--threshold", "90",
            "--duration", "10", "--server", "web-1", "--email", "ops@example.com", "--no-portal-notice",
            "--webhook-url", "https://hooks.example.com/x", "--label", "env=prod", "-o", "json",
        )  # fmt: skip
    assert result.code == 0, result.err
    assert _query(stub.requests[1])["name"] == ["web-1"]
    request = stub.requests[2]
    assert (request["method"], request["path"]) == ("POST", "/api/v1/alert-policies/")
    assert request["headers"].get("Idempotency-Key")
    assert json.loads(request["body"]) == {
        "organisation_id": 7,
        "name": "cpu-high",
        "metric": "cpu",
        "comparison": "gt",
        "threshold": "90",
        "duration_minutes": 10,
        "email_members": True,
        "portal_notice": False,
        "enabled": True,
        "server_id": SERVER,
        "emails": ["ops@example.com"],
        "webhook_url": "https://hooks.example.com/x",
        "labels": {"env": "prod"},
    }
    assert json.loads(result.out)["webhook_secret"] == "whsec_abc"
    assert "shown once" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "cpu", "--threshold", "9"], "give --server or --target-selector (one of the two)"),
        (["--metric", "load", "--threshold", "9", "--server", SERVER], "--metric must be one of"),
        (["--metric", "cpu", "--threshold", "9", "--server", SERVER, "--duration", "7"], "--duration must be one of"),
        (["--metric", "cpu", "--threshold", "9", "--server", SERVER, "--comparison", "ge"], "gt (above) or lt"),
    ],
)
def test_alert_policy_create_refuses_bad_options_without_a_request(config, args, message):
    with stub_server([]) as stub:
        result = _vmcl(stub, config, "alert-policy", "create", "--name", "x", *args)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and message in result.err
    assert stub.requests == []


def test_alert_policy_update_labels_delete_incidents_and_rotate(config):
    incident = {
        "id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", "policy_id": PID, "server_id": SERVER, "server_name": "web-1",
        "state": "firing", "opened_at": "2026-12-07T05:00:00Z", "resolved_at": None, "value": "95.00",
        "peak_value": "97.00", "last_value": "96.00",
    }  # fmt: skip
    with stub_server(
        [
            (200, {}, {**POLICY, "enabled": False}),
            (200, {}, POLICY),
            (200, {}, POLICY),
            (204, {}, b""),
            (200, {}, {**PAGE, "results": [incident]}),
            (200, {}, {**POLICY, "webhook_secret": "whsec_new"}),
        ]
    ) as stub:
        updated = _vmcl(
            stub, config, "alert-policy", "update", PID, "--disabled", "--threshold", "80", "--target-selector",
            "role=web", "--no-emails", "-o", "json",
        )  # fmt: skip
        removed = _vmcl(stub, config, "alert-policy", "remove-label", PID, "env", "-o", "json")
        deleted = _vmcl(stub, config, "alert-policy", "delete", PID)
        listed = _vmcl(stub, config, "alert-policy", "incidents", PID, "--no-header")
        rotated = _vmcl(stub, config, "alert-policy", "rotate-secret", PID, "-o", "yaml")
    assert updated.code == 0, updated.err
    assert stub.requests[0]["method"] == "PATCH"
    assert json.loads(stub.requests[0]["body"]) == {
        "threshold": "80",
        "enabled": False,
        "label_selector": "role=web",
        "emails": [],
    }
    assert removed.code == 0 and json.loads(stub.requests[2]["body"]) == {"labels": {}}
    assert deleted.code == 0 and stub.requests[3]["method"] == "DELETE"
    assert stub.requests[3]["path"] == f"/api/v1/alert-policies/{PID}/"
    assert urlsplit(stub.requests[4]["path"]).path == f"/api/v1/alert-policies/{PID}/incidents/"
    assert listed.out.split()[:4] == [incident["id"], "web-1", "firing", "2026-12-07T05:00:00Z"]
    assert stub.requests[5]["path"] == f"/api/v1/alert-policies/{PID}/rotate-secret/"
    assert yaml.safe_load(rotated.out)["webhook_secret"] == "whsec_new"


def test_alert_policy_errors_are_one_line_with_code_and_request_id(config):
    quota = error(409, "quota_exceeded", "Your organisation has 50 alert policies.", request_id="req-7")
    with stub_server([(200, {}, {**PAGE, "results": [{"id": 7}]}), (409, {}, quota)]) as stub:
        result = _vmcl(
            stub, config, "alert-policy", "create", "--name", "x", "--metric", "cpu", "--threshold", "9",
            "--target-selector", "role=web",
        )  # fmt: skip
    assert result.code == 6
    assert result.err.strip().splitlines() == [
        "error: Your organisation has 50 alert policies. [quota_exceeded] (request req-7)"
    ]


def test_alert_policy_update_without_a_change_is_a_usage_error(config):
    with stub_server([]) as stub:
        result = _vmcl(stub, config, "alert-policy", "update", PID)
    assert result.code == 2 and "nothing to change" in result.err
    assert stub.requests == []


def test_load_balancer_describe_by_service_name_prints_yaml(config):
    with stub_server([(200, {}, {**PAGE, "results": [{"id": SID, "name": "front"}]}), (200, {}, LB)]) as stub:
        result = _vmcl(stub, config, "load-balancer", "describe", "front", "-o", "yaml")
    assert result.code == 0, result.err
    assert _query(stub.requests[0])["name"] == ["front"]
    assert stub.requests[1]["path"] == f"/api/v1/services/{SID}/load-balancer/"
    assert yaml.safe_load(result.out)["rules"][0]["target_port"] == 8080


def test_load_balancer_set_rules_from_flags_and_from_a_file(config, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {protocol: tcp, port: 5432, target_protocol: tcp, target_port: 5432}\n")
    with stub_server([(200, {}, LB), (200, {}, LB)]) as stub:
        flags = _vmcl(
            stub, config, "lb", "set-rules", SID, "--rule", "https:443:http:8080", "--rule", "tcp:22:2222",
            "-o", "json",
        )  # fmt: skip
        from_file = _vmcl(stub, config, "load-balancer", "set-rules", SID, "--rules", f"@{rules}", "-o", "json")
    assert flags.code == 0 and from_file.code == 0, flags.err + from_file.err
    assert (stub.requests[0]["method"], stub.requests[0]["path"]) == (
        "PUT",
        f"/api/v1/services/{SID}/load-balancer/rules/",
    )
    assert json.loads(stub.requests[0]["body"]) == {
        "rules": [
            {"protocol": "https", "port": 443, "target_protocol": "http", "target_port": 8080},
            {"protocol": "tcp", "port": 22, "target_protocol": "tcp", "target_port": 2222},
        ]
    }
    assert json.loads(stub.requests[1]["body"]) == {
        "rules": [{"protocol": "tcp", "port": 5432, "target_protocol": "tcp", "target_port": 5432}]
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "https:443"], "expected PROTOCOL:PORT[:TARGET_PROTOCOL]:TARGET_PORT"),
        (["--rules", "[1, 2]"], "expected a list of objects"),
        ([], "give --rule, --rules or --clear"),
        (["--rules", "@/nonexistent/rules.json"], "--rules /nonexistent/rules.json"),
    ],
)
def test_load_balancer_set_rules_refuses_bad_input_without_a_request(config, args, message):
    with stub_server([]) as stub:
        result = _vmcl(stub, config, "load-balancer", "set-rules", SID, *args)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and message in result.err
    assert stub.requests == []


def test_load_balancer_set_targets_health_check_settings_and_clear(config):
    server_page = {**PAGE, "results": [{"id": SERVER, "name": "web-1"}]}
    with stub_server([(200, {}, server_page), (200, {}, LB), (200, {}, LB), (200, {}, LB), (200, {}, LB)]) as stub:
        targets = _vmcl(
            stub, config, "load-balancer", "set-targets", SID, "--server", "web-1", "--target-selector", "role=web",
            "-o", "json",
        )  # fmt: skip
        health = _vmcl(
            stub, config, "load-balancer", "set-health-check", SID, "--protocol", "http", "--path", "/healthz",
            "--target-port", "--interval", "10", "-o", "json",
        )  # fmt: skip
        settings = _vmcl(
            stub, config, "load-balancer", "update-settings", SID, "--sticky-cookie", "lb", "--sticky-ttl", "600",
            "--redirect-http-to-https", "--tls-mode", "terminate", "-o", "json",
        )  # fmt: skip
        cleared = _vmcl(stub, config, "load-balancer", "set-targets", SID, "--clear", "-o", "json")
    assert all(r.code == 0 for r in (targets, health, settings, cleared)), targets.err + health.err + settings.err
    assert json.loads(stub.requests[1]["body"]) == {
        "targets": [{"kind": "server", "id": SERVER}, {"kind": "label_selector", "label_selector": "role=web"}]
    }
    assert stub.requests[2]["path"] == f"/api/v1/services/{SID}/load-balancer/health-check/"
    assert json.loads(stub.requests[2]["body"]) == {
        "protocol": "http",
        "path": "/healthz",
        "interval_seconds": 10,
        "port": None,
    }
    assert stub.requests[3]["method"] == "PATCH"
    assert stub.requests[3]["path"] == f"/api/v1/services/{SID}/load-balancer/settings/"
    assert json.loads(stub.requests[3]["body"]) == {
        "sticky_sessions": {"cookie_name": "lb", "ttl_seconds": 600},
        "redirect_http_to_https": True,
        "tls_mode": "terminate",
    }
    assert json.loads(stub.requests[4]["body"]) == {"targets": []}


def test_load_balancer_upload_certificate_sends_the_pem_files(config, tmp_path):
    cert, chain, key = (tmp_path / n for n in ("cert.pem", "chain.pem", "key.pem"))
    cert.write_text("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n")
    chain.write_text("-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\nCCC\n-----END PRIVATE KEY-----\n")
    bad = error(400, "validation_failed", "The certificate does not match the key.", request_id="req-3")
    with stub_server([(200, {}, LB), (400, {}, bad)]) as stub:
        ok = _vmcl(
            stub, config, "load-balancer", "upload-certificate", SID, "--certificate", str(cert), "--chain",
            str(chain), "--private-key", str(key), "-o", "json",
        )  # fmt: skip
        refused = _vmcl(
            stub, config, "load-balancer", "upload-certificate", SID, "--certificate", str(cert), "--private-key",
            str(key),
        )  # fmt: skip
    assert ok.code == 0, ok.err
    assert (stub.requests[0]["method"], stub.requests[0]["path"]) == (
        "POST",
        f"/api/v1/services/{SID}/load-balancer/certificate/",
    )
    assert json.loads(stub.requests[0]["body"]) == {
        "certificate": cert.read_text(),
        "chain": chain.read_text(),
        "private_key": key.read_text(),
    }
    assert json.loads(stub.requests[1]["body"])["chain"] == ""
    assert refused.code == 3 and "Traceback" not in refused.err
    assert refused.err.strip().splitlines() == [
        "error: The certificate does not match the key. [validation_failed] (request req-3)"
    ]


def test_load_balancer_read_health_prints_each_target(config):
    with stub_server([(200, {}, LB)]) as stub:
        result = _vmcl(stub, config, "load-balancer", "read-health", SID)
    assert result.code == 0, result.err
    assert (stub.requests[0]["method"], stub.requests[0]["path"]) == (
        "POST",
        f"/api/v1/services/{SID}/load-balancer/actions/read_health/",
    )
    header, row = result.out.splitlines()
    assert header.split() == ["ID", "NAME", "ADDRESS", "HEALTH"]
    assert row.split() == [SERVER, "web-1", "10.0.0.5", "up"]
