"""The SDK against a live platform (``live_server``, the simulator's fleet, eager Celery)."""

from __future__ import annotations

import uuid

import pytest
import vmcloud

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_create_a_server_wait_for_its_action_and_read_its_address(platform):
    client = platform.client()
    order, action = client.create_server(
        name="sdk-1",
        offer=platform.fleet.vps_offer.code,
        datacentre=platform.fleet.dc.code,
        image=platform.fleet.ubuntu24.slug,
    )
    assert action is not None and action["type"] == "create"
    action.wait(timeout=60, poll_interval=0.2)
    assert action.status == "success"
    server = client.instances_retrieve(order["instance"])
    assert (server["name"], server["status"]) == ("sdk-1", "running")
    assert server["ipv4"]
    assert [s["id"] for s in client.instances_list_iter(name="sdk-1")] == [server["id"]]

    stop = client.instances_power_action(server["id"], "stop")
    assert isinstance(stop, vmcloud.Action)
    assert stop.wait(timeout=60, poll_interval=0.2).status == "success"
    assert client.instances_retrieve(server["id"])["power_state"] == "stopped"


def test_a_repeated_order_with_the_same_idempotency_key_is_one_order(platform):
    client = platform.client()
    key = str(uuid.uuid4())
    kwargs = {
        "name": "once",
        "offer": platform.fleet.vps_offer.code,
        "datacentre": platform.fleet.dc.code,
        "image": platform.fleet.ubuntu24.slug,
        "idempotency_key": key,
    }
    first, _ = client.create_server(**kwargs)
    second, _ = client.create_server(**kwargs)
    assert first["id"] == second["id"]
    assert len(list(client.orders_list_iter())) == 1


def test_errors_carry_code_fields_and_request_id(platform):
    client = platform.client()
    with pytest.raises(vmcloud.NotFound) as missing:
        client.instances_retrieve(str(uuid.uuid4()))
    assert missing.value.code == "not_found"
    assert missing.value.request_id
    with pytest.raises(vmcloud.BadRequest) as invalid:
        client.create_server(name="bad_name!", offer=platform.fleet.vps_offer.code, datacentre=platform.fleet.dc.code)
    assert invalid.value.code == "validation_error"
    assert "name" in invalid.value.fields
    with pytest.raises(vmcloud.BadRequest) as unknown:
        client._request("instances_list", "/api/v1/instances/", query={"colour": "red"}, body=None, headers={})
    assert unknown.value.status == 400
    with pytest.raises(vmcloud.AuthenticationError):
        vmcloud.Client(platform.url, "vmc_pat_0_wrong").instances_list()


def test_label_selector_filters_and_pages_iterate(platform):
    client = platform.client(page_size=1)
    for name, env in (("a-1", "prod"), ("a-2", "dev"), ("a-3", "prod")):
        order, action = client.create_server(
            name=name,
            offer=platform.fleet.vps_offer.code,
            datacentre=platform.fleet.dc.code,
            image=platform.fleet.ubuntu24.slug,
        )
        action.wait(timeout=60, poll_interval=0.2)
        client.instances_update(order["instance"], body={"labels": {"env": env}})
    assert sorted(s["name"] for s in client.instances_list_iter()) == ["a-1", "a-2", "a-3"]
    assert sorted(s["name"] for s in client.instances_list_iter(label_selector="env=prod")) == ["a-1", "a-3"]
