"""vmcl's firewall rules, volume and floating IP commands against a stub server: the bodies they send (issue 13)."""

from __future__ import annotations

import json

import pytest

from tests.clients.cli import run_vmcl
from tests.clients.stub import error, stub_server

FIREWALL = {"id": "3f1c2b9e-0d6a-4c8e-9b7a-1d2e3f405162", "name": "web", "rules": [], "applied_to": [], "labels": {}}
ACTION = {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "type": "apply", "status": "success", "progress": 100}


@pytest.fixture
def config(tmp_path):
    return tmp_path / "vmcl" / "config.toml"


def _sent(stub, index: int = -1) -> dict:
    return json.loads(stub.requests[index]["body"])


def test_firewall_rules_from_flags_and_targets_become_the_api_body(config):
    with stub_server([(201, {}, {"firewall": FIREWALL, "actions": []})]) as stub:
        result = run_vmcl(
            "firewall", "create", "--name", "web", "--organisation", "7",
            "--rule", "in tcp port=22 source=198.51.100.0/24,2001:db8::/32 description='ssh from the office'",
            "--rule", "direction=out protocol=udp port=53 destination=192.0.2.53",
            "--apply-to-label-selector", "role=web", "-o", "json",
            config=config, env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"},
        )  # fmt: skip
    assert result.code == 0, result.err
    assert stub.requests[0]["path"] == "/api/v1/firewalls/"
    assert _sent(stub) == {
        "organisation_id": 7,
        "name": "web",
        "rules": [
            {"direction": "in", "protocol": "tcp", "port": "22",
             "source_ips": ["198.51.100.0/24", "2001:db8::/32"], "description": "ssh from the office"},
            {"direction": "out", "protocol": "udp", "port": "53", "destination_ips": ["192.0.2.53"]},
        ],
        "apply_to": [{"type": "label_selector", "label_selector": {"selector": "role=web"}}],
    }  # fmt: skip
    assert json.loads(result.out)["name"] == "web"


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_set_rules_reads_a_json_or_yaml_file(config, tmp_path, suffix):
    rules = [{"direction": "in", "protocol": "icmp", "source_ips": ["0.0.0.0/0"]}]
    path = tmp_path / f"rules.{suffix}"
    path.write_text(
        json.dumps({"rules": rules})
        if suffix == "json"
        else "- {direction: in, protocol: icmp, source_ips: [0.0.0.0/0]}\n"
    )
    with stub_server([(202, {}, ACTION)]) as stub:
        result = run_vmcl(
            "firewall", "set-rules", FIREWALL["id"], "--rules-file", str(path),
            config=config, env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"},
        )  # fmt: skip
    assert result.code == 0, result.err
    assert stub.requests[0]["path"] == f"/api/v1/firewalls/{FIREWALL['id']}/actions/set_rules/"
    assert _sent(stub) == {"rules": rules}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "in"], "no protocol"),
        (["--rule", "in tcp colour=red"], "is not KEY=VALUE"),
        (["--rule", "in tcp", "--clear"], "--clear takes no rules"),
        ([], "give --rule, --rules-file or --clear"),
    ],
)
def test_bad_rule_flags_are_usage_errors_without_a_request(config, args, message):
    with stub_server([]) as stub:
        result = run_vmcl(
            "firewall", "set-rules", FIREWALL["id"], *args, config=config, env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"}
        )
    assert result.code == 2 and message in result.err and result.err.count("\n") == 1, result.err
    assert stub.requests == []


def test_a_refused_firewall_rule_is_one_line_with_the_field(config):
    body = error(400, "validation_error", "Invalid input.", {"rules[0].port": ["Not a port."]}, request_id="r9")
    with stub_server([(400, {}, body)]) as stub:
        result = run_vmcl(
            "firewall", "set-rules", FIREWALL["id"], "--rule", "in tcp port=99999",
            config=config, env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"},
        )  # fmt: skip
    assert result.code == 3
    assert result.err == "error: Invalid input [validation_error] rules[0].port: Not a port. (request r9)\n"


def test_floating_ip_by_address_and_volume_actions_answer_a_printable_action(config):
    fip = {"id": "5c4b3a29-1807-4f6e-9d5c-4b3a29180706", "name": "vip", "address": "203.0.113.9"}
    page = {"count": 1, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1, "results": [fip]}
    volume_id = "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"
    volume_action = {**ACTION, "type": "detach", "resource": {"type": "volume", "id": volume_id}}
    with stub_server([(200, {}, page), (202, {}, {**ACTION, "type": "unassign"}), (202, {}, volume_action)]) as stub:
        env = {"VMCL_URL": stub.url, "VMCL_TOKEN": "t"}
        unassigned = run_vmcl("floating-ip", "unassign", "203.0.113.9", "-o", "json", config=config, env=env)
        detached = run_vmcl("volume", "detach", volume_id, config=config, env=env)
    assert unassigned.code == 0, unassigned.err
    assert "address=203.0.113.9" in stub.requests[0]["path"]
    assert stub.requests[1]["path"] == f"/api/v1/floating_ips/{fip['id']}/actions/unassign/"
    assert json.loads(unassigned.out)["type"] == "unassign"
    assert detached.code == 0, detached.err
    assert "detach" in detached.out and "success" in detached.out


SERVER_ID = "7e6d5c4b-3a29-4180-a6f5-e4d3c2b1a097"


def test_volume_and_network_creates_print_the_new_object_and_floating_ips_name_server_id(config):
    """Creates answer 201 {"<resource>": …, "action": …} (issue 13); the server is ``server_id`` everywhere."""
    volume = {
        "id": "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9",
        "name": "data",
        "status": "creating",
        "server_id": SERVER_ID,
    }
    network = {"id": "2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7081", "name": "backend", "status": "creating", "subnets": []}
    fip = {"id": "5c4b3a29-1807-4f6e-9d5c-4b3a29180706", "name": "vip", "address": "203.0.113.9", "server_id": None}
    answers = [
        (201, {}, {"volume": volume, "action": {**ACTION, "type": "create", "status": "pending"}}),
        (201, {}, {"network": network, "action": {**ACTION, "type": "create", "status": "pending"}}),
        (201, {}, {"floating_ip": {**fip, "server_id": SERVER_ID}, "action": {**ACTION, "type": "assign"}}),
        (202, {}, {**ACTION, "type": "assign"}),
    ]
    with stub_server(answers) as stub:
        env = {"VMCL_URL": stub.url, "VMCL_TOKEN": "t"}
        made_volume = run_vmcl(
            "volume", "create", "--name", "data", "--tier", "STORAGE-NVME", "--size", "20", "--datacentre", "PAR-1",
            "--server", SERVER_ID, "--organisation", "7", "-o", "json", config=config, env=env,
        )  # fmt: skip
        made_network = run_vmcl(
            "network", "create", "--name", "backend", "--ip-range", "10.20.0.0/16", "--datacentre", "PAR-1",
            "--organisation", "7", "-o", "json", config=config, env=env,
        )  # fmt: skip
        made_fip = run_vmcl(
            "floating-ip", "create", "--name", "vip", "--server", SERVER_ID, "--organisation", "7", "-o", "json",
            config=config, env=env,
        )  # fmt: skip
        moved = run_vmcl("floating-ip", "assign", fip["id"], "--server", SERVER_ID, config=config, env=env)
    for result in (made_volume, made_network, made_fip, moved):
        assert result.code == 0, result.err
    assert json.loads(made_volume.out) == volume
    assert _sent(stub, 0)["server_id"] == SERVER_ID
    assert json.loads(made_network.out) == network
    assert json.loads(made_fip.out)["server_id"] == SERVER_ID
    assert _sent(stub, 2) == {"organisation_id": 7, "name": "vip", "delete_protection": False, "server_id": SERVER_ID}
    assert stub.requests[3]["path"] == f"/api/v1/floating_ips/{fip['id']}/actions/assign/"
    assert _sent(stub, 3) == {"server_id": SERVER_ID}
