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


def test_volume_network_firewall_and_floating_ip_helpers_wait_on_their_actions(platform, extras):
    """The four create helpers of issue 13, and ``Action.wait()`` on each resource's Actions."""
    client = platform.client()
    order, action = client.create_server(
        name="app-1", offer=platform.fleet.vps_offer.code, datacentre=platform.fleet.dc.code, image="ubuntu-24.04"
    )
    action.wait(timeout=60, poll_interval=0.2)
    server_id = order["instance"]
    client.instances_update(server_id, body={"labels": {"role": "web"}})

    volume, action = client.create_volume(
        name="data", tier=extras.tier.code, size_gb=20, datacentre=platform.fleet.dc.code, server=server_id
    )
    assert (volume["name"], action["type"]) == ("data", "create")
    assert action.wait(timeout=60, poll_interval=0.2).status == "success"
    assert client.volumes_retrieve(volume["id"])["server_id"] == server_id
    resize = client.action(client.volumes_resize(volume["id"], body={"size_gb": 30}))
    assert resize.wait(timeout=60, poll_interval=0.2).status == "success"

    network, action = client.create_network(
        name="backend", ip_range="10.20.0.0/16", subnets=["10.20.1.0/24"], datacentre=platform.fleet.dc.code
    )
    action.wait(timeout=60, poll_interval=0.2)
    attach = client.networks_attach(network["id"], body={"server_id": server_id, "ip": "10.20.1.10"})
    assert attach.wait(timeout=60, poll_interval=0.2).status == "success"
    assert client.networks_retrieve(network["id"])["servers"][0]["address"] == "10.20.1.10"

    firewall, actions = client.create_firewall(
        name="web",
        rules=[{"direction": "in", "protocol": "tcp", "port": "443", "source_ips": ["0.0.0.0/0", "::/0"]}],
        apply_to=[{"type": "label_selector", "label_selector": {"selector": "role=web"}}],
    )
    assert actions and all(a.wait(timeout=60, poll_interval=0.2).status == "success" for a in actions)
    assert client.firewalls_retrieve(firewall["id"])["applied"] is True

    floating_ip, action = client.create_floating_ip(name="vip", server=server_id)
    assert action is not None and action.wait(timeout=60, poll_interval=0.2).status == "success"
    assert client.floating_ips_retrieve(floating_ip["id"])["server_id"] == server_id
    unassigned, none = client.create_floating_ip(name="spare", datacentre=platform.fleet.dc.code)
    assert none is None and unassigned["status"] == "available"
