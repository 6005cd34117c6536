"""The SDK's alert policy and load balancer helpers against a stub server: what they send, what they wait for."""

from __future__ import annotations

import json

import pytest
import vmcloud
from vmcloud.client import Client

from tests.clients.stub import stub_server

SID = "5b0c6a1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"
PAGE = {"count": 1, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1}


def test_create_alert_policy_sends_one_target_and_only_the_given_options():
    answer = {"id": "p1", "webhook_secret": "whsec_1"}
    with stub_server([(200, {}, {**PAGE, "results": [{"id": 7}]}), (201, {}, answer)]) as stub:
        created = Client(stub.url, "t").create_alert_policy(
            name="disk-full", metric="disk", threshold=95, label_selector="role=db", webhook_url="https://h.example/x"
        )
    assert created["webhook_secret"] == "whsec_1"
    assert stub.requests[1]["path"] == "/api/v1/alert-policies/"
    assert json.loads(stub.requests[1]["body"]) == {
        "organisation_id": 7,
        "name": "disk-full",
        "metric": "disk",
        "comparison": "gt",
        "threshold": "95",
        "duration_minutes": 5,
        "enabled": True,
        "label_selector": "role=db",
        "webhook_url": "https://h.example/x",
    }
    with pytest.raises(ValueError, match="exactly one"):
        Client(stub.url, "t").create_alert_policy(name="x", metric="cpu", threshold=1)


def test_upload_certificate_reads_paths_and_wait_applied_polls_the_generations(tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n")
    pending = {"service_id": SID, "config_generation": 3, "applied_generation": 2}
    applied = {**pending, "applied_generation": 3}
    with stub_server([(200, {}, pending), (200, {}, pending), (200, {}, applied), (200, {}, pending)]) as stub:
        client = Client(stub.url, "t")
        client.upload_load_balancer_certificate(SID, certificate=cert, private_key="KEY")
        done = client.wait_load_balancer_applied(SID, interval=0.01)
        with pytest.raises(vmcloud.ActionTimeout):
            client.wait_load_balancer_applied(SID, timeout=0, interval=0.01)
    assert stub.requests[0]["path"] == f"/api/v1/services/{SID}/load-balancer/certificate/"
    assert json.loads(stub.requests[0]["body"]) == {"certificate": cert.read_text(), "private_key": "KEY", "chain": ""}
    assert done["applied_generation"] == 3
    assert [r["method"] for r in stub.requests[1:]] == ["GET", "GET", "GET"]
