"""The networks API: status codes, field errors, label selectors, quotas and isolation between organisations."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.instances.models import Action
from apps.networks.models import Attachment, Network, NetworkQuota
from tests.networks.conftest import network_row, server_row

URL = "/api/v1/networks/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _body(env, **extra):
    body = {
        "organisation_id": env.personas.org.pk,
        "name": "backend",
        "datacentre": env.shop.dc.code,
        "ip_range": "10.0.0.0/16",
    }
    body.update(extra)
    return body


def test_create_answers_201_with_the_network_and_its_action_and_lists_with_label_selector(networks_env):
    owner = _client(networks_env.personas.owner)
    response = owner.post(URL, _body(networks_env, labels={"env": "prod"}, subnets=["10.0.1.0/24"]), format="json")
    assert response.status_code == 201, response.json()
    assert set(response.json()) == {"network", "action"}
    assert response.json()["network"]["status"] == "creating"
    assert response.json()["network"]["id"] == response.json()["action"]["resource"]["id"]
    action = response.json()["action"]
    assert (action["type"], action["status"], action["resource"]["type"]) == ("create", "pending", "network")
    network_id = action["resource"]["id"]
    assert owner.post(URL, _body(networks_env, name="other", labels={"env": "dev"}), format="json").status_code == 201
    listed = owner.get(URL, {"label_selector": "env=prod"})
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [network_id]
    detail = owner.get(f"{URL}{network_id}/").json()
    assert (detail["ip_range"], detail["status"], detail["datacentre"]) == ("10.0.0.0/16", "creating", "PAR-1")
    assert [s["cidr"] for s in detail["subnets"]] == ["10.0.1.0/24"]
    assert detail["subnets"][0]["capacity"] == 253
    assert owner.get(f"{URL}{network_id}/subnets/").json()["results"][0]["cidr"] == "10.0.1.0/24"
    assert owner.get(f"{URL}{network_id}/actions/").json()["results"][0]["type"] == "create"
    assert owner.get(f"/api/v1/actions/{action['id']}/").status_code == 200
    assert owner.get(URL, {"bogus": "1"}).status_code == 400
    assert owner.get(URL, {"datacentre": "PAR-1", "status": "creating"}).json()["count"] == 2
    patched = owner.patch(f"{URL}{network_id}/", {"name": "renamed", "labels": {"a": "b"}}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "renamed" and patched.json()["labels"] == {"a": "b"}


def test_vnets_and_tags_are_distinct(networks_env):
    owner = _client(networks_env.personas.owner)
    for name in ("a", "b", "c"):
        assert owner.post(URL, _body(networks_env, name=name), format="json").status_code == 201
    rows = list(Network.objects.values_list("tag", "vnet"))
    assert len({t for t, _v in rows}) == 3 and len({v for _t, v in rows}) == 3
    assert all(1000 <= t <= 4000 and len(v) <= 8 for t, v in rows)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"ip_range": "8.8.8.0/24"}, "ip_range"),
        ({"ip_range": "10.0.0.1/16"}, "ip_range"),
        ({"ip_range": "banana"}, "ip_range"),
        ({"ip_range": "10.0.0.0/28"}, "ip_range"),
        ({"ip_range": "10.255.0.0/20"}, "ip_range"),
        ({"ip_range": "172.31.0.0/16"}, "ip_range"),
        ({"subnets": ["10.1.0.0/24"]}, "subnets"),
        ({"subnets": ["10.0.0.0/24", "10.0.0.128/25"]}, "subnets"),
        ({"subnets": ["10.0.0.0/30"]}, "subnets"),
        ({"subnets": ["nope"]}, "subnets"),
        ({"datacentre": "NOPE-1"}, "datacentre"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(networks_env, extra, field):
    response = _client(networks_env.personas.owner).post(URL, _body(networks_env, **extra), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()


def test_a_range_overlapping_a_platform_pool_names_it(networks_env, settings):
    settings.NETWORKS_PLATFORM_RANGES = ["192.168.100.0/24"]
    response = _client(networks_env.personas.owner).post(
        URL, _body(networks_env, ip_range="192.168.0.0/16"), format="json"
    )
    assert response.status_code == 400
    assert "192.168.100.0/24" in response.json()["error"]["fields"]["ip_range"][0]


def test_quota_is_a_409_and_staff_may_raise_it(networks_env):
    owner = _client(networks_env.personas.owner)
    NetworkQuota.objects.create(organisation=networks_env.personas.org, max_networks=1)
    assert owner.post(URL, _body(networks_env), format="json").status_code == 201
    response = owner.post(URL, _body(networks_env, name="two"), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "quota_exceeded"
    NetworkQuota.objects.filter(organisation=networks_env.personas.org).update(max_networks=2)
    assert owner.post(URL, _body(networks_env, name="two"), format="json").status_code == 201


def test_a_datacentre_without_zone_is_a_409(networks_env):
    networks_env.zone.enabled = False
    networks_env.zone.save()
    response = _client(networks_env.personas.owner).post(URL, _body(networks_env), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "networks_unavailable"


def test_attach_detach_and_delete(networks_env):
    network = network_row(networks_env, ip_range="10.0.0.0/24", subnets=["10.0.0.0/29"])
    server = server_row(networks_env)
    owner = _client(networks_env.personas.owner)
    url = f"{URL}{network.public_id}/"
    assert owner.post(url + "actions/attach/", {}, format="json").status_code == 400
    assert owner.post(url + "actions/detach/", {"server_id": str(server.public_id)}, format="json").status_code == 409
    bad_ip = owner.post(url + "actions/attach/", {"server_id": str(server.public_id), "ip": "10.0.0.1"}, format="json")
    assert bad_ip.status_code == 400 and "ip" in bad_ip.json()["error"]["fields"]
    response = owner.post(
        url + "actions/attach/", {"server_id": str(server.public_id), "ip": "10.0.0.5"}, format="json"
    )
    assert response.status_code == 202, response.json()
    assert response.json()["type"] == "attach" and response.json()["instance_id"] == str(server.public_id)
    again = owner.post(url + "actions/attach/", {"server_id": str(server.public_id)}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_attached"
    other = server_row(networks_env, name="web-2", vmid=100_501)
    taken = owner.post(url + "actions/attach/", {"server_id": str(other.public_id), "ip": "10.0.0.5"}, format="json")
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "address_in_use"
    auto = owner.post(url + "actions/attach/", {"server_id": str(other.public_id)}, format="json")
    assert auto.status_code == 202
    servers = {row["server_name"]: row for row in owner.get(url).json()["servers"]}
    assert servers["web-1"]["address"] == "10.0.0.5" and servers["web-2"]["address"] == "10.0.0.2"
    assert servers["web-1"]["interface"] == "net1"
    assert owner.get(URL, {"server": str(server.public_id)}).json()["count"] == 1
    busy = owner.post(url + "actions/detach/", {"server_id": str(server.public_id)}, format="json")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "network_busy"  # still attaching
    Attachment.objects.update(status="attached")
    Action.objects.update(status="success")
    not_empty = owner.delete(url)
    assert not_empty.status_code == 409 and not_empty.json()["error"]["code"] == "network_not_empty"
    for s in (server, other):
        assert owner.post(url + "actions/detach/", {"server_id": str(s.public_id)}, format="json").status_code == 202
    Attachment.objects.update(status="detached")
    Action.objects.update(status="success")
    deleted = owner.delete(url)
    assert deleted.status_code == 202 and deleted.json()["type"] == "delete"
    assert owner.delete(url).status_code == 409


def test_a_server_of_another_project_or_a_stopped_one_in_transition_is_refused(networks_env):
    from apps.teams.services import project_create

    network = network_row(networks_env)
    other_project = project_create(organisation=networks_env.personas.org, name="Other", actor=None)
    elsewhere = server_row(networks_env, project=other_project)
    owner = _client(networks_env.personas.owner)
    url = f"{URL}{network.public_id}/actions/attach/"
    response = owner.post(url, {"server_id": str(elsewhere.public_id)}, format="json")
    assert response.status_code == 400 and "server_id" in response.json()["error"]["fields"]
    starting = server_row(networks_env, name="starting", vmid=100_777, status="provisioning")
    response = owner.post(url, {"server_id": str(starting.public_id)}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "server_not_ready"


def test_the_last_address_then_network_full(networks_env):
    network = network_row(networks_env, ip_range="10.0.0.0/24", subnets=["10.0.0.0/29"])
    owner = _client(networks_env.personas.owner)
    url = f"{URL}{network.public_id}/actions/attach/"
    for i in range(5):
        server = server_row(networks_env, name=f"s{i}", vmid=100_600 + i)
        assert owner.post(url, {"server_id": str(server.public_id)}, format="json").status_code == 202
    sixth = server_row(networks_env, name="s6", vmid=100_699)
    response = owner.post(url, {"server_id": str(sixth.public_id)}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "network_full"
    busy = owner.post(f"{URL}{network.public_id}/subnets/", {"cidr": "10.0.0.16/28"}, format="json")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "network_busy"  # attaches still running
    Action.objects.update(status="success")
    overlap = owner.post(f"{URL}{network.public_id}/subnets/", {"cidr": "10.0.0.0/28"}, format="json")
    assert overlap.status_code == 400 and "subnets" in overlap.json()["error"]["fields"]  # overlaps 10.0.0.0/29
    added = owner.post(f"{URL}{network.public_id}/subnets/", {"cidr": "10.0.0.16/28"}, format="json")
    assert added.status_code == 202 and added.json()["type"] == "apply"
    Action.objects.update(status="success")
    assert owner.post(url, {"server_id": str(sixth.public_id)}, format="json").status_code == 202
    assert Attachment.objects.get(instance=sixth).address == "10.0.0.18"


def test_another_organisation_gets_404_and_a_viewer_403(networks_env):
    network = network_row(networks_env)
    url = f"{URL}{network.public_id}/"
    outsider = _client(networks_env.personas.outsider)
    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, {"name": "x"}, format="json").status_code == 404
    assert outsider.delete(url).status_code == 404
    assert outsider.get(url + "actions/").status_code == 404
    assert outsider.get(URL).json()["results"] == []
    viewer = _client(networks_env.personas.viewer)
    assert viewer.get(url).status_code == 200
    assert viewer.delete(url).status_code == 403
    assert viewer.post(URL, _body(networks_env, name="v"), format="json").status_code == 403
    # The outsider's own server cannot join Acme's network, nor Acme's server the outsider's: 404 on the other.
    assert APIClient().get(URL).status_code in (401, 403)


def test_a_server_cannot_join_two_networks_with_overlapping_ranges(networks_env):
    first = network_row(networks_env, name="first", ip_range="10.0.0.0/16")
    second = network_row(networks_env, name="second", ip_range="10.0.5.0/24")
    third = network_row(networks_env, name="third", ip_range="10.1.0.0/16")
    server = server_row(networks_env)
    owner = _client(networks_env.personas.owner)
    body = {"server_id": str(server.public_id)}
    assert owner.post(f"{URL}{first.public_id}/actions/attach/", body, format="json").status_code == 202
    response = owner.post(f"{URL}{second.public_id}/actions/attach/", body, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "range_overlap"
    assert "10.0.0.0/16" in response.json()["error"]["message"]
    third_attach = owner.post(f"{URL}{third.public_id}/actions/attach/", body, format="json")
    assert third_attach.status_code == 202
    assert Attachment.objects.get(network=third).nic_index == 2
