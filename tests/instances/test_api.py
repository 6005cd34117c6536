"""Instances API: permissions matrix, 202 + Action, query count, SSH keys and their validation."""

from __future__ import annotations

import base64
import struct

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.core.errors import ValidationFailed
from apps.infrastructure import services as infra
from apps.instances import services
from apps.instances.models import Instance, SshKey
from apps.instances.rules import ssh_key_parse
from tests.instances.conftest import ED25519, create_instance

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def instance(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inst, _action = create_instance(fleet, personas)
    inst.refresh_from_db()
    return inst


@pytest.mark.parametrize(
    ("persona", "read", "write"),
    [("owner", 200, 202), ("admin", 200, 202), ("member", 200, 202), ("viewer", 200, 403), ("outsider", 404, 404)],
)
def test_permission_matrix(personas, instance, persona, read, write, django_capture_on_commit_callbacks):
    client = client_for(getattr(personas, persona))
    url = f"/api/v1/instances/{instance.public_id}/"
    assert client.get(url).status_code == read
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url + "actions/reboot/")
    assert response.status_code == write, response.content
    if write == 202:
        body = response.json()
        assert body["type"] == "reboot"
        polled = client.get(f"/api/v1/actions/{body['id']}/")
        assert polled.status_code == 200 and polled.json()["status"] == "success"


def test_anonymous_gets_401(instance):
    assert client_for(None).get("/api/v1/instances/").status_code in (401, 403)


def test_viewer_cannot_stop_instance(personas, instance):
    assert client_for(personas.viewer).post(f"/api/v1/instances/{instance.public_id}/actions/stop/").status_code == 403


def test_patch_and_delete_with_protection(personas, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.member)
    url = f"/api/v1/instances/{instance.public_id}/"
    response = client.patch(url, {"name": "db-1", "labels": {"env": "prod"}, "delete_protection": True}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "db-1"
    assert client.delete(url).json()["error"]["code"] == "delete_protected"
    assert client.patch(url, {"name": "Not A Hostname!"}, format="json").status_code == 400
    client.patch(url, {"delete_protection": False}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(url)
    assert response.status_code == 202
    assert client.get("/api/v1/instances/").json()["count"] == 0


def test_actions_snapshots_and_metrics_endpoints(personas, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.owner)
    base = f"/api/v1/instances/{instance.public_id}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(base + "snapshots/", {"name": "before"}, format="json")
    assert response.status_code == 202
    snap_id = response.json()["snapshot"]["id"]
    assert client.get(base + "snapshots/").json()["results"][0]["status"] == "available"
    assert client.get(base + "actions/").json()["count"] == 2
    metrics = client.get(base + "metrics/?timeframe=hour")
    assert metrics.status_code == 200 and metrics.json()["points"]
    assert client.get(base + "metrics/?timeframe=decade").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(base + f"snapshots/{snap_id}/").status_code == 202
    response = client.post(base + "actions/reset_password/")
    assert response.status_code == 202 and len(response.json()["password"]) == 20
    assert client.post(base + "actions/explode/").status_code == 404


def test_instance_list_query_count_is_constant(fleet, personas, django_assert_num_queries):
    reservation = infra.placement_reserve(offer=fleet.vps_offer, datacentre=fleet.dc, image=fleet.ubuntu24)
    services.instance_create(
        organisation=personas.org,
        project=personas.project,
        offer=fleet.vps_offer,
        datacentre=fleet.dc,
        image=fleet.ubuntu24,
        name="one",
        ssh_keys=[],
        user_data="",
        reservation=reservation,
        price_hourly=fleet.vps_offer.price_hourly,
        price_monthly=fleet.vps_offer.price_monthly,
        actor=personas.owner,
    )
    client = client_for(personas.owner)
    client.get("/api/v1/instances/")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/instances/").json()["count"] == 1
    template = Instance.objects.get()
    for n in range(49):
        template.pk = None
        template.public_id = __import__("uuid").uuid4()
        template.vmid = 200_000 + n
        template.reservation = None
        template.save()
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get("/api/v1/instances/").json()["count"] == 50


def _rsa_key(bits: int) -> str:
    def string(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b

    modulus = (1 << (bits - 1)) | 1
    blob = string(b"ssh-rsa") + string(b"\x01\x00\x01") + string(b"\x00" + modulus.to_bytes(bits // 8, "big"))
    return "ssh-rsa " + base64.b64encode(blob).decode() + " rsa@test"


def test_ssh_key_validation():
    parsed = ssh_key_parse(ED25519)
    assert (
        parsed.key_type == "ssh-ed25519" and parsed.fingerprint.startswith("SHA256:") and len(parsed.fingerprint) == 50
    )
    assert ssh_key_parse(_rsa_key(2048)).bits == 2048
    for bad in (
        _rsa_key(1024),
        "ssh-ed25519 notbase64!!",
        "ssh-dss AAAAB3NzaC1kc3M=",
        "ssh-rsa " + ED25519.split()[1],
        "",
    ):
        with pytest.raises(ValidationFailed):
            ssh_key_parse(bad)


def test_ssh_key_api_crud_and_isolation(personas):
    client = client_for(personas.member)
    response = client.post(
        "/api/v1/ssh-keys/", {"organisation_id": personas.org.pk, "name": "alice", "public_key": ED25519}, format="json"
    )
    assert response.status_code == 201, response.content
    key = response.json()
    assert key["fingerprint"].startswith("SHA256:")
    duplicate = client.post(
        "/api/v1/ssh-keys/", {"organisation_id": personas.org.pk, "name": "again", "public_key": ED25519}, format="json"
    )
    assert duplicate.status_code == 400 and "public_key" in duplicate.json()["error"]["fields"]
    bad = client.post(
        "/api/v1/ssh-keys/",
        {"organisation_id": personas.org.pk, "name": "bad", "public_key": "ssh-rsa AAAA"},
        format="json",
    )
    assert bad.status_code == 400
    assert client_for(personas.viewer).get("/api/v1/ssh-keys/").json()["count"] == 1
    viewer_add = client_for(personas.viewer).post(
        "/api/v1/ssh-keys/",
        {"organisation_id": personas.org.pk, "name": "v", "public_key": _rsa_key(2048)},
        format="json",
    )
    assert viewer_add.status_code == 403
    assert client_for(personas.outsider).get(f"/api/v1/ssh-keys/{key['id']}/").status_code == 404
    assert (
        client.patch(f"/api/v1/ssh-keys/{key['id']}/", {"name": "alice-2"}, format="json").json()["name"] == "alice-2"
    )
    assert client.delete(f"/api/v1/ssh-keys/{key['id']}/").status_code == 204
    assert not SshKey.objects.exists()
