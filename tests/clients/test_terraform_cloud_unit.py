"""The volume, network, firewall and floating IP resources without a platform: plans, rules, blocks (issue 13)."""

from __future__ import annotations

from typing import Any

from terraform_provider_vmcloud.cloud_resources import (
    Firewall,
    Network,
    NetworkAttachment,
    Volume,
    _rule_in,
    _rule_key,
    _rule_out,
    _target_in,
)
from terraform_provider_vmcloud.provider import VMCloudProvider
from terraform_provider_vmcloud.schemas import ListBlock
from tf.types import Unknown
from tf.utils import Diagnostics


class Ctx:
    def __init__(self) -> None:
        self.diagnostics = Diagnostics()


def _volume(**values: Any) -> dict[str, Any]:
    state = Volume(VMCloudProvider()).blank()
    state.update(
        {"id": "v1", "name": "data", "tier": "STORAGE-NVME", "size": 20, "datacentre": "PAR-1", "status": "in_use"}
    )
    state.update(values)
    return state


def test_a_volume_that_would_shrink_is_an_error_at_plan_time():
    ctx = Ctx()
    Volume(VMCloudProvider()).plan(ctx, _volume(size=30), _volume(size=20))
    assert ctx.diagnostics.has_errors()
    assert "never shrinks" in str(ctx.diagnostics.to_pb())


def test_a_volume_that_grows_or_moves_plans_its_status_and_device_path_as_unknown():
    ctx = Ctx()
    planned = Volume(VMCloudProvider()).plan(ctx, _volume(), _volume(size=40))
    assert not ctx.diagnostics.has_errors()
    assert planned["status"] is Unknown and planned["device_path"] is Unknown
    unchanged = Volume(VMCloudProvider()).plan(ctx, _volume(), _volume())
    assert unchanged["status"] == "in_use"


def test_a_network_subnet_is_removed_before_one_is_added_in_place():
    calls: list[tuple[str, ...]] = []
    existing = [{"id": "s1", "cidr": "10.0.1.0/24"}, {"id": "s2", "cidr": "10.0.2.0/24"}]

    class Client:
        def networks_update(self, *args: Any, **kwargs: Any) -> None:
            calls.append(("update",))

        def networks_subnets_list_iter(self, network_id: str) -> Any:
            return iter(existing)

        def networks_subnets_destroy(self, network_id: str, subnet_id: str) -> None:
            calls.append(("destroy", network_id, subnet_id))

        def networks_subnets_create(self, network_id: str, *, body: dict[str, Any]) -> None:
            calls.append(("create", network_id, body["cidr"]))

        def networks_retrieve(self, network_id: str) -> dict[str, Any]:
            subnets = [{"cidr": "10.0.2.0/24"}, {"cidr": "10.0.3.0/24"}]
            return {"id": network_id, "name": "b", "ip_range": "10.0.0.0/16", "datacentre": "PAR-1",
                    "subnets": subnets, "project_id": 1, "labels": {}, "status": "available"}  # fmt: skip

    provider = VMCloudProvider()
    provider.client = lambda: Client()  # type: ignore[method-assign,assignment,return-value]
    network = Network(provider)
    state = {**network.blank(), "id": "n1", "name": "b", "ip_range": "10.0.0.0/16", "datacentre": "PAR-1",
             "subnets": ["10.0.1.0/24", "10.0.2.0/24"]}  # fmt: skip
    ctx = Ctx()
    planned = network.plan(ctx, state, {**state, "subnets": ["10.0.2.0/24", "10.0.3.0/24"]})
    assert not ctx.diagnostics.has_errors()
    read = network.do_update(state, planned)
    assert calls == [("destroy", "n1", "s1"), ("create", "n1", "10.0.3.0/24")]
    assert read is not None and read["subnets"] == ["10.0.2.0/24", "10.0.3.0/24"]


def test_firewall_rules_round_trip_with_nulls_and_equal_addresses():
    configured = {
        "direction": "in",
        "protocol": "tcp",
        "port": "22",
        "source_ips": ["198.51.100.7"],
        "destination_ips": None,
        "description": None,
    }
    assert _rule_in(configured) == {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["198.51.100.7"]}
    from_api = {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["198.51.100.7/32"],
                "destination_ips": [], "description": ""}  # fmt: skip
    assert _rule_out(from_api)["destination_ips"] is None and _rule_out(from_api)["description"] is None
    assert _rule_key(from_api) == _rule_key(configured)
    assert _target_in({"server": "s1", "label_selector": None}) == {"type": "server", "server": {"id": "s1"}}
    assert _target_in({"server": None, "label_selector": "role=web"}) == {
        "type": "label_selector",
        "label_selector": {"selector": "role=web"},
    }


def test_the_rule_block_encodes_every_attribute_and_apply_to_takes_one_target():
    assert ListBlock("empty", []).encode(None) == []
    rule_block = Firewall.blocks[0]
    encoded = rule_block.encode([{"direction": "in", "protocol": "icmp"}])
    assert encoded == [
        {"direction": "in", "protocol": "icmp", "port": None, "source_ips": None, "destination_ips": None,
         "description": None}
    ]  # fmt: skip
    diags = Diagnostics()
    Firewall(VMCloudProvider()).validate(
        diags, "vmcloud_firewall", {"apply_to": [{"server": "a", "label_selector": "b"}]}
    )
    assert diags.has_errors()


def test_a_network_attachment_is_imported_as_network_slash_server():
    import pytest

    with pytest.raises(ValueError, match="<network_id>/<server_id>"):
        NetworkAttachment(VMCloudProvider()).do_import("just-a-network")


def test_an_imported_rule_names_one_address_without_its_prefix():
    rule = {"direction": "in", "protocol": "tcp", "source_ips": ["198.51.100.7/32", "10.0.0.0/8", "2001:db8::1/128"]}
    assert _rule_out(rule, bare_hosts=True)["source_ips"] == ["198.51.100.7", "10.0.0.0/8", "2001:db8::1"]
