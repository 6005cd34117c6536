"""The alerts API: CRUD, field errors, label selectors, quota, incidents, roles and tenant isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.alerts import services
from apps.alerts.models import AlertPolicy
from tests.alerts.conftest import points, server_row

URL = "/api/v1/alert-policies/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def server(shop, personas):
    return server_row(shop, personas)


def _body(personas, server, **extra):
    body = {
        "organisation_id": personas.org.pk,
        "name": "cpu-high",
        "metric": "cpu",
        "comparison": "gt",
        "threshold": "80",
        "duration_minutes": 10,
        "server_id": str(server.public_id),
    }
    body.update(extra)
    return body


def test_create_read_update_list_and_delete(personas, server, settings):
    settings.ALERTS_WEBHOOK_ALLOW_LOOPBACK = False
    owner = _client(personas.owner)
    response = owner.post(
        URL,
        _body(personas, server, labels={"team": "ops"}, webhook_url="https://hooks.example.com/alerts"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["unit"] == "%" and created["threshold"] == "80.00" and created["server_id"] == str(server.public_id)
    assert len(created["webhook_secret"]) == 64
    detail = owner.get(f"{URL}{created['id']}/").json()
    assert "webhook_secret" not in detail and detail["duration_minutes"] == 10

    patched = owner.patch(
        f"{URL}{created['id']}/", {"label_selector": "env=prod", "server_id": None, "threshold": "90"}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["server_id"] is None and patched.json()["label_selector"] == "env=prod"
    assert patched.json()["threshold"] == "90.00"

    owner.post(URL, _body(personas, server, name="mem", metric="memory"), format="json")
    listed = owner.get(URL, {"label_selector": "team=ops"}).json()
    assert [p["name"] for p in listed["results"]] == ["cpu-high"]
    assert owner.get(URL, {"label_selector": "team in ("}).status_code == 400
    assert owner.get(URL, {"metric": "memory"}).json()["count"] == 1

    assert owner.delete(f"{URL}{created['id']}/").status_code == 204
    assert not AlertPolicy.objects.filter(public_id=created["id"]).exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"threshold": "150"}, "threshold"),
        ({"threshold": "-1"}, "threshold"),
        ({"metric": "gpu"}, "metric"),
        ({"comparison": ">="}, "comparison"),
        ({"duration_minutes": 7}, "duration_minutes"),
        ({"label_selector": "env=prod"}, "instance_id"),
        ({"server_id": None, "label_selector": "env in ("}, "server_id"),
        ({"emails": ["not-an-address"]}, "emails.0"),
        ({"webhook_url": "http://10.0.0.1/hook"}, "webhook_url"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(personas, server, extra, field, settings):
    settings.ALERTS_WEBHOOK_ALLOW_LOOPBACK = False
    body = _body(personas, server, **extra)
    if body.get("server_id") is None:
        body.pop("server_id")
        field = "label_selector"
    response = _client(personas.owner).post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()


def test_network_thresholds_are_bytes_per_second(personas, server):
    response = _client(personas.owner).post(
        URL, _body(personas, server, metric="network_in", threshold="50000000"), format="json"
    )
    assert response.status_code == 201 and response.json()["unit"] == "bytes/s"


def test_quota_is_a_409(personas, server, settings):
    settings.ALERTS_MAX_POLICIES_PER_ORGANISATION = 1
    owner = _client(personas.owner)
    assert owner.post(URL, _body(personas, server), format="json").status_code == 201
    response = owner.post(URL, _body(personas, server, name="second"), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "quota_exceeded"


def test_roles_and_isolation(personas, server):
    policy = services.alert_policy_create(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        name="cpu",
        metric="cpu",
        comparison="gt",
        threshold=Decimal("50"),
        instance=server,
    )
    detail = f"{URL}{policy.public_id}/"
    viewer = _client(personas.viewer)
    assert viewer.get(detail).status_code == 200
    assert viewer.patch(detail, {"name": "x"}, format="json").status_code == 403
    assert viewer.post(URL, _body(personas, server, name="v"), format="json").status_code == 403
    outsider = _client(personas.outsider)
    assert outsider.get(detail).status_code == 404
    assert outsider.get(f"{detail}incidents/").status_code == 404
    assert outsider.delete(detail).status_code == 404
    assert outsider.get(URL).json()["count"] == 0
    # An outsider cannot point a policy of their own at another organisation's server.
    body = _body(personas, server, organisation_id=personas.other_org.pk)
    assert outsider.post(URL, body, format="json").status_code == 404
    assert APIClient().get(URL).status_code in (401, 403)


def test_incidents_list_says_firing_then_resolved(personas, server):
    policy = services.alert_policy_create(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        name="cpu",
        metric="cpu",
        comparison="gt",
        threshold=Decimal("50"),
        instance=server,
        email_members=False,
    )
    now = timezone.now()
    services.alert_policy_evaluate(policy=policy, instance=server, points=points(0.9, now=now.timestamp()), now=now)
    owner = _client(personas.owner)
    rows = owner.get(f"{URL}{policy.public_id}/incidents/").json()["results"]
    assert [(r["state"], r["value"], r["server_name"]) for r in rows] == [("firing", "90.00", "db-1")]
    services.alert_policy_evaluate(policy=policy, instance=server, points=points(0.2, now=now.timestamp()), now=now)
    rows = owner.get(f"{URL}{policy.public_id}/incidents/").json()["results"]
    assert rows[0]["state"] == "resolved" and rows[0]["resolved_at"] and rows[0]["last_value"] == "20.00"


def test_patch_that_sets_the_first_webhook_url_answers_the_new_secret_once(personas, server, settings):
    settings.ALERTS_WEBHOOK_ALLOW_LOOPBACK = False
    owner = _client(personas.owner)
    created = owner.post(URL, _body(personas, server), format="json").json()
    assert created["webhook_secret"] == ""
    detail_url = f"{URL}{created['id']}/"

    first = owner.patch(detail_url, {"webhook_url": "https://hooks.example.com/a"}, format="json")
    assert first.status_code == 200, first.json()
    secret = first.json()["webhook_secret"]
    stored = AlertPolicy.objects.get(public_id=created["id"]).webhook_secret
    assert len(secret) == 64 and secret == stored

    # Later changes (even of the URL) keep the secret and never show it again.
    again = owner.patch(detail_url, {"webhook_url": "https://hooks.example.com/b", "threshold": "70"}, format="json")
    assert again.status_code == 200 and "webhook_secret" not in again.json()
    assert AlertPolicy.objects.get(public_id=created["id"]).webhook_secret == stored
    assert "webhook_secret" not in owner.get(detail_url).json()
    # Removing the URL and adding another keeps the old secret too (it is only made once).
    owner.patch(detail_url, {"webhook_url": ""}, format="json")
    back = owner.patch(detail_url, {"webhook_url": "https://hooks.example.com/c"}, format="json")
    assert back.status_code == 200 and "webhook_secret" not in back.json()
