"""The SDK's load balancer helpers used by the Terraform provider, against a stub server and a real certificate."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import vmcloud
from vmcloud.client import Client, certificate_fingerprint

from apps.loadbalancers.rules.certificates import certificate_validate
from tests.clients.stub import stub_server
from tests.loadbalancers.support import make_chain

SID = "5b0c6a1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"
LB = {"service_id": SID, "config_generation": 2, "applied_generation": 1}


def test_create_load_balancer_orders_the_rules_and_targets_as_the_service_object():
    rules = [{"protocol": "HTTP", "port": 80, "target_protocol": "HTTP", "target_port": 8080}]
    targets = [{"kind": "label_selector", "label_selector": "role=web"}]
    order = {"id": "o1", "state": "provisioning", "service": SID}
    with stub_server([(202, {}, order), (200, {}, {"id": SID, "state": "provisioning"})]) as stub:
        placed, service = Client(stub.url, "t").create_load_balancer(
            name="front", offer="LB-STARTER", datacentre="PAR-1", rules=rules, targets=targets, project=4
        )
    assert placed["id"] == "o1" and service is not None and service["id"] == SID
    assert json.loads(stub.requests[0]["body"]) == {
        "name": "front",
        "offer": "LB-STARTER",
        "datacentre": "PAR-1",
        "project": 4,
        "service": {"rules": rules, "targets": targets},
    }
    assert stub.requests[1]["path"] == f"/api/v1/services/{SID}/"


def test_configure_load_balancer_sends_only_what_is_given_settings_last():
    with stub_server([(200, {}, LB)] * 4) as stub:
        answer = Client(stub.url, "t").configure_load_balancer(
            SID,
            targets=[{"kind": "server", "id": "s1"}],
            health_check={"protocol": "http"},
            certificate="CERT",
            private_key="KEY",
            settings={"tls_mode": "passthrough"},
        )
    assert answer == LB
    assert [(r["method"], r["path"].rsplit("/load-balancer/", 1)[1]) for r in stub.requests] == [
        ("PUT", "targets/"),
        ("PUT", "health-check/"),
        ("POST", "certificate/"),
        ("PATCH", "settings/"),
    ]
    assert json.loads(stub.requests[3]["body"]) == {"tls_mode": "passthrough"}
    with stub_server([(200, {}, LB)]) as stub:
        assert Client(stub.url, "t").configure_load_balancer(SID) == LB  # nothing to change: a read
        with pytest.raises(vmcloud.ConfigurationError, match="private_key"):
            Client(stub.url, "t").configure_load_balancer(SID, certificate="CERT")
    assert [r["method"] for r in stub.requests] == ["GET"]


def test_the_certificate_fingerprint_is_the_one_the_platform_computes():
    chain = make_chain(("shop.example.com",))
    pem = chain.leaf.certificate + chain.intermediate.certificate
    inspected = certificate_validate(
        certificate=chain.leaf.certificate,
        chain=chain.intermediate.certificate,
        private_key=chain.leaf.key,
        now=dt.datetime.now(dt.UTC),
    )
    assert certificate_fingerprint(pem) == inspected.fingerprint_sha256
    assert certificate_fingerprint(chain.intermediate.certificate) != inspected.fingerprint_sha256
    assert certificate_fingerprint("no certificate here") is None


def test_waiting_for_an_apply_stops_at_a_failure_with_its_code():
    failed = {**LB, "apply_status": "failed", "apply_error_code": "haproxy_inactive"}
    answers = [(200, {}, {**LB, "apply_status": "pending"}), (200, {}, failed)]
    with stub_server(answers) as stub, pytest.raises(vmcloud.ActionFailed) as error:
        Client(stub.url, "t").wait_load_balancer_applied(SID, timeout=30, interval=0)
    assert error.value.code == "haproxy_inactive" and len(stub.requests) == 2
