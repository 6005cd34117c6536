"""``vmcloud_service`` without a platform: config validation, plans, reads, import and destroy (= cancel)."""

from __future__ import annotations

import json
from typing import Any

from terraform_provider_vmcloud.managed_resources import Service
from terraform_provider_vmcloud.provider import VMCloudProvider
from tf.types import Unknown
from tf.utils import Diagnostics

SID = "5b0c6a1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"


class Ctx:
    def __init__(self) -> None:
        self.diagnostics = Diagnostics()


class FakeClient:
    """Answers ``services_retrieve`` with ``service``; records the cancellations."""

    def __init__(self, **service: Any) -> None:
        self.service = {
            "id": SID,
            "name": "shop",
            "tier": "WEB-START",
            "datacentre": "PAR-1",
            "project_id": 4,
            "labels": {"env": "prod"},
            "delete_protection": False,
            "family": "web_hosting",
            "state": "active",
            "endpoints": {"urls": ["https://shop.example.com"], "hostnames": ["shop.example.com"]},
            "price_monthly": "4.99",
            "config": {"runtime": "php", "domain": "shop.example.com", "version": "8.3"},
            **service,
        }
        self.cancelled: list[tuple[str, str]] = []

    def services_retrieve(self, service_id: str) -> dict[str, Any]:
        assert service_id == SID
        return dict(self.service)

    def cancel_service(self, service_id: str, *, confirm: str, reason: str) -> dict[str, Any]:
        self.cancelled.append((service_id, confirm))
        return {**self.service, "state": "cancelled"}


def _resource(client: FakeClient | None = None) -> Service:
    provider = VMCloudProvider()
    provider.client = lambda: client  # type: ignore[method-assign]
    return Service(provider)


def _state(**values: Any) -> dict[str, Any]:
    state = _resource().blank()
    state.update(
        {"id": SID, "name": "shop", "offer": "WEB-START", "datacentre": "PAR-1", "state": "active", "order_id": "o1"}
    )
    state.update(values)
    return state


def test_a_config_that_is_not_a_json_object_is_an_error_at_validation():
    ctx = Ctx()
    _resource().validate(ctx.diagnostics, "vmcloud_service", {"config": "[1, 2]"})
    assert ctx.diagnostics.has_errors() and "must be a JSON object" in str(ctx.diagnostics.to_pb())
    fine = Ctx()
    _resource().validate(fine.diagnostics, "vmcloud_service", {"config": json.dumps({"domain": "a.example"})})
    assert not fine.diagnostics.has_errors()


def test_a_tier_change_plans_the_state_and_price_unknown_and_keeps_the_order_id():
    ctx = Ctx()
    planned = _resource().plan(ctx, _state(), _state(offer="WEB-PRO", order_id=None))
    assert planned["state"] is Unknown and planned["price_monthly"] is Unknown
    assert planned["order_id"] == "o1"
    unchanged = _resource().plan(ctx, _state(), _state(labels={"a": "b"}))
    assert unchanged["state"] == "active"


def test_read_maps_the_service_and_keeps_the_configured_config():
    config = json.dumps({"domain": "shop.example.com", "env": [{"name": "K", "value": "secret"}]})
    read = _resource(FakeClient()).do_read(_state(config=config))
    assert read is not None
    assert (read["offer"], read["project"], read["family"], read["price_monthly"]) == (
        "WEB-START",
        4,
        "web_hosting",
        "4.99",
    )
    assert read["urls"] == ["https://shop.example.com"] and read["hostnames"] == ["shop.example.com"]
    assert read["config"] == config  # never replaced by the API's copy, which has no secrets


def test_an_import_reads_the_config_as_terraform_jsonencode_writes_it():
    resource = _resource(FakeClient())
    imported = resource.do_import(SID)
    assert imported is not None
    assert imported["config"] == '{"domain":"shop.example.com","runtime":"php","version":"8.3"}'
    assert imported["order_id"] == ""


def test_an_ended_service_is_gone_and_its_destroy_calls_nothing():
    for state in ("cancelled", "terminated"):
        client = FakeClient(state=state)
        assert _resource(client).do_read(_state()) is None
        _resource(client).do_delete(_state())
        assert client.cancelled == []


def test_destroy_cancels_with_the_current_name_as_confirmation():
    client = FakeClient(name="renamed-in-the-console")
    _resource(client).do_delete(_state())
    assert client.cancelled == [(SID, "renamed-in-the-console")]
