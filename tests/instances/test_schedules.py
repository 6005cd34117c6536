"""Automatic snapshot schedules: the API, the django-celery-beat entry, the scheduled run and its pruning."""

from __future__ import annotations

import json

import pytest
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.instances import services, tasks
from apps.instances.choices import ActionStatus, ActionType, InstanceStatus, SnapshotStatus
from apps.instances.models import Action, Instance, Snapshot, SnapshotSchedule
from tests.instances.conftest import create_instance, sim_vms

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def instance(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inst, _action = create_instance(fleet, personas, offer=fleet.vps_offer)
    inst.refresh_from_db()
    assert inst.status == InstanceStatus.RUNNING
    return inst


def url(instance) -> str:
    return f"/api/v1/instances/{instance.public_id}/snapshot-schedule/"


def run_beat_entry(instance, capture) -> None:
    """Run what django-celery-beat would send for the instance's entry (eager Celery)."""
    entry = PeriodicTask.objects.get(name=f"instances-snapshots-{instance.public_id}")
    assert entry.task == "instances.scheduled_snapshot"
    with capture(execute=True):
        tasks.scheduled_snapshot.delay(*json.loads(entry.args))


def test_put_creates_a_daily_beat_entry_and_get_reads_it(personas, instance):
    client = client_for(personas.member)
    assert client.get(url(instance)).status_code == 404

    response = client.put(url(instance), {"frequency": "daily", "hour": 4, "retention": 3}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["frequency"] == "daily" and response.json()["retention"] == 3
    entry = PeriodicTask.objects.get(name=f"instances-snapshots-{instance.public_id}")
    assert entry.enabled and entry.task == "instances.scheduled_snapshot"
    assert (entry.crontab.minute, entry.crontab.hour, entry.crontab.day_of_week) == ("0", "4", "*")
    assert str(entry.crontab.timezone) == "UTC"
    assert client.get(url(instance)).json()["hour"] == 4
    assert AuditEvent.objects.filter(action="instances.snapshot_schedule.set").count() == 1


def test_put_weekly_replaces_the_schedule_in_place(personas, instance):
    client = client_for(personas.owner)
    client.put(url(instance), {"frequency": "daily"}, format="json")
    response = client.put(
        url(instance), {"frequency": "weekly", "weekday": 0, "hour": 2, "retention": 4}, format="json"
    )
    assert response.status_code == 200
    assert SnapshotSchedule.objects.count() == 1
    entry = PeriodicTask.objects.get(name=f"instances-snapshots-{instance.public_id}")
    assert (entry.crontab.hour, entry.crontab.day_of_week) == ("2", "0")
    assert PeriodicTask.objects.filter(task="instances.scheduled_snapshot").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"frequency": "hourly"}, "frequency"),
        ({"frequency": "daily", "hour": 24}, "hour"),
        ({"frequency": "weekly", "weekday": 7}, "weekday"),
        ({"frequency": "daily", "retention": 0}, "retention"),
        ({"frequency": "daily", "retention": 31}, "retention"),
    ],
)
def test_invalid_schedule_is_a_400_with_the_field(personas, instance, body, field):
    response = client_for(personas.owner).put(url(instance), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not PeriodicTask.objects.filter(task="instances.scheduled_snapshot").exists()


@pytest.mark.parametrize(("persona", "read", "write"), [("viewer", 200, 403), ("outsider", 404, 404)])
def test_schedule_permissions(personas, instance, persona, read, write):
    services.snapshot_schedule_set(instance=instance, actor=personas.owner, frequency="daily")
    client = client_for(getattr(personas, persona))
    assert client.get(url(instance)).status_code == read
    assert client.put(url(instance), {"frequency": "weekly"}, format="json").status_code == write
    assert client.delete(url(instance)).status_code == write
    assert SnapshotSchedule.objects.get().frequency == "daily"


def test_delete_removes_schedule_and_beat_entry(personas, instance):
    client = client_for(personas.owner)
    client.put(url(instance), {"frequency": "daily"}, format="json")
    assert client.delete(url(instance)).status_code == 204
    assert not SnapshotSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(name__startswith="instances-snapshots-").exists()
    assert client.delete(url(instance)).status_code == 404


def test_scheduled_run_takes_a_snapshot_and_prunes_beyond_retention(
    fleet, personas, instance, django_capture_on_commit_callbacks
):
    services.snapshot_schedule_set(instance=instance, actor=personas.owner, frequency="daily", retention=2)
    with django_capture_on_commit_callbacks(execute=True):
        manual, _a = services.snapshot_create(instance=instance, name="manual", actor=personas.owner)

    for _run in range(4):
        run_beat_entry(instance, django_capture_on_commit_callbacks)

    snaps = Snapshot.objects.filter(instance=instance)
    scheduled_live = list(snaps.filter(scheduled=True, status=SnapshotStatus.AVAILABLE).order_by("id"))
    assert len(scheduled_live) == 2  # the two newest of four runs
    assert snaps.filter(scheduled=True, status=SnapshotStatus.DELETED).count() == 2
    assert snaps.get(pk=manual.pk).status == SnapshotStatus.AVAILABLE  # manual ones are never pruned
    in_proxmox = set(sim_vms(fleet.sim)[instance.vmid].snapshots)
    assert {s.proxmox_name for s in scheduled_live} | {manual.proxmox_name} <= in_proxmox
    pruned = snaps.filter(scheduled=True, status=SnapshotStatus.DELETED).values_list("proxmox_name", flat=True)
    assert not set(pruned) & in_proxmox
    runs = Action.objects.filter(instance=instance, type=ActionType.SNAPSHOT_CREATE)
    assert runs.count() == 5 and not runs.exclude(status=ActionStatus.SUCCESS).exists()


def test_scheduled_snapshots_do_not_count_against_the_manual_quota(
    personas, instance, django_capture_on_commit_callbacks
):
    # VPS-S keeps 1 manual snapshot; the schedule keeps 3 of its own.
    services.snapshot_schedule_set(instance=instance, actor=personas.owner, frequency="daily", retention=3)
    for _run in range(3):
        run_beat_entry(instance, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.snapshot_create(instance=instance, name="mine", actor=personas.owner)
    assert Snapshot.objects.filter(instance=instance, status=SnapshotStatus.AVAILABLE).count() == 4


def test_scheduled_run_skips_an_instance_busy_or_stopped_elsewhere(
    personas, instance, django_capture_on_commit_callbacks
):
    services.snapshot_schedule_set(instance=instance, actor=personas.owner, frequency="daily")
    Instance.objects.filter(pk=instance.pk).update(status=InstanceStatus.REBOOTING)
    run_beat_entry(instance, django_capture_on_commit_callbacks)
    assert not Snapshot.objects.filter(instance=instance).exists()


def test_deleting_the_instance_removes_its_schedule(personas, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.owner)
    client.put(url(instance), {"frequency": "weekly", "weekday": 3}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/instances/{instance.public_id}/").status_code == 202
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.DELETED
    assert not SnapshotSchedule.objects.filter(instance=instance).exists()
    assert not PeriodicTask.objects.filter(name=f"instances-snapshots-{instance.public_id}").exists()


def test_no_schedule_on_an_instance_being_deleted(personas, instance, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.instance_delete(instance=instance, actor=personas.owner)
    response = client_for(personas.owner).put(url(instance), {"frequency": "daily"}, format="json")
    assert response.status_code == 409
