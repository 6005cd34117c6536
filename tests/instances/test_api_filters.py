"""List filters, sorting, strict query parameters and pagination headers of the instances API.

Rows are created directly (no Proxmox): filters are reads. Also covers SSH
keys, snapshots and the organisation-wide ``GET /api/v1/actions/``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.instances.models import Action, Instance, Snapshot, SshKey
from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory, OsImageFactory

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def catalogue():
    vps = FamilyFactory(slug="vps", name="VPS")
    return {
        "par": DatacentreFactory(code="PAR-1"),
        "fra": DatacentreFactory(code="FRA-1"),
        "small": OfferFactory(family=vps, code="VPS-S"),
        "big": OfferFactory(family=vps, code="VPS-M"),
        "image": OsImageFactory(slug="ubuntu-24.04"),
    }


def _instance(personas, catalogue, name, *, status="running", dc="par", offer="small", labels=None, org=None):
    org = org or personas.org
    return Instance.objects.create(
        organisation=org,
        project=org.projects.get(is_default=True),
        name=name,
        labels=labels or {},
        offer=catalogue[offer],
        datacentre=catalogue[dc],
        image=catalogue["image"],
        status=status,
        price_hourly=Decimal("0.0397"),
        price_monthly=Decimal("29.00"),
    )


@pytest.fixture
def servers(personas, catalogue):
    return {
        "web-1": _instance(personas, catalogue, "web-1", labels={"env": "prod", "tier": "web"}),
        "web-2": _instance(personas, catalogue, "web-2", status="stopped", labels={"env": "dev", "tier": "web"}),
        "db-1": _instance(personas, catalogue, "db-1", dc="fra", offer="big", labels={"env": "prod", "tier": "db"}),
        "gone": _instance(personas, catalogue, "gone", status="deleted", labels={"env": "prod"}),
        "theirs": _instance(personas, catalogue, "theirs", labels={"env": "prod"}, org=personas.other_org),
    }


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", {"web-1", "web-2", "db-1"}),
        ("?status=running", {"web-1", "db-1"}),
        ("?status=running&status=stopped", {"web-1", "web-2", "db-1"}),
        ("?status=deleted", set()),
        ("?datacentre=FRA-1", {"db-1"}),
        ("?offer=VPS-S", {"web-1", "web-2"}),
        ("?image=ubuntu-24.04", {"web-1", "web-2", "db-1"}),
        ("?name=web-2", {"web-2"}),
        ("?label_selector=env%3Dprod", {"web-1", "db-1"}),
        ("?label_selector=env!%3Dprod", {"web-2"}),
        ("?label_selector=tier%20in%20(web,cache)", {"web-1", "web-2"}),
        ("?label_selector=tier%20notin%20(web),env%3Dprod", {"db-1"}),
        ("?label_selector=!tier", set()),
        ("?status=running&label_selector=tier%3Dweb", {"web-1"}),
    ],
)
def test_instance_list_filters(personas, servers, query, names):
    assert set(_names(_client(personas.owner).get("/api/v1/instances/" + query))) == names


def test_instance_list_filters_by_project_and_organisation(personas, servers):
    project = personas.project
    client = _client(personas.owner)
    assert len(_names(client.get(f"/api/v1/instances/?project={project.pk}"))) == 3
    assert _names(client.get(f"/api/v1/instances/?organisation={personas.other_org.pk}")) == []
    other_project = personas.other_org.projects.get(is_default=True)
    assert _names(client.get(f"/api/v1/instances/?project={other_project.pk}")) == []


def test_instance_list_sorts(personas, servers):
    client = _client(personas.owner)
    assert _names(client.get("/api/v1/instances/?sort=name")) == ["db-1", "web-1", "web-2"]
    assert _names(client.get("/api/v1/instances/?sort=name:desc")) == ["web-2", "web-1", "db-1"]
    assert _names(client.get("/api/v1/instances/?sort=status:asc&sort=name:desc")) == ["web-1", "db-1", "web-2"]
    # A field named twice counts once, at its first place.
    assert _names(client.get("/api/v1/instances/?sort=name&sort=name:desc")) == ["db-1", "web-1", "web-2"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?stauts=running", "stauts"),  # a typo must not list (and let a script act on) everything
        ("?status=runing", "status.0"),
        ("?label_selector=env%3D%3D%3Dprod", "label_selector"),
        ("?label_selector=", "label_selector"),
        ("?sort=price", "sort.0"),
        ("?name=a&name=b", "name"),
        ("?name=", "name"),
        ("?project=99999999999999999999", "project"),
        ("?organisation=0", "organisation"),
        ("?project=abc", "project"),
        ("?per_page=false", "per_page"),
        ("?page=0", "page"),
    ],
)
def test_instance_list_refuses_bad_parameters(personas, servers, query, field):
    response = _client(personas.owner).get("/api/v1/instances/" + query)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error


def test_unknown_parameter_message_lists_the_known_ones(personas, servers):
    error = _client(personas.owner).get("/api/v1/instances/?foo=1").json()["error"]
    assert "label_selector" in error["fields"]["foo"][0]
    assert "status" in error["fields"]["foo"][0]


def test_bad_label_selector_says_what_is_wrong(personas, servers):
    error = _client(personas.owner).get("/api/v1/instances/?label_selector=env%3Dprod,tier%20in%20web").json()["error"]
    assert "Requirement 2" in error["fields"]["label_selector"][0]


def test_pagination_link_header_and_totals(personas, catalogue):
    for n in range(5):
        _instance(personas, catalogue, f"vm-{n}")
    response = _client(personas.owner).get("/api/v1/instances/?per_page=2&page=2&sort=name")
    body = response.json()
    assert (body["count"], body["page"], body["per_page"], body["last_page"]) == (5, 2, 2, 3)
    assert [r["name"] for r in body["results"]] == ["vm-2", "vm-3"]
    assert response["X-Total-Count"] == "5"
    links = {part.split("; ")[1]: part.split("; ")[0].strip("<>") for part in response["Link"].split(", ")}
    assert set(links) == {'rel="first"', 'rel="prev"', 'rel="next"', 'rel="last"'}
    assert "&page=" not in links['rel="first"'] and "sort=name" in links['rel="first"']
    assert "page=3" in links['rel="next"'] and "page=3" in links['rel="last"']
    assert body["next"] == links['rel="next"']

    first = _client(personas.owner).get("/api/v1/instances/?per_page=2")
    assert 'rel="prev"' not in first["Link"]
    last = _client(personas.owner).get("/api/v1/instances/?per_page=2&page=3")
    assert 'rel="next"' not in last["Link"] and last.json()["next"] is None

    past = _client(personas.owner).get("/api/v1/instances/?per_page=2&page=9")
    assert past.status_code == 200 and past.json()["results"] == []
    assert "page=3" in past.json()["previous"]


def test_empty_list_has_one_page(personas):
    response = _client(personas.owner).get("/api/v1/instances/")
    body = response.json()
    assert (body["count"], body["page"], body["last_page"]) == (0, 1, 1)
    assert 'rel="first"' in response["Link"] and 'rel="last"' in response["Link"]


def test_filtered_instance_list_query_count_is_constant(personas, catalogue):
    client = _client(personas.owner)
    url = "/api/v1/instances/?status=running&datacentre=PAR-1&label_selector=env%3Dprod&sort=name:desc"
    _instance(personas, catalogue, "one", labels={"env": "prod"})
    client.get(url)  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as few:
        assert len(_names(client.get(url))) == 1
    for n in range(10):
        _instance(personas, catalogue, f"more-{n}", labels={"env": "prod"})
    with CaptureQueriesContext(connection) as many:
        assert len(_names(client.get(url))) == 11
    assert len(many) == len(few)


# -- SSH keys and snapshots --------------------------------------------------------------------------
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"


def test_ssh_key_labels_and_filters(personas):
    client = _client(personas.owner)
    created = client.post(
        "/api/v1/ssh-keys/",
        {"organisation_id": personas.org.pk, "name": "alice", "public_key": ED25519, "labels": {"team": "core"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["labels"] == {"team": "core"}
    key_id = created.json()["id"]
    assert [k["name"] for k in client.get("/api/v1/ssh-keys/?label_selector=team%3Dcore").json()["results"]] == [
        "alice"
    ]
    assert client.get("/api/v1/ssh-keys/?label_selector=team%3Dops").json()["results"] == []
    relabelled = client.patch(f"/api/v1/ssh-keys/{key_id}/", {"labels": {"team": "ops"}}, format="json")
    assert relabelled.status_code == 200 and relabelled.json()["labels"] == {"team": "ops"}
    assert relabelled.json()["name"] == "alice"
    assert SshKey.objects.get(public_id=key_id).labels == {"team": "ops"}
    bad = client.patch(f"/api/v1/ssh-keys/{key_id}/", {"labels": {"team": "no spaces"}}, format="json")
    assert bad.status_code == 400 and "labels" in bad.json()["error"]["fields"]
    assert client.get("/api/v1/ssh-keys/?name=alice&sort=created_at:desc").json()["count"] == 1
    assert client.get("/api/v1/ssh-keys/?organisation_id=99999999999999999999").status_code == 400
    assert client.get("/api/v1/ssh-keys/?colour=blue").status_code == 400


def test_viewer_cannot_relabel_ssh_key(personas):
    key = SshKey.objects.create(organisation=personas.org, name="k", public_key=ED25519, fingerprint="f")
    response = _client(personas.viewer).patch(f"/api/v1/ssh-keys/{key.public_id}/", {"labels": {}}, format="json")
    assert response.status_code == 403


def test_snapshot_labels_filters_and_update(personas, catalogue):
    server = _instance(personas, catalogue, "snap-host")
    for name, labels, scheduled in [("a", {"keep": "yes"}, False), ("b", {}, True)]:
        Snapshot.objects.create(
            instance=server, name=name, proxmox_name=f"s{name}", labels=labels, scheduled=scheduled, status="available"
        )
    client = _client(personas.owner)
    url = f"/api/v1/instances/{server.public_id}/snapshots/"
    assert [s["name"] for s in client.get(url + "?label_selector=keep").json()["results"]] == ["a"]
    assert [s["name"] for s in client.get(url + "?scheduled=true").json()["results"]] == ["b"]
    assert [s["name"] for s in client.get(url + "?sort=name:asc").json()["results"]] == ["a", "b"]
    assert client.get(url + "?scheduled=maybe").status_code == 400
    assert client.get(url + "?state=available").status_code == 400
    snap = Snapshot.objects.get(name="b")
    patched = client.patch(f"{url}{snap.public_id}/", {"labels": {"keep": "no"}, "name": "b2"}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["labels"] == {"keep": "no"} and patched.json()["name"] == "b2"
    viewer = _client(personas.viewer).patch(f"{url}{snap.public_id}/", {"labels": {}}, format="json")
    assert viewer.status_code == 403


# -- actions -----------------------------------------------------------------------------------------
def _action(server, type_, status, started=None):
    return Action.objects.create(
        instance=server, organisation_id=server.organisation_id, type=type_, status=status, started_at=started
    )


def test_action_list_filters_and_isolation(personas, catalogue):
    mine = _instance(personas, catalogue, "mine")
    theirs = _instance(personas, catalogue, "theirs", org=personas.other_org)
    now = timezone.now()
    _action(mine, "create", "success", now - dt.timedelta(hours=2))
    _action(mine, "start", "running", now)
    _action(theirs, "create", "success", now)
    client = _client(personas.owner)

    body = client.get("/api/v1/actions/").json()
    assert body["count"] == 2
    assert {a["instance_id"] for a in body["results"]} == {str(mine.public_id)}
    assert [a["type"] for a in client.get("/api/v1/actions/?status=running").json()["results"]] == ["start"]
    assert [a["type"] for a in client.get("/api/v1/actions/?type=create").json()["results"]] == ["create"]
    assert client.get(f"/api/v1/actions/?resource_id={theirs.public_id}").json()["count"] == 0
    assert client.get(f"/api/v1/actions/?resource_type=instance&resource_id={mine.public_id}").json()["count"] == 2
    after = (now - dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert [a["type"] for a in client.get("/api/v1/actions/", {"started_after": after}).json()["results"]] == ["start"]
    assert [a["type"] for a in client.get("/api/v1/actions/", {"started_before": after}).json()["results"]] == [
        "create"
    ]
    assert [a["type"] for a in client.get("/api/v1/actions/?sort=type:desc").json()["results"]] == ["start", "create"]
    assert client.get(f"/api/v1/actions/?organisation={personas.other_org.pk}").json()["count"] == 0
    assert client.get("/api/v1/actions/?started_after=").status_code == 400
    assert client.get("/api/v1/actions/?command=start").status_code == 400
    assert client.get("/api/v1/actions/?resource_type=disk").status_code == 400
    # The other organisation's owner sees only theirs.
    assert _client(personas.outsider).get("/api/v1/actions/").json()["count"] == 1
    assert APIClient().get("/api/v1/actions/").status_code in (401, 403)


def test_action_list_query_count_is_constant(personas, catalogue):
    server = _instance(personas, catalogue, "busy")
    client = _client(personas.owner)
    _action(server, "start", "success")
    client.get("/api/v1/actions/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/actions/?status=success&sort=created_at:desc").json()["count"] == 1
    for _n in range(10):
        _action(server, "stop", "success")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/v1/actions/?status=success&sort=created_at:desc").json()["count"] == 11
    assert len(many) == len(few)
