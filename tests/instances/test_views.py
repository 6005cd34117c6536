"""Portal pages of instances: the dashboard, servers list, instance page and tabs, actions, SSH keys.

Personas from ``personas``; instances provisioned on the Proxmox simulator through
the real services (Celery eager, on-commit callbacks executed).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.instances import services
from apps.instances.choices import ActionStatus, ActionType, InstanceStatus, SnapshotStatus
from apps.instances.models import Action, Instance, SshKey
from tests.instances.conftest import ED25519, create_instance

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def instance(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inst, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    inst.refresh_from_db()
    assert inst.status == InstanceStatus.RUNNING
    return inst


def post(client, url, data=None, capture=None):
    """POST and run what the service queued with on_commit (the eager Celery task)."""
    if capture is None:
        return client.post(url, data or {})
    with capture(execute=True):
        return client.post(url, data or {})


# ---------------------------------------------------------------------------
# Pages render, with the right data and permissions
# ---------------------------------------------------------------------------
def test_dashboard_lists_the_organisations_servers_with_status(personas, instance):
    html = client_for(personas.member).get("/dashboard/").content.decode()
    assert "web-1" in html
    assert instance.ipv4 in html
    assert 'data-status="running"' in html
    assert 'href="/orders/new/"' in html
    # Nothing is moving: the live table does not poll.
    assert 'data-polling="false"' in html


def test_dashboard_polls_while_an_instance_is_transitional(personas, instance):
    Instance.objects.filter(pk=instance.pk).update(status=InstanceStatus.REBOOTING)
    html = client_for(personas.member).get("/dashboard/").content.decode()
    assert 'data-polling="true"' in html
    assert 'hx-trigger="every 3s"' in html


def test_dashboard_empty_state_for_an_organisation_without_servers(personas):
    html = client_for(personas.member).get("/dashboard/").content.decode()
    assert 'class="empty-state"' in html
    assert 'href="/orders/new/"' in html


def test_dashboard_hides_other_organisations_servers(personas, instance):
    html = client_for(personas.outsider).get("/dashboard/").content.decode()
    assert "web-1" not in html


def test_servers_list_filters_by_status_and_project(personas, instance):
    client = client_for(personas.viewer)
    assert "web-1" in client.get("/servers/").content.decode()
    assert "web-1" in client.get("/servers/", {"status": "running"}).content.decode()
    assert "web-1" not in client.get("/servers/", {"status": "stopped"}).content.decode()
    other = personas.org.projects.create(name="Other", slug="other")
    assert "web-1" not in client.get("/servers/", {"project": other.pk}).content.decode()
    assert "web-1" in client.get("/servers/", {"project": personas.project.pk}).content.decode()


def test_servers_table_partial_renders_alone(personas, instance):
    response = client_for(personas.member).get("/servers/table/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="server-table"')
    assert "console-sidebar" not in html


def test_servers_list_query_count_does_not_grow_with_instances(personas, instance, django_assert_max_num_queries):
    client = client_for(personas.member)
    client.get("/servers/")  # warm the session and content types
    with django_assert_max_num_queries(20):
        client.get("/servers/")


@pytest.mark.parametrize("tab", ["", "snapshots/", "metrics/", "activity/", "console/"])
def test_instance_page_and_tabs_render_for_a_member(personas, instance, tab):
    response = client_for(personas.member).get(f"/servers/{instance.public_id}/{tab}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "web-1" in html
    assert 'class="tabs"' in html


def test_instance_page_shows_ips_specs_price_and_curl_snippets(personas, instance):
    html = client_for(personas.member).get(f"/servers/{instance.public_id}/").content.decode()
    assert f'<code id="ipv4">{instance.ipv4}</code>' in html
    assert 'data-copy-target="#ipv4"' in html
    assert "VPS-S" in html
    # The plan is named once when its name is its code (the seeded catalogue's offers are).
    instance.offer.name = instance.offer.code
    instance.offer.save(update_fields=["name"])
    plan = client_for(personas.member).get(f"/servers/{instance.public_id}/").content.decode()
    assert f"{instance.offer.code} — {instance.offer.code}" not in plan and instance.offer.code in plan
    assert str(instance.price_monthly) in html
    assert f"/api/v1/instances/{instance.public_id}/actions/stop/" in html
    assert "Authorization: Bearer $VMCLOUD_TOKEN" in html
    for action in ("start", "stop", "shutdown", "reboot", "reset"):
        assert f'action="/servers/{instance.public_id}/power/{action}/"' in html
    assert 'id="delete-form"' in html


def test_viewer_sees_the_instance_page_without_action_buttons(personas, instance):
    html = client_for(personas.viewer).get(f"/servers/{instance.public_id}/").content.decode()
    assert "web-1" in html
    assert "/power/" not in html
    assert 'id="delete-form"' not in html
    assert "Read only" in html


@pytest.mark.parametrize("tab", ["", "snapshots/", "metrics/", "activity/", "console/", "status/"])
def test_another_organisations_instance_is_404(personas, instance, tab):
    assert client_for(personas.outsider).get(f"/servers/{instance.public_id}/{tab}").status_code == 404


def test_anonymous_is_sent_to_login(instance):
    response = Client().get(f"/servers/{instance.public_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_metrics_tab_draws_svg_charts_from_rrddata(personas, fleet, instance):
    with fleet.sim.cluster.lock:  # the simulator reports values from the VM's start: make it an hour old
        fleet.sim.cluster.vms[instance.vmid].started_at -= 3600
    html = client_for(personas.member).get(f"/servers/{instance.public_id}/metrics/?timeframe=hour").content.decode()
    assert html.count('<svg class="chart"') == 4
    points = re.findall(r'<polyline class="chart-line chart-series-0" points="([^"]+)"', html)
    assert points and all(len(p.split()) > 2 for p in points)
    # Axes with units and ticks, a tooltip per point in time (SVG <title>), no lone dots.
    assert html.count('class="chart-y') == 4 and html.count('class="chart-x') == 4
    assert "100 %" in html and "50 %" in html and "(B/s)" in html
    titles = re.findall(r'<rect class="chart-hit"[^>]*><title>([^<]+)</title>', html)
    assert len(titles) > 50 and any("CPU" in t and "%" in t for t in titles)


def test_metrics_tab_of_a_just_started_server_says_the_charts_fill_in(personas, fleet, instance):
    html = client_for(personas.member).get(f"/servers/{instance.public_id}/metrics/?timeframe=hour").content.decode()
    assert "Not enough data yet" in html or "No metrics yet" in html
    assert 'class="chart-dot' not in html


# ---------------------------------------------------------------------------
# Actions: the permission matrix, the services are called, errors are messages
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("billing", 403), ("outsider", 404)])
def test_stop_is_refused_without_write_permission(personas, instance, persona, status):
    response = client_for(getattr(personas, persona)).post(f"/servers/{instance.public_id}/power/stop/")
    assert response.status_code == status
    assert not Action.objects.filter(instance=instance, type=ActionType.STOP).exists()


def test_viewer_cannot_stop_instance(personas, instance):
    response = client_for(personas.viewer).post(f"/servers/{instance.public_id}/power/stop/")
    assert response.status_code == 403
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING


def test_member_stops_the_instance_and_follows_the_action(personas, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.member)
    response = post(client, f"/servers/{instance.public_id}/power/stop/", capture=django_capture_on_commit_callbacks)
    action = Action.objects.get(instance=instance, type=ActionType.STOP)
    assert response.status_code == 302
    assert response["Location"] == f"/servers/{instance.public_id}/?action={action.public_id}"
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.STOPPED
    page = client.get(response["Location"]).content.decode()
    assert 'data-action-status="success"' in page
    partial = client.get(f"/servers/{instance.public_id}/actions/{action.public_id}/")
    assert partial.status_code == 200
    assert partial["HX-Trigger"] == "instance-changed"
    assert "hx-trigger" not in partial.content.decode()  # finished: polling stops
    status = client.get(f"/servers/{instance.public_id}/status/").content.decode()
    assert 'data-status="stopped"' in status


def test_open_action_partial_keeps_polling(personas, instance):
    action = Action.objects.create(
        instance=instance, organisation=personas.org, type=ActionType.REBOOT, status=ActionStatus.RUNNING, progress=40
    )
    html = (
        client_for(personas.member).get(f"/servers/{instance.public_id}/actions/{action.public_id}/").content.decode()
    )
    assert 'hx-trigger="every 1s"' in html
    assert 'aria-valuenow="40"' in html


def test_action_of_another_instance_is_404(personas, fleet, instance, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _other, action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-2")
    url = f"/servers/{instance.public_id}/actions/{action.public_id}/"
    assert client_for(personas.member).get(url).status_code == 404


def test_starting_a_running_instance_is_a_message_not_a_500(personas, instance):
    client = client_for(personas.member)
    response = client.post(f"/servers/{instance.public_id}/power/start/", follow=True)
    assert response.status_code == 200
    assert "Cannot start an instance that is running." in response.content.decode()


def test_unknown_power_action_is_404(personas, instance):
    assert client_for(personas.member).post(f"/servers/{instance.public_id}/power/explode/").status_code == 404


def test_get_on_an_action_url_is_not_allowed(personas, instance):
    assert client_for(personas.member).get(f"/servers/{instance.public_id}/power/stop/").status_code == 405


def test_resize_to_a_larger_plan(personas, fleet, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.member)
    html = client.get(f"/servers/{instance.public_id}/").content.decode()
    assert f'value="{fleet.vps_offer_big.pk}"' in html
    assert f'value="{fleet.gpu_offer.pk}"' not in html  # another family is not offered
    response = post(
        client,
        f"/servers/{instance.public_id}/resize/",
        {"offer": fleet.vps_offer_big.pk},
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    instance.refresh_from_db()
    assert instance.offer == fleet.vps_offer_big


def test_resize_to_another_family_is_refused_with_a_message(personas, fleet, instance):
    response = client_for(personas.member).post(
        f"/servers/{instance.public_id}/resize/", {"offer": fleet.gpu_offer.pk}, follow=True
    )
    assert response.status_code == 200
    assert "Choose a larger plan of the same family." in response.content.decode()
    instance.refresh_from_db()
    assert instance.offer == fleet.vps_offer


def test_rebuild_needs_the_confirmation_box(personas, fleet, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.member)
    url = f"/servers/{instance.public_id}/rebuild/"
    client.post(url, {"image": fleet.ubuntu24.pk})
    assert not Action.objects.filter(instance=instance, type=ActionType.REBUILD).exists()
    post(client, url, {"image": fleet.ubuntu24.pk, "confirm": "on"}, capture=django_capture_on_commit_callbacks)
    action = Action.objects.get(instance=instance, type=ActionType.REBUILD)
    assert action.status == ActionStatus.SUCCESS, action.error_detail


def test_rename_and_labels(personas, instance):
    client = client_for(personas.member)
    response = client.post(
        f"/servers/{instance.public_id}/settings/", {"name": "api-1", "labels": "env=prod\nteam=web"}
    )
    assert response.status_code == 302
    instance.refresh_from_db()
    assert (instance.name, instance.labels) == ("api-1", {"env": "prod", "team": "web"})


def test_invalid_name_is_a_form_error(personas, instance):
    response = client_for(personas.member).post(f"/servers/{instance.public_id}/settings/", {"name": "Bad_Name!"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="field-error"' in html
    assert "lower-case letters" in html
    instance.refresh_from_db()
    assert instance.name == "web-1"


def test_reset_password_is_shown_once_and_never_cached(personas, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.member)
    response = post(
        client, f"/servers/{instance.public_id}/reset-password/", capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = re.search(r'<code id="root-password">([A-Za-z0-9]{20})</code>', response.content.decode())
    assert password is not None
    # The page of the server afterwards does not show it again.
    assert password.group(1) not in client.get(f"/servers/{instance.public_id}/").content.decode()
    action = Action.objects.get(instance=instance, type=ActionType.RESET_PASSWORD)
    assert password.group(1) not in str(action.params)


def test_delete_protection_blocks_delete(personas, instance):
    client = client_for(personas.member)
    client.post(f"/servers/{instance.public_id}/protection/", {"enabled": "1"})
    instance.refresh_from_db()
    assert instance.delete_protection
    response = client.post(f"/servers/{instance.public_id}/delete/", {"confirm_name": "web-1"}, follow=True)
    assert "Turn delete protection off first." in response.content.decode()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING


def test_delete_needs_the_typed_name(personas, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.member)
    url = f"/servers/{instance.public_id}/delete/"
    client.post(url, {"confirm_name": "web-2"})
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    response = post(client, url, {"confirm_name": "web-1"}, capture=django_capture_on_commit_callbacks)
    assert response["Location"] == "/servers/"
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.DELETED
    assert client.get(f"/servers/{instance.public_id}/").status_code == 404


def test_snapshot_create_rollback_delete_and_quota(personas, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.member)
    cap = django_capture_on_commit_callbacks
    base = f"/servers/{instance.public_id}/snapshots/"
    post(client, base + "new/", {"name": "before"}, capture=cap)
    snapshot = instance.snapshots.get(name="before")
    assert snapshot.status == SnapshotStatus.AVAILABLE
    html = client.get(base).content.decode()
    assert "before" in html and "1 of 1 used" in html
    # The VPS-S plan keeps one snapshot: the second is refused with a message, not a 500.
    response = client.post(base + "new/", {"name": "second"}, follow=True)
    assert "keeps 1 snapshots" in response.content.decode()
    post(client, f"{base}{snapshot.public_id}/rollback/", capture=cap)
    assert Action.objects.get(instance=instance, type=ActionType.SNAPSHOT_ROLLBACK).status == ActionStatus.SUCCESS
    post(client, f"{base}{snapshot.public_id}/delete/", capture=cap)
    snapshot.refresh_from_db()
    assert snapshot.status == SnapshotStatus.DELETED


def test_activity_lists_actions_and_audit_events(personas, instance, django_capture_on_commit_callbacks):
    client = client_for(personas.member)
    post(client, f"/servers/{instance.public_id}/power/stop/", capture=django_capture_on_commit_callbacks)
    html = client.get(f"/servers/{instance.public_id}/activity/").content.decode()
    assert "instances.instance.stop" in html
    assert "member@acme.test" in html
    assert html.count("<tr>") >= 3


# ---------------------------------------------------------------------------
# SSH keys
# ---------------------------------------------------------------------------
def test_ssh_key_add_shows_the_fingerprint(personas):
    client = client_for(personas.member)
    response = client.post("/ssh-keys/", {"name": "alice", "public_key": ED25519}, follow=True)
    key = SshKey.objects.get(organisation=personas.org)
    assert key.fingerprint in response.content.decode()


def test_bad_ssh_key_is_a_form_error(personas):
    response = client_for(personas.member).post("/ssh-keys/", {"name": "bad", "public_key": "ssh-rsa AAAA"})
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert not SshKey.objects.exists()


def test_duplicate_ssh_key_name_is_a_form_error(personas):
    services.ssh_key_create(organisation=personas.org, name="alice", public_key=ED25519, actor=personas.owner)
    response = client_for(personas.member).post("/ssh-keys/", {"name": "alice", "public_key": ED25519})
    assert response.status_code == 400
    assert "already registered" in response.content.decode()


def test_viewer_sees_keys_but_cannot_add_or_delete(personas):
    key = services.ssh_key_create(organisation=personas.org, name="alice", public_key=ED25519, actor=personas.owner)
    client = client_for(personas.viewer)
    html = client.get("/ssh-keys/").content.decode()
    assert key.fingerprint in html
    assert 'id="ssh-key-form"' not in html
    assert client.post("/ssh-keys/", {"name": "x", "public_key": ED25519}).status_code == 403
    assert client.post(f"/ssh-keys/{key.public_id}/delete/").status_code == 403
    assert SshKey.objects.filter(pk=key.pk).exists()


def test_member_deletes_a_key_and_outsider_gets_404(personas):
    key = services.ssh_key_create(organisation=personas.org, name="alice", public_key=ED25519, actor=personas.owner)
    assert client_for(personas.outsider).post(f"/ssh-keys/{key.public_id}/delete/").status_code == 404
    response = client_for(personas.member).post(f"/ssh-keys/{key.public_id}/delete/")
    assert response.status_code == 302
    assert not SshKey.objects.filter(pk=key.pk).exists()
