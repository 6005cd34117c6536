"""``vmcl load-balancer create`` and ``list`` against a stub server: what they send, what they print."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from tests.clients.cli import run_vmcl
from tests.clients.stub import stub_server

SID = "5b0c6a1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"
SERVER = "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b"
PAGE = {"count": 1, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1}
SERVICE = {
    "id": SID,
    "name": "front",
    "tier": "LB-STARTER",
    "state": "provisioning",
    "datacentre": "PAR-1",
    "price_monthly": "29.00",
    "labels": {},
}


def _vmcl(stub, tmp_path, *args: str):
    return run_vmcl(*args, config=tmp_path / "config.toml", env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"})


def test_create_orders_the_parsed_rules_and_resolved_targets_then_labels_it(tmp_path):
    script = [
        (200, {}, {**PAGE, "results": [{"id": SERVER, "name": "web-1"}]}),  # --server web-1
        (200, {}, {**PAGE, "results": [{"id": 7}]}),  # the organisations, then their default project
        (200, {}, {**PAGE, "results": [{"id": 4, "is_default": True}]}),
        (202, {}, {"id": "o1", "state": "provisioning", "service": SID}),
        (200, {}, SERVICE),
        (200, {}, {**SERVICE, "labels": {"env": "prod"}}),
    ]
    with stub_server(script) as stub:
        result = _vmcl(
            stub, tmp_path, "load-balancer", "create", "--name", "front", "--offer", "LB-STARTER",
            "--datacentre", "PAR-1", "--rule", "https:443:http:8080", "--rule", "http:80:8080",
            "--server", "web-1", "--target-selector", "role=web", "--label", "env=prod", "-o", "json",
        )  # fmt: skip
    assert result.code == 0, result.err
    assert json.loads(result.out)["labels"] == {"env": "prod"}
    order = json.loads(stub.requests[3]["body"])
    assert order["service"] == {
        "rules": [
            {"protocol": "https", "port": 443, "target_protocol": "http", "target_port": 8080},
            {"protocol": "http", "port": 80, "target_protocol": "http", "target_port": 8080},
        ],
        "targets": [{"kind": "server", "id": SERVER}, {"kind": "label_selector", "label_selector": "role=web"}],
    }
    assert (order["offer"], order["project"]) == ("LB-STARTER", 4)
    assert (stub.requests[5]["method"], json.loads(stub.requests[5]["body"])) == ("PATCH", {"labels": {"env": "prod"}})


def test_create_refuses_a_bad_rule_without_a_request(tmp_path):
    with stub_server([]) as stub:
        result = _vmcl(
            stub, tmp_path, "load-balancer", "create", "--name", "front", "--offer", "LB-STARTER",
            "--datacentre", "PAR-1", "--rule", "https:443",
        )  # fmt: skip
    assert result.code == 2 and "expected PROTOCOL:PORT" in result.err and "Traceback" not in result.err
    assert stub.requests == []


def test_list_asks_for_load_balancers_only(tmp_path):
    with stub_server([(200, {}, {**PAGE, "results": [SERVICE]})]) as stub:
        result = _vmcl(stub, tmp_path, "load-balancer", "list", "-l", "env=prod", "--no-header")
    assert result.code == 0, result.err
    assert result.out.split()[:2] == [SID, "front"]
    query = parse_qs(urlsplit(stub.requests[0]["path"]).query)
    assert query["family"] == ["load_balancer"] and query["label_selector"] == ["env=prod"]
