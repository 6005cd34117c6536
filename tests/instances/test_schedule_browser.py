"""Clicking through the automatic snapshot schedule on the instance's Snapshots tab (Chromium, Playwright)."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from apps.instances.choices import InstanceStatus
from apps.instances.models import SnapshotSchedule
from tests.instances.conftest import create_instance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_schedules_pauses_and_removes_automatic_snapshots(login_page, fleet, personas):
    instance, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    entry_name = f"instances-snapshots-{instance.public_id}"

    page = login_page(personas.member)
    page.goto(f"/servers/{instance.public_id}/")
    page.click("text=Snapshots")
    page.wait_for_selector("#schedule-form")
    assert page.locator("#schedule-state").inner_text().strip() == "Off"

    # A bad retention comes back with the field's error, nothing saved.
    page.select_option("#schedule-form #id_frequency", "weekly")
    page.fill("#schedule-form #id_retention", "99")
    page.click('#schedule-form button[type="submit"]')
    page.locator("#schedule-form .field-error").first.wait_for()
    assert not SnapshotSchedule.objects.exists()

    # Weekly on Sunday at 02:00, keep 4.
    page.select_option("#schedule-form #id_frequency", "weekly")
    page.select_option("#schedule-form #id_hour", "2")
    page.select_option("#schedule-form #id_weekday", "0")
    page.fill("#schedule-form #id_retention", "4")
    page.check("#schedule-form #id_enabled")
    page.click('#schedule-form button[type="submit"]')
    page.wait_for_selector("#schedule-delete-form")
    assert page.locator("#schedule-state").inner_text().strip() == "On"
    assert "Every Sunday at 02:00 UTC, keeping the last 4" in page.locator("#schedule-summary").inner_text()
    entry = PeriodicTask.objects.get(name=entry_name)
    assert entry.enabled and (entry.crontab.hour, entry.crontab.day_of_week) == ("2", "0")

    # Pause it: the beat entry stays but is disabled; the form shows the saved values.
    assert page.locator("#schedule-form #id_retention").input_value() == "4"
    page.uncheck("#schedule-form #id_enabled")
    page.click('#schedule-form button[type="submit"]')
    page.wait_for_selector('#schedule-state:has-text("Paused")')
    assert not PeriodicTask.objects.get(name=entry_name).enabled

    # Remove it.
    page.click('#schedule-delete-form button[type="submit"]')
    page.wait_for_selector('#schedule-state:has-text("Off")')
    assert "Automatic snapshots stopped" in page.content()
    assert not SnapshotSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(name=entry_name).exists()
