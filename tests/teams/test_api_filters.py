"""Teams list filters: strict query parameters, sort, project labels and label selectors, token filters."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.teams.models import Project
from tests.factories import ApiTokenFactory

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_project_labels_through_create_and_update(personas):
    client = _client(personas.owner)
    url = f"/api/v1/organisations/{personas.org.pk}/projects/"
    created = client.post(url, {"name": "Staging", "labels": {"env": "staging"}}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["labels"] == {"env": "staging"}
    project_id = created.json()["id"]
    updated = client.patch(f"{url}{project_id}/", {"labels": {"env": "prod", "team": "core"}}, format="json")
    assert updated.status_code == 200 and updated.json()["labels"] == {"env": "prod", "team": "core"}
    assert Project.objects.get(pk=project_id).labels == {"env": "prod", "team": "core"}
    bad = client.patch(f"{url}{project_id}/", {"labels": {"env": "two words"}}, format="json")
    assert bad.status_code == 400 and "labels" in bad.json()["error"]["fields"]
    assert Project.objects.get(pk=project_id).labels == {"env": "prod", "team": "core"}


def test_project_list_label_selector_filters_and_sort(personas):
    client = _client(personas.owner)
    url = f"/api/v1/organisations/{personas.org.pk}/projects/"
    for name, labels in [("Web", {"env": "prod"}), ("Lab", {"env": "dev"}), ("Ops", {})]:
        assert client.post(url, {"name": name, "labels": labels}, format="json").status_code == 201

    def names(query: str) -> list[str]:
        response = client.get(url + query)
        assert response.status_code == 200, response.content
        return [p["name"] for p in response.json()["results"]]

    assert names("?label_selector=env%3Dprod") == ["Web"]
    assert sorted(names("?label_selector=env")) == ["Lab", "Web"]
    assert "Ops" in names("?label_selector=!env")
    assert names("?is_default=true") == ["Default project"]
    assert names("?name=Lab") == ["Lab"]
    assert names("?sort=name:desc&is_default=false") == ["Web", "Ops", "Lab"]
    for query in ("?label_selector=env%3D%3D%3D", "?labels=env", "?is_default=maybe", "?sort=slug"):
        assert client.get(url + query).status_code == 400, query


def test_member_and_invitation_filters(personas):
    client = _client(personas.owner)
    members = f"/api/v1/organisations/{personas.org.pk}/members/"
    assert [m["role"] for m in client.get(members + "?role=viewer").json()["results"]] == ["viewer"]
    assert client.get(members + "?role=viewer&role=admin").json()["count"] == 2
    assert client.get(members + "?email=VIEWER@acme.test").json()["count"] == 1
    assert client.get(members + "?sort=email:desc").json()["results"][0]["user"]["email"] == "viewer@acme.test"
    assert client.get(members + "?role=boss").status_code == 400
    invitations = f"/api/v1/organisations/{personas.org.pk}/invitations/"
    assert client.post(invitations, {"email": "new@acme.test", "role": "member"}, format="json").status_code == 201
    assert client.get(invitations + "?status=pending").json()["count"] == 1
    assert client.get(invitations + "?status=expired").json()["count"] == 0
    assert client.get(invitations + "?email=new@acme.test&role=member").json()["count"] == 1
    assert client.get(invitations + "?project=99999999999999999999").status_code == 400


def test_organisation_and_token_filters(personas):
    client = _client(personas.owner)
    assert client.get("/api/v1/organisations/?name=Acme").json()["count"] == 1
    assert client.get("/api/v1/organisations/?name=Globex").json()["count"] == 0
    assert client.get("/api/v1/organisations/?colour=red").status_code == 400
    ApiTokenFactory(user=personas.owner, organisation=personas.org, name="ci", scope="read_only")
    ApiTokenFactory(user=personas.owner, organisation=personas.org, name="deploy", scope="read_write")
    assert [t["name"] for t in client.get("/api/v1/tokens/?scope=read_only").json()["results"]] == ["ci"]
    assert client.get("/api/v1/tokens/?active=true").json()["count"] == 2
    assert client.get("/api/v1/tokens/?active=false").json()["count"] == 0
    assert [t["name"] for t in client.get("/api/v1/tokens/?sort=name:desc").json()["results"]] == ["deploy", "ci"]
    assert client.get("/api/v1/tokens/?organisation=99999999999999999999").status_code == 400
    assert client.get(f"/api/v1/tokens/?organisation={personas.other_org.pk}").status_code == 404


def test_audit_list_is_strict(personas):
    client = _client(personas.owner)
    url = f"/api/v1/organisations/{personas.org.pk}/audit-events/"
    assert client.get(url).status_code == 200
    assert client.get(url + "?action=project.&per_page=5").status_code == 200
    for query in ("?until=", "?since=yesterday", "?state=", "?actions=x", "?per_page=false"):
        response = client.get(url + query)
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "validation_error"
    assert client.get(f"/api/v1/organisations/{personas.org.pk}/audit-events.csv?page=2").status_code == 400
