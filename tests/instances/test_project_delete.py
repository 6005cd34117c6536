"""Deleting a project that held a server: refused while the server lives, archived once it is history."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.instances import services
from apps.instances.choices import InstanceStatus
from apps.teams.models import Project
from apps.teams.services import project_create, project_grant_set
from tests.instances.conftest import create_instance

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_project_whose_server_was_deleted_can_be_deleted_and_is_archived(
    fleet, personas, django_capture_on_commit_callbacks
):
    staging = project_create(organisation=personas.org, name="Staging", actor=personas.owner)
    project_grant_set(project=staging, user=personas.outsider, access="read", actor=personas.owner)
    with django_capture_on_commit_callbacks(execute=True):
        server, _ = create_instance(fleet, personas, project=staging, name="stage-1")
    url = f"/api/v1/organisations/{personas.org.pk}/projects/{staging.pk}/"
    client = _client(personas.owner)

    refused = client.delete(url)
    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["code"] == "project_not_empty"
    assert "stage-1" in refused.json()["error"]["message"]

    with django_capture_on_commit_callbacks(execute=True):
        services.instance_delete(instance=server, actor=personas.owner)
    server.refresh_from_db()
    assert server.status == InstanceStatus.DELETED

    assert client.delete(url).status_code == 204
    archived = Project.all_objects.get(pk=staging.pk)
    assert archived.archived_at is not None
    assert not Project.objects.filter(pk=staging.pk).exists()
    assert client.get(url).status_code == 404
    listed = client.get(f"/api/v1/organisations/{personas.org.pk}/projects/").json()
    assert "Staging" not in [p["name"] for p in listed["results"]]
    # The deleted server's history still names its project; the slug is free for a new one.
    server.refresh_from_db()
    assert server.project.name == "Staging"
    again = project_create(organisation=personas.org, name="Staging", actor=personas.owner)
    assert again.slug == "staging"
    # The outsider's grant went with the project.
    assert not personas.outsider.has_perm("teams.read_resources", archived)
