"""Portal: the automatic snapshot schedule form on the instance's Snapshots tab (set, pause, remove)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_celery_beat.models import PeriodicTask

from apps.core.models import AuditEvent
from apps.instances.choices import InstanceStatus
from apps.instances.models import SnapshotSchedule
from tests.instances.conftest import create_instance

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def instance(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inst, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    inst.refresh_from_db()
    assert inst.status == InstanceStatus.RUNNING
    return inst


def tab(instance) -> str:
    return f"/servers/{instance.public_id}/snapshots/"


def save_url(instance) -> str:
    return f"/servers/{instance.public_id}/snapshot-schedule/"


def beat_entry(instance) -> PeriodicTask:
    return PeriodicTask.objects.get(name=f"instances-snapshots-{instance.public_id}")


def test_tab_offers_the_schedule_form_when_there_is_none(personas, instance):
    html = client_for(personas.member).get(tab(instance)).content.decode()
    assert 'id="schedule-form"' in html
    assert 'id="schedule-state"' in html and ">Off<" in html
    assert "schedule-delete-form" not in html
    assert "snapshot-schedule/" in html  # the curl snippet for the API


def test_member_sets_a_weekly_schedule(personas, instance):
    client = client_for(personas.member)
    response = client.post(
        save_url(instance), {"frequency": "weekly", "hour": "2", "weekday": "0", "retention": "4", "enabled": "on"}
    )
    assert response.status_code == 302 and response["Location"] == tab(instance)
    schedule = SnapshotSchedule.objects.get(instance=instance)
    assert (schedule.frequency, schedule.hour, schedule.weekday, schedule.retention, schedule.enabled) == (
        "weekly",
        2,
        0,
        4,
        True,
    )
    entry = beat_entry(instance)
    assert entry.enabled and (entry.crontab.hour, entry.crontab.day_of_week) == ("2", "0")
    assert AuditEvent.objects.filter(action="instances.snapshot_schedule.set").count() == 1
    html = client.get(tab(instance)).content.decode()
    assert "Every Sunday at 02:00 UTC, keeping the last 4 scheduled snapshots." in html
    assert 'id="schedule-delete-form"' in html
    assert ">On<" in html


def test_unchecking_enabled_pauses_the_beat_entry(personas, instance):
    client = client_for(personas.member)
    client.post(
        save_url(instance), {"frequency": "daily", "hour": "3", "weekday": "0", "retention": "7", "enabled": "on"}
    )
    response = client.post(save_url(instance), {"frequency": "daily", "hour": "5", "weekday": "0", "retention": "7"})
    assert response.status_code == 302
    assert not beat_entry(instance).enabled
    assert not SnapshotSchedule.objects.get(instance=instance).enabled
    html = client.get(tab(instance)).content.decode()
    assert ">Paused<" in html and "Every day at 05:00 UTC" in html


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"frequency": "hourly", "hour": "3", "weekday": "0", "retention": "7"}, "Select a valid choice"),
        ({"frequency": "daily", "hour": "3", "weekday": "0", "retention": "31"}, "less than or equal to 30"),
        ({"frequency": "daily", "hour": "24", "weekday": "0", "retention": "7"}, "Select a valid choice"),
        ({"frequency": "daily", "hour": "3", "weekday": "0", "retention": "x"}, "Enter a whole number"),
    ],
)
def test_invalid_schedule_shows_the_form_again_with_errors(personas, instance, data, field_error):
    response = client_for(personas.member).post(save_url(instance), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error in html and 'class="field-error"' in html
    assert not SnapshotSchedule.objects.exists()


def test_remove_schedule_deletes_the_beat_entry_and_keeps_snapshots(personas, instance):
    client = client_for(personas.owner)
    client.post(
        save_url(instance), {"frequency": "daily", "hour": "3", "weekday": "0", "retention": "7", "enabled": "on"}
    )
    response = client.post(f"/servers/{instance.public_id}/snapshot-schedule/delete/", follow=True)
    assert response.status_code == 200
    assert "Automatic snapshots stopped" in response.content.decode()
    assert not SnapshotSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(name=f"instances-snapshots-{instance.public_id}").exists()
    again = client.post(f"/servers/{instance.public_id}/snapshot-schedule/delete/", follow=True)
    assert "has no snapshot schedule" in again.content.decode()


def test_viewer_sees_the_schedule_but_cannot_change_it(personas, instance):
    client_for(personas.owner).post(
        save_url(instance), {"frequency": "daily", "hour": "3", "weekday": "0", "retention": "7", "enabled": "on"}
    )
    viewer = client_for(personas.viewer)
    html = viewer.get(tab(instance)).content.decode()
    assert "Every day at 03:00 UTC" in html and 'id="schedule-form"' not in html
    data = {"frequency": "weekly", "hour": "1", "weekday": "2", "retention": "2", "enabled": "on"}
    assert viewer.post(save_url(instance), data).status_code == 403
    assert viewer.post(f"/servers/{instance.public_id}/snapshot-schedule/delete/").status_code == 403
    assert SnapshotSchedule.objects.get().hour == 3


def test_outsider_gets_404(personas, instance):
    outsider = client_for(personas.outsider)
    data = {"frequency": "daily", "hour": "3", "weekday": "0", "retention": "7", "enabled": "on"}
    assert outsider.post(save_url(instance), data).status_code == 404
    assert outsider.post(f"/servers/{instance.public_id}/snapshot-schedule/delete/").status_code == 404
    assert not SnapshotSchedule.objects.exists()
