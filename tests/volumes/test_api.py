"""The volumes API: status codes, field errors, label selectors and isolation between organisations."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.volumes import services
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from tests.volumes.conftest import server_row

URL = "/api/v1/volumes/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _body(env, **extra):
    body = {
        "organisation_id": env.personas.org.pk,
        "name": "data",
        "tier": env.tier.code,
        "size_gb": 50,
        "datacentre": env.shop.dc.code,
    }
    body.update(extra)
    return body


def test_create_answers_201_with_the_volume_and_its_action_and_lists_with_label_selector(volumes_env):
    owner = _client(volumes_env.personas.owner)
    response = owner.post(URL, _body(volumes_env, labels={"env": "prod"}), format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert set(created) == {"volume", "action"}
    assert created["action"]["type"] == "create" and created["action"]["status"] == "pending"
    volume_id = created["volume"]["id"]
    assert created["action"]["resource"] == {"type": "volume", "id": volume_id}
    assert "volume_id" not in created["action"]  # the shared Action shape, as every resource's
    assert (created["volume"]["status"], created["volume"]["labels"]) == ("creating", {"env": "prod"})
    owner.post(URL, _body(volumes_env, name="other", labels={"env": "dev"}), format="json")
    listed = owner.get(URL, {"label_selector": "env=prod"})
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [volume_id]
    detail = owner.get(f"{URL}{volume_id}/").json()
    assert (detail["tier"], detail["size_gb"], detail["status"], detail["price_monthly"]) == (
        volumes_env.tier.code,
        50,
        "creating",
        "7.50",
    )
    assert owner.get(f"{URL}{volume_id}/actions/").json()["results"][0]["type"] == "create"
    assert owner.get(URL, {"bogus": "1"}).status_code == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [("size_gb", 5), ("size_gb", 10_001), ("tier", "VPS-TEST"), ("datacentre", "NOPE-1"), ("name", "")],
)
def test_bad_input_is_a_400_naming_the_field(volumes_env, field, value):
    response = _client(volumes_env.personas.owner).post(URL, _body(volumes_env, **{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], response.json()


def test_capacity_exhausted_is_a_409(volumes_env):
    owner = _client(volumes_env.personas.owner)
    assert owner.post(URL, _body(volumes_env, size_gb=600), format="json").status_code == 201
    response = owner.post(URL, _body(volumes_env, name="more", size_gb=10), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "capacity_exhausted"


def _volume(env, **fields) -> Volume:
    volume, _action = services.volume_create(
        actor=env.personas.owner,
        organisation=env.personas.org,
        project=env.personas.project,
        name=fields.pop("name", "data"),
        tier=env.tier,
        size_gb=20,
        datacentre=env.shop.dc,
    )
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.AVAILABLE, volid="ceph-nvme:vm-899999-disk-0")
    volume.actions.update(status="success")
    volume.refresh_from_db()
    return volume


def test_actions_update_and_delete(volumes_env):
    volume = _volume(volumes_env)
    server = server_row(volumes_env)
    owner = _client(volumes_env.personas.owner)
    url = f"{URL}{volume.public_id}/"
    assert owner.post(url + "actions/detach/").status_code == 409
    assert owner.post(url + "actions/resize/", {"size_gb": 30}, format="json").status_code == 409
    assert owner.post(url + "actions/attach/", {}, format="json").status_code == 400
    response = owner.post(url + "actions/attach/", {"server_id": str(server.public_id)}, format="json")
    assert response.status_code == 202 and response.json()["type"] == "attach"
    again = owner.post(url + "actions/attach/", {"server_id": str(server.public_id)}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "volume_busy"
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.IN_USE, slot="scsi1")
    volume.actions.update(status="success")
    assert owner.get(url).json()["server_id"] == str(server.public_id)
    assert owner.get(url).json()["device_path"].startswith("/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_vol-")
    assert owner.delete(url).status_code == 409
    assert owner.post(url + "actions/resize/", {"size_gb": 10}, format="json").status_code == 400
    assert owner.post(url + "actions/resize/", {"size_gb": 30}, format="json").status_code == 202
    patched = owner.patch(url, {"name": "renamed", "delete_protection": True}, format="json")
    assert patched.status_code == 200 and patched.json()["delete_protection"] is True


def test_delete_of_a_protected_volume_is_a_409(volumes_env):
    volume = _volume(volumes_env)
    owner = _client(volumes_env.personas.owner)
    url = f"{URL}{volume.public_id}/"
    owner.patch(url, {"delete_protection": True}, format="json")
    response = owner.delete(url)
    assert response.status_code == 409 and response.json()["error"]["code"] == "delete_protected"
    owner.patch(url, {"delete_protection": False}, format="json")
    assert owner.delete(url).status_code == 202


def test_another_organisation_gets_404_and_a_viewer_403(volumes_env):
    volume = _volume(volumes_env)
    url = f"{URL}{volume.public_id}/"
    outsider = _client(volumes_env.personas.outsider)
    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, {"name": "x"}, format="json").status_code == 404
    assert outsider.delete(url).status_code == 404
    assert outsider.post(url + "actions/detach/").status_code == 404
    assert outsider.get(URL).json()["results"] == []
    viewer = _client(volumes_env.personas.viewer)
    assert viewer.get(url).status_code == 200
    assert viewer.delete(url).status_code == 403
    assert viewer.post(URL, _body(volumes_env, name="v"), format="json").status_code == 403
    assert _client(volumes_env.personas.outsider).post(
        URL, _body(volumes_env, name="o"), format="json"
    ).status_code in (
        403,
        404,
    )
    assert APIClient().get(URL).status_code in (401, 403)
