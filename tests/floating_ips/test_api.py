"""The floating IPs API: status codes, field errors, label selectors, actions and isolation between organisations."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.floating_ips.conftest import server_row

pytestmark = pytest.mark.django_db
URL = "/api/v1/floating_ips/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _body(env, **extra):
    body = {"organisation_id": env.personas.org.pk, "name": "vip", "datacentre": env.shop.dc.code}
    body.update(extra)
    return body


def test_create_get_list_patch_assign_unassign_delete(fip_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    owner = _client(fip_env.personas.owner)
    response = owner.post(URL, _body(fip_env, labels={"env": "prod"}), format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["action"] is None
    fip = created["floating_ip"]
    assert (fip["type"], fip["status"], fip["datacentre"], fip["server_id"], fip["price_monthly"]) == (
        "ipv4",
        "available",
        "PAR-1",
        None,
        "3.00",
    )
    owner.post(URL, _body(fip_env, name="other", labels={"env": "dev"}), format="json")
    listed = owner.get(URL, {"label_selector": "env=prod"})
    assert [row["id"] for row in listed.json()["results"]] == [fip["id"]]
    assert owner.get(URL, {"address": fip["address"]}).json()["results"][0]["id"] == fip["id"]
    assert owner.get(URL, {"bogus": "1"}).status_code == 400

    patched = owner.patch(f"{URL}{fip['id']}/", {"name": "web-vip", "delete_protection": True}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "web-vip"
    assert owner.delete(f"{URL}{fip['id']}/").json()["error"]["code"] == "delete_protected"

    server = server_row(fip_env)
    assigned = owner.post(f"{URL}{fip['id']}/actions/assign/", {"server_id": str(server.public_id)}, format="json")
    assert assigned.status_code == 202, assigned.json()
    body = assigned.json()
    assert (body["type"], body["resource"], body["instance_id"]) == (
        "assign",
        {"type": "floating_ip", "id": fip["id"]},
        str(server.public_id),
    )
    again = owner.post(f"{URL}{fip['id']}/actions/assign/", {"server_id": str(server.public_id)}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "floating_ip_busy")
    actions = owner.get(f"{URL}{fip['id']}/actions/").json()["results"]
    assert [a["type"] for a in actions] == ["assign"]
    assert owner.get(f"/api/v1/actions/{body['id']}/").status_code == 200
    assert owner.get(f"{URL}{fip['id']}/").json()["server_id"] == str(server.public_id)


def test_create_with_a_server_takes_its_organisation_project_and_datacentre(fip_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    server = server_row(fip_env)
    response = _client(fip_env.personas.owner).post(
        URL, {"name": "vip", "server_id": str(server.public_id)}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["action"]["type"] == "assign"
    assert response.json()["floating_ip"]["project_id"] == server.project_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"datacentre": "NOPE-1"}, "datacentre"),
        ({"labels": {"bad key!": "x"}}, "labels"),
        ({"organisation_id": None, "datacentre": "PAR-1"}, "organisation_id"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(fip_env, body, field):
    data = _body(fip_env, **body)
    data = {k: v for k, v in data.items() if v is not None}
    response = _client(fip_env.personas.owner).post(URL, data, format="json")
    assert response.status_code == 400, response.json()
    assert field in str(response.json())


def test_unassigning_an_unassigned_floating_ip_is_a_409(fip_env):
    owner = _client(fip_env.personas.owner)
    fip = owner.post(URL, _body(fip_env), format="json").json()["floating_ip"]
    response = owner.post(f"{URL}{fip['id']}/actions/unassign/")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_assigned")


def test_quota_is_a_409_and_viewers_get_403_outsiders_404(fip_env, settings):
    settings.FLOATING_IPS_DEFAULT_QUOTAS = {"max_floating_ips": 1}
    owner = _client(fip_env.personas.owner)
    fip = owner.post(URL, _body(fip_env), format="json").json()["floating_ip"]
    over = owner.post(URL, _body(fip_env, name="b"), format="json")
    assert (over.status_code, over.json()["error"]["code"]) == (409, "quota_exceeded")
    viewer = _client(fip_env.personas.viewer)
    assert viewer.get(f"{URL}{fip['id']}/").status_code == 200
    assert viewer.patch(f"{URL}{fip['id']}/", {"name": "x"}, format="json").status_code == 403
    assert viewer.post(URL, _body(fip_env, name="c"), format="json").status_code == 403
    outsider = _client(fip_env.personas.outsider)
    assert outsider.get(f"{URL}{fip['id']}/").status_code == 404
    assert outsider.get(URL).json()["results"] == []
    assert outsider.delete(f"{URL}{fip['id']}/").status_code == 404
