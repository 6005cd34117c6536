"""``vmcloud_load_balancer`` without a platform: validation, reads and drift, plans, updates, import and destroy."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from terraform_provider_vmcloud.lb_resources import HEALTH_DEFAULTS, LoadBalancer, LoadBalancerData
from terraform_provider_vmcloud.provider import VMCloudProvider
from tf.types import Unknown
from tf.utils import Diagnostics
from vmcloud.client import certificate_fingerprint

SID = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
WEB = "0f0e0d0c-0b0a-4909-8807-060504030201"
# Any DER bytes do for the fingerprint: the provider hashes the first certificate block as the API does.
PEM_A = "-----BEGIN CERTIFICATE-----\nQUFBQQ==\n-----END CERTIFICATE-----\n"
PEM_B = "-----BEGIN CERTIFICATE-----\nQkJCQg==\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n"


class Ctx:
    def __init__(self) -> None:
        self.diagnostics = Diagnostics()


class FakeClient:
    """One load balancer service; the writes change it the way the API does and are recorded in ``calls``."""

    def __init__(self) -> None:
        self.service: dict[str, Any] = {
            "id": SID,
            "name": "front",
            "tier": "LB-STARTER",
            "datacentre": "PAR-1",
            "project_id": 4,
            "labels": {},
            "delete_protection": False,
            "family": "load_balancer",
            "state": "active",
            "endpoints": {"urls": ["http://203.0.113.9:80"], "hostnames": []},
            "price_monthly": "29.00",
        }
        self.lb: dict[str, Any] = {
            "service_id": SID,
            "datacentre": "PAR-1",
            "rules": [{"protocol": "HTTP", "port": 80, "target_protocol": "HTTP", "target_port": 8080}],
            "targets": [{"kind": "label_selector", "label_selector": "role=web"}],
            "health_check": dict(HEALTH_DEFAULTS),
            "sticky_sessions": None,
            "redirect_http_to_https": False,
            "tls_mode": "",
            "proxy_protocol": False,
            "certificate": None,
            "config_generation": 1,
            "applied_generation": 1,
            "applied_targets": [{"id": WEB, "name": "web-1", "address": "192.0.2.10", "health": "unknown"}],
        }
        self.calls: list[tuple[str, Any]] = []

    def services_retrieve(self, service_id: str) -> dict[str, Any]:
        assert service_id == SID
        return copy.deepcopy(self.service)

    def load_balancers_retrieve(self, service_id: str) -> dict[str, Any]:
        assert service_id == SID
        return copy.deepcopy(self.lb)

    def create_load_balancer(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        self.calls.append(("order", kwargs))
        self.service["name"] = kwargs["name"]
        self.lb["rules"], self.lb["targets"] = kwargs["rules"], kwargs["targets"]
        return {"id": "o1", "state": "provisioning", "service": SID}, self.services_retrieve(SID)

    def services_update(self, service_id: str, *, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("service", body))
        self.service.update(body)
        return self.services_retrieve(service_id)

    def services_change_tier(self, service_id: str, *, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("tier", body["tier"]))
        self.service["tier"] = body["tier"]
        return self.services_retrieve(service_id)

    def wait_service(self, service_id: str, *, timeout: float) -> dict[str, Any]:
        self.calls.append(("wait_service", timeout))
        return self.services_retrieve(service_id)

    def wait_load_balancer_applied(self, service_id: str, *, timeout: float) -> dict[str, Any]:
        self.calls.append(("wait_applied", timeout))
        return self.load_balancers_retrieve(service_id)

    def configure_load_balancer(self, service_id: str, **given: Any) -> dict[str, Any]:
        given = {k: v for k, v in given.items() if v is not None and not (k == "chain" and v == "")}
        self.calls.append(("configure", given))
        if "rules" in given:
            self.lb["rules"] = given["rules"]
            if not self.lb["tls_mode"] and any(r["protocol"] in ("HTTPS", "HTTP/3") for r in given["rules"]):
                self.lb["tls_mode"] = "terminate"
        if "targets" in given:
            self.lb["targets"] = given["targets"]
        if "health_check" in given:
            self.lb["health_check"] = given["health_check"]
        if "certificate" in given:
            self.lb["certificate"] = {
                "names": ["shop.example.com"],
                "not_after": "2027-01-01T00:00:00Z",
                "fingerprint_sha256": certificate_fingerprint(given["certificate"]),
            }
            self.lb["tls_mode"] = "terminate"
        self.lb.update(given.get("settings") or {})
        return self.load_balancers_retrieve(service_id)

    def services_list_iter(self, *, family: list[str], name: str) -> list[dict[str, Any]]:
        assert family == ["load_balancer"]
        live = {**self.service, "state": "active"}
        return [self.services_retrieve(SID), {**live, "id": "ended", "state": "cancelled"}] if name == "front" else []

    def cancel_service(self, service_id: str, *, confirm: str, reason: str) -> dict[str, Any]:
        self.calls.append(("cancel", confirm))
        self.service["state"] = "cancelled"
        return self.services_retrieve(service_id)


def _resource(client: FakeClient | None = None) -> LoadBalancer:
    provider = VMCloudProvider()
    provider.client = lambda: client  # type: ignore[method-assign]
    return LoadBalancer(provider)


def _config(**values: Any) -> dict[str, Any]:
    state = _resource().blank()
    state.update(
        {
            "name": "front",
            "offer": "LB-STARTER",
            "datacentre": "PAR-1",
            "rule": [{"protocol": "http", "port": 80, "target_protocol": "http", "target_port": 8080}],
            "target": [{"server_id": None, "label_selector": "role=web"}],
        }
    )
    state.update(values)
    return state


def _state(client: FakeClient, **values: Any) -> dict[str, Any]:
    read = _resource(client).do_read({**_config(**values), "id": SID})
    assert read is not None
    return read


def test_validation_wants_a_rule_one_kind_per_target_one_block_and_the_key_with_the_certificate():
    cases = {
        "at least one rule": {"rule": []},
        "one of server_id or label_selector": {"target": [{"server_id": WEB, "label_selector": "role=web"}]},
        "one health_check block at most": {"health_check": [{}, {}]},
        "certificate and private_key go together": {"certificate": PEM_A},
    }
    for message, config in cases.items():
        ctx = Ctx()
        _resource().validate(ctx.diagnostics, "vmcloud_load_balancer", _config(**config))
        assert ctx.diagnostics.has_errors() and message in str(ctx.diagnostics.to_pb()), message
    fine = Ctx()
    _resource().validate(
        fine.diagnostics,
        "vmcloud_load_balancer",
        _config(target=[{"server_id": Unknown, "label_selector": None}], certificate=PEM_A, private_key=KEY),
    )
    assert not fine.diagnostics.has_errors(), fine.diagnostics.to_pb()
    dynamic = Ctx()  # dynamic blocks are unknown at validation: the API checks them at apply time
    _resource().validate(
        dynamic.diagnostics, "vmcloud_load_balancer", _config(rule=Unknown, target=Unknown, sticky_sessions=Unknown)
    )
    assert not dynamic.diagnostics.has_errors(), dynamic.diagnostics.to_pb()


def test_create_orders_with_rules_and_targets_then_configures_the_rest_and_waits_until_applied():
    client = FakeClient()
    planned = _config(
        labels={"env": "prod"},
        health_check=[{**dict.fromkeys(HEALTH_DEFAULTS), "protocol": "http", "path": "/healthz"}],
        sticky_sessions=[{"cookie_name": None, "ttl_seconds": 600}],
        redirect_http_to_https=True,
        proxy_protocol=Unknown,
        tls_mode=Unknown,
        certificate=PEM_A,
        private_key=KEY,
        timeouts={"create": "2m"},
    )
    created = _resource(client).do_create(planned, {})
    order = client.calls[0][1]
    assert order["rules"] == [{"protocol": "http", "port": 80, "target_protocol": "http", "target_port": 8080}]
    assert order["targets"] == [{"kind": "label_selector", "label_selector": "role=web"}]
    assert [name for name, _ in client.calls] == ["order", "service", "wait_service", "configure", "wait_applied"]
    configured = client.calls[3][1]
    assert configured["health_check"] == {**HEALTH_DEFAULTS, "protocol": "http", "path": "/healthz"}
    assert configured["settings"] == {
        "redirect_http_to_https": True,
        "sticky_sessions": {"cookie_name": "LBSTICKY", "ttl_seconds": 600},
    }
    assert configured["certificate"] == PEM_A and configured["private_key"] == KEY
    assert client.calls[2][1] == 120.0
    # The state is what was configured (an apply must answer the plan), with the platform's values filled in.
    assert created["rule"] == planned["rule"] and created["health_check"] == planned["health_check"]
    assert created["sticky_sessions"] == [{"cookie_name": None, "ttl_seconds": 600}]
    assert created["certificate"] == PEM_A and created["private_key"] == KEY
    assert created["certificate_fingerprint"] == certificate_fingerprint(PEM_A)
    assert (created["tls_mode"], created["proxy_protocol"], created["labels"]) == ("terminate", False, {"env": "prod"})
    assert created["applied_target_ids"] == [WEB] and created["urls"] == ["http://203.0.113.9:80"]


def test_an_order_awaiting_approval_is_an_error_naming_it():
    client = FakeClient()
    client.create_load_balancer = lambda **kw: ({"id": "o9", "state": "awaiting_approval", "service": None}, None)  # type: ignore[method-assign]
    with pytest.raises(Exception, match="order o9 is awaiting_approval"):
        _resource(client).do_create(_config(), {})


def test_read_keeps_defaults_out_of_the_blocks_and_shows_what_changed_outside():
    client = FakeClient()
    state = _state(client)
    assert state["health_check"] == [] and state["sticky_sessions"] == []
    assert state["rule"][0]["protocol"] == "http", "the configured spelling of an equal rule is kept"
    # Changed in the console: a health check interval, sticky sessions on, another rule.
    client.lb["health_check"]["interval_seconds"] = 30
    client.lb["sticky_sessions"] = {"cookie_name": "LBSTICKY", "ttl_seconds": 3600}
    client.lb["rules"].append({"protocol": "HTTPS", "port": 443, "target_protocol": "HTTP", "target_port": 8080})
    drifted = _resource(client).do_read(state)
    assert drifted is not None
    assert drifted["health_check"] == [{**dict.fromkeys(HEALTH_DEFAULTS), "interval_seconds": 30}]
    assert drifted["sticky_sessions"] == [{"cookie_name": None, "ttl_seconds": None}]
    assert [r["port"] for r in drifted["rule"]] == [80, 443] and drifted["rule"][0]["protocol"] == "HTTP"


def test_a_certificate_replaced_outside_terraform_leaves_the_configured_one_to_upload_again():
    client = FakeClient()
    state = _resource(client).do_create(_config(certificate=PEM_A, private_key=KEY, tls_mode=Unknown), {})
    assert state["certificate"] == PEM_A
    client.lb["certificate"]["fingerprint_sha256"] = certificate_fingerprint(PEM_B)
    drifted = _resource(client).do_read(state)
    assert drifted is not None and drifted["certificate"] is None and drifted["private_key"] is None


def test_a_rule_change_plans_new_urls_and_tls_termination_and_changes_nothing_else():
    client = FakeClient()
    current = _state(client)
    https = {"protocol": "HTTPS", "port": 443, "target_protocol": "HTTP", "target_port": 8080}
    planned = _resource(client).plan(Ctx(), current, {**copy.deepcopy(current), "rule": [*current["rule"], https]})
    assert planned["urls"] is Unknown and planned["applied_target_ids"] is Unknown
    assert planned["tls_mode"] == "terminate" and planned["state"] == "active"
    same = _resource(client).plan(Ctx(), current, copy.deepcopy(current))
    assert same == current


def test_update_sends_only_what_changed():
    client = FakeClient()
    current = _state(client)
    planned = copy.deepcopy(current)
    planned["rule"] = [{"protocol": "http", "port": 80, "target_protocol": "http", "target_port": 9090}]
    planned["health_check"] = [{**dict.fromkeys(HEALTH_DEFAULTS), "path": "/up", "protocol": "http"}]
    planned["labels"] = {"env": "prod"}
    updated = _resource(client).do_update(current, planned)
    assert [name for name, _ in client.calls] == ["service", "configure", "wait_applied"]
    configured = client.calls[1][1]
    assert set(configured) == {"rules", "health_check"}
    assert configured["health_check"] == {**HEALTH_DEFAULTS, "protocol": "http", "path": "/up"}
    assert (
        updated is not None
        and updated["rule"] == planned["rule"]
        and updated["health_check"] == planned["health_check"]
    )

    # Targets, sticky sessions off, a tier and a certificate whose fingerprint the platform already has.
    client.calls.clear()
    client.lb["sticky_sessions"] = {"cookie_name": "LBSTICKY", "ttl_seconds": 3600}
    client.lb["certificate"] = {"names": [], "not_after": "", "fingerprint_sha256": certificate_fingerprint(PEM_A)}
    current = _resource(client).do_read(updated)
    assert current is not None
    planned = {**copy.deepcopy(current), "offer": "LB-BUSINESS", "sticky_sessions": []}
    planned["target"] = [{"server_id": WEB, "label_selector": None}]
    planned["certificate"], planned["private_key"] = PEM_A, KEY
    _resource(client).do_update(current, planned)
    names = [name for name, _ in client.calls]
    assert names == ["tier", "wait_service", "configure", "configure", "wait_applied"]
    assert client.calls[2][1] == {"targets": [{"kind": "server", "id": WEB}]}, "no upload of the same certificate"
    assert client.calls[3][1] == {"settings": {"sticky_sessions": None}}


def test_import_reads_the_load_balancer_so_that_the_same_configuration_plans_nothing():
    client = FakeClient()
    client.lb["health_check"]["path"] = "/healthz"
    imported = _resource(client).do_import(SID)
    assert imported is not None
    assert imported["rule"] == [{"protocol": "HTTP", "port": 80, "target_protocol": "HTTP", "target_port": 8080}]
    assert imported["target"] == [{"server_id": None, "label_selector": "role=web"}]
    assert imported["health_check"] == [{**dict.fromkeys(HEALTH_DEFAULTS), "path": "/healthz"}]
    assert imported["certificate"] is None and imported["datacentre"] == "PAR-1" and imported["project"] == 4


def test_another_family_is_refused_and_an_ended_service_is_gone():
    client = FakeClient()
    client.service["family"] = "cdn"
    with pytest.raises(Exception, match="is a cdn, not a load balancer"):
        _resource(client).do_import(SID)
    client.service.update(family="load_balancer", state="cancelled")
    assert _resource(client).do_read({"id": SID}) is None
    _resource(client).do_delete({"id": SID})
    assert client.calls == []


def test_destroy_cancels_with_the_current_name_as_confirmation():
    client = FakeClient()
    client.service["name"] = "renamed-in-the-console"
    _resource(client).do_delete({"id": SID})
    assert client.calls == [("cancel", "renamed-in-the-console")]


def test_the_data_source_finds_one_by_name_or_id_and_wants_exactly_one_of_them():
    client = FakeClient()
    data = LoadBalancerData(VMCloudProvider())
    data.provider.client = lambda: client  # type: ignore[method-assign]
    for config in ({"name": "front"}, {"id": SID}):
        ctx = Ctx()
        found = data.read(ctx, config)
        assert not ctx.diagnostics.has_errors() and found is not None
        assert (found["id"], found["offer"], found["datacentre"]) == (SID, "LB-STARTER", "PAR-1")
        assert found["rules"] == [{"protocol": "HTTP", "port": "80", "target_protocol": "HTTP", "target_port": "8080"}]
        assert found["targets"] == [{"server_id": "", "label_selector": "role=web"}]
        assert found["applied_target_ids"] == [WEB] and found["urls"] == ["http://203.0.113.9:80"]
    missing = Ctx()
    assert data.read(missing, {"name": "back"}) is None
    assert "0 live load balancers are named" in str(missing.diagnostics.to_pb())
    for config in ({}, {"id": SID, "name": "front"}):
        ctx = Ctx()
        data.validate(ctx.diagnostics, "vmcloud_load_balancer", config)
        assert ctx.diagnostics.has_errors()
