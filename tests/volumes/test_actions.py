"""Volume actions are rows of the shared Action table: /api/v1/actions/{id}/ serves them, and the migration
that moved the app's former VolumeAction rows there keeps their ids, statuses, timestamps, parameters and errors."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from apps.instances.models import Action
from apps.volumes import services
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from tests.volumes.conftest import server_row

MIGRATION = "apps.volumes.migrations.0003_actions_to_shared_table"


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


def test_api_actions_endpoint_serves_volume_actions(volumes_env):
    owner = _client(volumes_env.personas.owner)
    server = server_row(volumes_env)
    created = owner.post("/api/v1/volumes/", _body(volumes_env, server_id=str(server.public_id)), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()["action"]
    volume = Volume.objects.get(public_id=created.json()["volume"]["id"])
    assert body["resource"] == {"type": "volume", "id": str(volume.public_id)}
    assert body["instance_id"] == str(server.public_id)
    shown = owner.get(f"/api/v1/actions/{body['id']}/")
    assert shown.status_code == 200
    assert (shown.json()["type"], shown.json()["resource"]["id"]) == ("create", str(volume.public_id))
    row = Action.objects.get(public_id=body["id"])
    assert (row.resource_type, row.project_id, row.instance_id) == ("volume", volume.project_id, server.pk)
    listed = owner.get(f"/api/v1/volumes/{volume.public_id}/actions/").json()["results"]
    assert [a["id"] for a in listed] == [body["id"]]
    assert owner.get("/api/v1/actions/", {"resource_type": "volume"}).status_code == 200
    # Another organisation does not see it; a viewer of the organisation does.
    assert _client(volumes_env.personas.outsider).get(f"/api/v1/actions/{body['id']}/").status_code == 404
    assert _client(volumes_env.personas.viewer).get(f"/api/v1/actions/{body['id']}/").status_code == 200


def test_detach_names_the_server_and_a_failed_action_frees_the_volume(volumes_env):
    server = server_row(volumes_env)
    owner = volumes_env.personas.owner
    volume, _create = services.volume_create(
        actor=owner,
        organisation=volumes_env.personas.org,
        project=volumes_env.personas.project,
        name="data",
        tier=volumes_env.tier,
        size_gb=10,
        datacentre=volumes_env.shop.dc,
    )
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.AVAILABLE, volid="ceph-nvme:vm-899999-disk-0")
    volume.actions.update(status="success")
    attach = services.volume_attach(actor=owner, volume=volume, server=server)
    assert attach.instance_id == server.pk and attach.resource_id == volume.public_id
    claimed = services.volume_action_claim(action_id=attach.pk, task_id="t-1")
    assert claimed is not None
    services.volume_action_fail(action=claimed, code="hotplug_failed", message="refused", detail="x")
    volume.refresh_from_db()
    attach.refresh_from_db()
    assert (volume.status, volume.server_id, attach.status, attach.error_code) == (
        VolumeStatus.AVAILABLE,
        None,
        "error",
        "hotplug_failed",
    )
    # A server action's id is never claimed by the volumes task.
    server_action = Action.objects.create(organisation=server.organisation, instance=server, type="start")
    assert services.volume_action_claim(action_id=server_action.pk, task_id="t-2") is None
    assert Action.objects.get(pk=server_action.pk).status == "pending"


def test_migration_copies_volume_actions_into_the_shared_table(volumes_env):
    """Run the data step of 0003 on the state before it, with a temporary VolumeAction table."""
    from importlib import import_module

    migration = import_module(MIGRATION)
    state = MigrationExecutor(connection).loader.project_state(
        [("volumes", "0002_volume_quota"), ("instances", "0008_action_resource")]
    )
    old_apps = state.apps
    VolumeAction = old_apps.get_model("volumes", "VolumeAction")
    server = server_row(volumes_env)
    volume, _action = services.volume_create(
        actor=volumes_env.personas.owner,
        organisation=volumes_env.personas.org,
        project=volumes_env.personas.project,
        name="data",
        tier=volumes_env.tier,
        size_gb=10,
        datacentre=volumes_env.shop.dc,
    )
    Action.objects.filter(resource_id=volume.public_id).delete()
    with connection.schema_editor() as editor:
        editor.create_model(VolumeAction)
    created = timezone.now() - dt.timedelta(days=3)
    done = created + dt.timedelta(minutes=1)
    ids = [uuid.uuid4(), uuid.uuid4()]
    for public_id, type_, status, params in (
        (ids[0], "attach", "success", {"server_id": server.pk}),
        (ids[1], "resize", "error", {"size_gb": 20}),
    ):
        row = VolumeAction.objects.create(
            public_id=public_id,
            volume_id=volume.pk,
            organisation_id=volume.organisation_id,
            type=type_,
            status=status,
            progress=100,
            params=params,
            started_at=created,
            finished_at=done,
            error_code="proxmox_error" if status == "error" else "",
            error_message="failed" if status == "error" else "",
            attempts=2,
        )
        VolumeAction.objects.filter(pk=row.pk).update(created_at=created)
    migration.forwards(old_apps, None)
    copied = {a.public_id: a for a in Action.objects.filter(resource_type="volume", resource_id=volume.public_id)}
    assert set(copied) == set(ids)
    attach, resize = copied[ids[0]], copied[ids[1]]
    assert (attach.type, attach.status, attach.instance_id, attach.params) == (
        "attach",
        "success",
        server.pk,
        {"server_id": server.pk},
    )
    assert (attach.created_at, attach.started_at, attach.finished_at, attach.attempts) == (created, created, done, 2)
    assert (resize.status, resize.error_code, resize.error_message, resize.instance_id) == (
        "error",
        "proxmox_error",
        "failed",
        None,
    )
    assert attach.project_id == volume.project_id and attach.organisation_id == volume.organisation_id
