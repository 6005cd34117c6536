"""One Action table for every resource: actions on volumes, networks … are read like server actions."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from apps.instances import services
from apps.instances.choices import ActionResource, ActionStatus, ActionType
from apps.instances.models import Action

pytestmark = pytest.mark.django_db


def _volume_action(personas, project=None) -> Action:
    project = project or personas.project
    return services.resource_action_open(
        resource_type=ActionResource.VOLUME,
        resource_id=uuid.uuid4(),
        project=project,
        type=ActionType.ATTACH,
        actor=personas.member,
        task="tests.nothing",  # no such task: task_enqueue sends it by name after commit, and no worker takes it
    )


def test_a_volume_action_is_read_at_actions_id_by_members_of_its_project_only(personas, api_client):
    action = _volume_action(personas)
    api_client.force_authenticate(personas.viewer)
    body = api_client.get(f"/api/v1/actions/{action.public_id}/").json()
    assert body["resource"] == {"type": "volume", "id": str(action.resource_id)}
    assert body["instance_id"] is None and body["type"] == "attach" and body["status"] == "pending"
    api_client.force_authenticate(personas.outsider)
    assert api_client.get(f"/api/v1/actions/{action.public_id}/").status_code == 404


def test_the_action_list_filters_by_resource_type_and_instance_still_means_server(personas, api_client):
    mine = _volume_action(personas)
    _volume_action(personas, project=personas.other_project)  # Globex's: never listed for Acme
    api_client.force_authenticate(personas.member)
    listed = api_client.get("/api/v1/actions/", {"resource_type": "volume"}).json()["results"]
    assert [a["id"] for a in listed] == [str(mine.public_id)]
    assert api_client.get("/api/v1/actions/", {"resource_type": "instance"}).json()["results"] == []
    assert api_client.get("/api/v1/actions/", {"resource_id": str(mine.resource_id)}).json()["count"] == 1
    assert api_client.get("/api/v1/actions/", {"resource_type": "disk"}).status_code == 400


def test_busy_succeed_and_fail_record_the_end(personas):
    action = _volume_action(personas)
    assert services.resource_action_busy(resource_type=ActionResource.VOLUME, resource_id=action.resource_id)
    claimed = services.resource_action_claim(action_id=action.pk, task_id="task-1")
    assert claimed is not None and claimed.status == ActionStatus.RUNNING and claimed.attempts == 1
    services.resource_action_progress(action=claimed, value=140)
    assert Action.objects.get(pk=action.pk).progress == 100
    services.resource_action_succeed(action=claimed)
    assert not services.resource_action_busy(resource_type=ActionResource.VOLUME, resource_id=action.resource_id)
    assert services.resource_action_claim(action_id=action.pk, task_id="task-2") is None  # done: nothing to claim

    failed = _volume_action(personas)
    services.resource_action_fail(action=failed, code="no_slot", message="No free slot.")
    failed.refresh_from_db()
    assert (failed.status, failed.error_code, failed.error_detail) == (ActionStatus.ERROR, "no_slot", "No free slot.")


@pytest.mark.django_db(transaction=True)
def test_two_tasks_claiming_one_action_at_once_one_wins(personas):
    action = _volume_action(personas)
    barrier = threading.Barrier(2)
    won: list[bool] = []

    def claim(task_id: str) -> None:
        try:
            barrier.wait()
            won.append(services.resource_action_claim(action_id=action.pk, task_id=task_id) is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(f"task-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False, True]
    assert Action.objects.get(pk=action.pk).attempts == 1


def test_an_open_action_of_a_resource_naming_the_server_never_blocks_the_servers_own_actions(personas, shop):
    from apps.instances.models import Instance
    from apps.instances.services.access import action_open

    server = Instance.objects.create(
        organisation=personas.org,
        project=personas.project,
        name="web-1",
        offer=shop.vps,
        datacentre=shop.dc,
        image=shop.image,
        status="running",
        price_hourly="0.0137",
        price_monthly="9.99",
    )
    services.resource_action_open(
        resource_type=ActionResource.VOLUME,
        resource_id=uuid.uuid4(),
        project=personas.project,
        type=ActionType.ATTACH,
        actor=personas.member,
        task="tests.nothing",
        instance=server,
    )
    stop = action_open(instance=server, type=ActionType.STOP, actor=personas.member)
    assert stop.resource_type == ActionResource.SERVER and stop.resource_id == server.public_id


def test_a_resource_action_whose_message_was_lost_is_sent_again(personas, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from apps.instances.services import actions as actions_module

    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(actions_module, "task_enqueue", lambda name, pk: sent.append((name, pk)))
    lost = _volume_action(personas)
    fresh = _volume_action(personas)
    died = _volume_action(personas)
    assert lost.task_name == "tests.nothing"
    now = timezone.now()
    Action.objects.filter(pk=lost.pk).update(created_at=now - timedelta(minutes=10))
    services.resource_action_claim(action_id=died.pk, task_id="task-of-a-dead-worker")
    Action.objects.filter(pk=died.pk).update(lease_until=now - timedelta(seconds=1))
    sent.clear()
    assert sorted(services.resource_actions_resume(now=now)) == sorted([lost.pk, died.pk])
    assert sorted(sent) == sorted([("tests.nothing", lost.pk), ("tests.nothing", died.pk)])
    assert fresh.pk not in [pk for _name, pk in sent]
