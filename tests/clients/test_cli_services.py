"""vmcl's managed service commands and ``vmcl order create --service-json`` against a stub server: what they send."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.clients.cli import run_vmcl
from tests.clients.stub import error, stub_server

SID = "5b0c6a1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"
SERVICE = {
    "id": SID,
    "name": "shop-site",
    "family": "web_hosting",
    "tier": "WEB-START",
    "state": "active",
    "datacentre": "PAR-1",
    "price_monthly": "4.99",
    "labels": {"env": "prod"},
    "delete_protection": False,
}
ORDER = {"id": "7d1e2f3a-4b5c-4d6e-8f70-81a2b3c4d5e6", "name": "shop-site", "state": "provisioning", "service": SID}


@pytest.fixture
def config(tmp_path):
    return tmp_path / "vmcl" / "config.toml"


def _vmcl(stub, config, *args: str, stdin: str = ""):
    return run_vmcl(*args, config=config, env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"}, stdin=stdin)


def _query(request) -> dict:
    return parse_qs(urlsplit(request["path"]).query)


def test_order_create_sends_the_service_object_from_json_and_key_value_flags(config, tmp_path):
    spec = tmp_path / "site.yaml"
    spec.write_text("domain: shop.example.com\nruntime: php\n")
    with stub_server([(202, {}, ORDER)]) as stub:
        result = _vmcl(
            stub, config, "order", "create", "--name", "shop-site", "--offer", "WEB-START", "--datacentre", "PAR-1",
            "--project", "3", "--service-json", f"@{spec}", "--service", "version=8.3",
            "--service", 'extra_domains=["www.shop.example.com"]', "-o", "json",
        )  # fmt: skip
    assert result.code == 0, result.err
    assert stub.requests[0]["path"] == "/api/v1/orders/"
    assert json.loads(stub.requests[0]["body"]) == {
        "name": "shop-site",
        "offer": "WEB-START",
        "datacentre": "PAR-1",
        "project": 3,
        "service": {
            "domain": "shop.example.com",
            "runtime": "php",
            "version": "8.3",
            "extra_domains": ["www.shop.example.com"],
        },
    }
    assert stub.requests[0]["headers"].get("Idempotency-Key")
    assert json.loads(result.out)["service"] == SID


def test_order_create_refuses_a_service_json_that_is_not_an_object(config):
    with stub_server([]) as stub:
        result = _vmcl(
            stub, config, "order", "create", "--name", "x", "--offer", "WEB-START", "--datacentre", "PAR-1",
            "--project", "3", "--service-json", "[1, 2]",
        )  # fmt: skip
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        'error: --service-json must be an object, e.g. \'{"domain": "example.com"}\''
    ]
    assert stub.requests == []


def test_list_sends_family_state_and_label_selector_and_prints_the_columns(config):
    page = {"count": 1, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1}
    with stub_server([(200, {}, {**page, "results": [SERVICE]})]) as stub:
        result = _vmcl(
            stub, config, "service", "list", "--family", "web_hosting", "--family", "cdn", "--state", "active",
            "-l", "env=prod",
        )  # fmt: skip
    assert result.code == 0, result.err
    query = _query(stub.requests[0])
    assert urlsplit(stub.requests[0]["path"]).path == "/api/v1/services/"
    assert query["family"] == ["web_hosting", "cdn"]
    assert query["state"] == ["active"]
    assert query["label_selector"] == ["env=prod"]
    header, row = result.out.splitlines()
    assert header.split() == ["ID", "NAME", "FAMILY", "TIER", "STATE", "DATACENTRE", "PRICE_MONTHLY", "LABELS"]
    assert row.split() == [SID, "shop-site", "web_hosting", "WEB-START", "active", "PAR-1", "4.99", "env=prod"]


def test_describe_by_name_resolves_the_id_and_prints_yaml(config):
    page = {"count": 1, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1}
    with stub_server([(200, {}, {**page, "results": [SERVICE]}), (200, {}, SERVICE)]) as stub:
        result = _vmcl(stub, config, "service", "describe", "shop-site", "-o", "yaml")
    assert result.code == 0, result.err
    assert _query(stub.requests[0])["name"] == ["shop-site"]
    assert stub.requests[1]["path"] == f"/api/v1/services/{SID}/"
    assert yaml.safe_load(result.out)["tier"] == "WEB-START"


def test_update_and_labels_patch_the_service(config):
    with stub_server([(200, {}, SERVICE), (200, {}, SERVICE), (200, {}, SERVICE)]) as stub:
        updated = _vmcl(stub, config, "service", "update", SID, "--name", "shop", "--protect", "-o", "json")
        added = _vmcl(stub, config, "service", "add-label", SID, "team=web", "-o", "json")
    assert updated.code == 0 and added.code == 0, updated.err + added.err
    assert stub.requests[0]["method"] == "PATCH"
    assert json.loads(stub.requests[0]["body"]) == {"name": "shop", "delete_protection": True}
    assert json.loads(stub.requests[2]["body"]) == {"labels": {"env": "prod", "team": "web"}}


def test_update_without_a_change_is_a_usage_error(config):
    with stub_server([]) as stub:
        result = _vmcl(stub, config, "service", "update", SID)
    assert result.code == 2
    assert "nothing to change" in result.err
    assert stub.requests == []


def test_cancel_reads_the_typed_name_and_sends_it_as_confirm(config):
    cancelled = {**SERVICE, "state": "cancelled"}
    with stub_server([(200, {}, SERVICE), (200, {}, cancelled)]) as stub:
        result = _vmcl(stub, config, "service", "cancel", SID, "--reason", "moved", "-o", "json", stdin="shop-site\n")
    assert result.code == 0, result.err
    assert stub.requests[1]["method"] == "DELETE"
    assert _query(stub.requests[1]) == {"confirm": ["shop-site"], "reason": ["moved"]}
    assert json.loads(result.out)["state"] == "cancelled"


def test_cancel_without_a_name_on_stdin_or_a_flag_cancels_nothing(config):
    with stub_server([(200, {}, SERVICE)]) as stub:
        result = _vmcl(stub, config, "service", "cancel", SID)
    assert result.code == 2
    assert "--confirm NAME or --yes" in result.err
    assert [r["method"] for r in stub.requests] == ["GET"]


def test_cancel_with_yes_confirms_the_current_name_and_a_mismatch_is_one_line(config):
    mismatch = error(400, "confirmation_mismatch", "Type the service's name to confirm.", request_id="req-9")
    with stub_server([(200, {}, SERVICE), (200, {}, SERVICE), (400, {}, mismatch)]) as stub:
        yes = _vmcl(stub, config, "service", "cancel", SID, "--yes", "-o", "json")
        wrong = _vmcl(stub, config, "service", "cancel", SID, "--confirm", "typo")
    assert yes.code == 0, yes.err
    assert _query(stub.requests[1]) == {"confirm": ["shop-site"]}
    assert _query(stub.requests[2]) == {"confirm": ["typo"]}
    assert wrong.code == 3
    assert wrong.err.strip().splitlines() == [
        "error: Type the service's name to confirm. [confirmation_mismatch] (request req-9)"
    ]


def test_change_tier_credentials_and_transitions(config):
    transition = {"at": "2026-12-07T05:00:00Z", "from_state": "", "to_state": "provisioning", "by": "o", "reason": ""}
    page = {"count": 1, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1}
    with stub_server(
        [
            (200, {}, {**SERVICE, "tier": "WEB-PRO", "state": "changing"}),
            (200, {}, {"credentials": {"ftp_password": "s3cret"}}),
            (409, {}, error(409, "service_credentials_already_revealed", "Already shown.")),
            (200, {}, {**page, "results": [transition]}),
        ]
    ) as stub:
        tier = _vmcl(stub, config, "service", "change-tier", SID, "--tier", "WEB-PRO", "-o", "json")
        shown = _vmcl(stub, config, "service", "credentials", SID, "-o", "json")
        again = _vmcl(stub, config, "service", "credentials", SID)
        history = _vmcl(stub, config, "service", "transitions", SID, "--no-header")
    assert tier.code == 0 and json.loads(stub.requests[0]["body"]) == {"tier": "WEB-PRO"}
    assert stub.requests[0]["path"] == f"/api/v1/services/{SID}/actions/change_tier/"
    assert json.loads(shown.out) == {"ftp_password": "s3cret"}
    assert "shown once" in shown.err
    assert again.code == 6 and "[service_credentials_already_revealed]" in again.err and "Traceback" not in again.err
    assert history.out.split()[:3] == ["2026-12-07T05:00:00Z", "-", "provisioning"]


def test_network_delete_subnet_by_cidr_sends_the_subnet_id(config):
    network = "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a4b"
    subnet = {"id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "cidr": "10.0.1.0/24", "capacity": 253}
    page = {"count": 1, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1}
    action = {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "type": "apply", "status": "running", "progress": 0}
    with stub_server(
        [(200, {}, {**page, "results": [subnet]}), (202, {}, action), (200, {}, {**page, "results": []})]
    ) as stub:
        deleted = _vmcl(stub, config, "network", "delete-subnet", network, "10.0.1.0/24", "-o", "json")
        unknown = _vmcl(stub, config, "network", "delete-subnet", network, "10.0.9.0/24")
    assert deleted.code == 0, deleted.err
    assert stub.requests[1]["method"] == "DELETE"
    assert stub.requests[1]["path"] == f"/api/v1/networks/{network}/subnets/{subnet['id']}/"
    assert json.loads(deleted.out)["type"] == "apply"
    assert unknown.code == 2 and "no subnet '10.0.9.0/24'" in unknown.err
    assert len(stub.requests) == 3
