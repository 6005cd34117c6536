"""Portal pages of alerts: list with notices, create and edit form with field errors, a policy's page
with its incidents, the server page's Alerts tab, roles and isolation; the back office pages."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from apps.alerts import services
from apps.alerts.models import AlertNotice, AlertPolicy
from tests.alerts.conftest import points, server_row


def _form(personas, target, **extra):
    body = {
        "name": "cpu-high",
        "project": str(personas.project.pk),
        "metric": "cpu",
        "comparison": "gt",
        "threshold": "80",
        "duration_minutes": "5",
        "server": str(target.public_id),
        "label_selector": "",
        "email_members": "on",
        "emails": "oncall@example.net",
        "portal_notice": "on",
        "webhook_url": "",
        "enabled": "on",
    }
    body.update(extra)
    return body


def test_create_edit_and_see_a_policy_with_its_incidents(shop, personas, client):
    client.force_login(personas.owner)
    server = server_row(shop, personas)
    assert client.get("/alerts/").status_code == 200
    form = client.get("/alerts/new/", {"server": str(server.public_id)})
    assert form.status_code == 200 and form.context["form"].initial["server"] == str(server.public_id)
    bad = client.post("/alerts/new/", _form(personas, server, threshold="150"))
    assert bad.status_code == 400 and "threshold" in bad.context["form"].errors
    both = client.post("/alerts/new/", _form(personas, server, server="", label_selector=""))
    assert both.status_code == 400 and "server" in both.context["form"].errors
    response = client.post("/alerts/new/", _form(personas, server))
    assert response.status_code == 302
    policy = AlertPolicy.objects.get(name="cpu-high")
    assert policy.instance_id == server.pk and policy.emails == ["oncall@example.net"]

    edited = client.post(f"/alerts/{policy.public_id}/edit/", _form(personas, server, threshold="90", emails=""))
    assert edited.status_code == 302
    policy.refresh_from_db()
    assert policy.threshold == Decimal("90") and policy.emails == []

    now = timezone.now()
    with_capture = services.alert_policy_evaluate(
        policy=policy, instance=server, points=points(0.95, now=now.timestamp()), now=now
    )
    assert with_capture == "opened"
    services.alert_incident_notify(incident_id=policy.incidents.get().pk, event="fired")
    detail = client.get(f"/alerts/{policy.public_id}/").content.decode()
    assert "Firing" in detail and "95.00" in detail
    listing = client.get("/alerts/").content.decode()
    assert "alert-notices" in listing and "cpu-high" in listing
    tab = client.get(f"/servers/{server.public_id}/alerts/").content.decode()
    assert "cpu-high" in tab and "95.00" in tab
    dashboard = client.get("/dashboard/").content.decode()
    assert "dashboard-alert-notices" in dashboard and "cpu-high" in dashboard
    notice = AlertNotice.objects.get()
    assert client.post(f"/alerts/notices/{notice.pk}/dismiss/").status_code == 302
    notice.refresh_from_db()
    assert notice.dismissed_at is not None
    assert "dashboard-alert-notices" not in client.get("/dashboard/").content.decode()

    assert 'name="confirm_name"' in detail and "delete-form" in detail
    # No name, or a wrong one: back to the policy's page with an error; the policy stays.
    for wrong in ({}, {"confirm_name": "cpu-low"}):
        response = client.post(f"/alerts/{policy.public_id}/delete/", wrong)
        assert response.status_code == 302 and response.url == f"/alerts/{policy.public_id}/"
        assert AlertPolicy.objects.filter(pk=policy.pk).exists()
    assert client.get(f"/alerts/{policy.public_id}/delete/").status_code == 405
    response = client.post(f"/alerts/{policy.public_id}/delete/", {"confirm_name": "cpu-high"})
    assert response.status_code == 302 and response.url == "/alerts/"
    assert not AlertPolicy.objects.exists()


def test_viewer_reads_but_cannot_write_and_outsider_sees_nothing(shop, personas, client):
    server = server_row(shop, personas)
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
    client.force_login(personas.viewer)
    assert client.get(f"/alerts/{policy.public_id}/").status_code == 200
    assert client.get("/alerts/new/").status_code == 403
    assert client.post(f"/alerts/{policy.public_id}/delete/", {"confirm_name": "cpu"}).status_code == 403
    assert "delete-form" not in client.get(f"/alerts/{policy.public_id}/").content.decode()
    client.force_login(personas.outsider)
    assert client.get(f"/alerts/{policy.public_id}/").status_code == 404
    assert client.get(f"/alerts/{policy.public_id}/edit/").status_code == 404
    assert "cpu" not in client.get("/alerts/").content.decode().split("policy-table")[1]


def test_back_office_pages(shop, personas, client):
    server = server_row(shop, personas)
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
    client.force_login(personas.staff)
    for url in ("/admin/alerts/alertpolicy/", "/admin/alerts/alertincident/", "/admin/alerts/alertnotice/"):
        assert client.get(url).status_code == 200, url
    change = client.get(f"/admin/alerts/alertpolicy/{policy.pk}/change/")
    assert change.status_code == 200
    assert client.get("/admin/alerts/alertpolicy/add/").status_code == 403


def test_the_webhook_secret_is_shown_once_on_create_on_the_first_url_and_on_rotate(shop, personas, client):
    client.force_login(personas.owner)
    server = server_row(shop, personas)
    hook = "https://hooks.example.net/vmcloud"
    created = client.post("/alerts/new/", _form(personas, server, webhook_url=hook), follow=True)
    policy = AlertPolicy.objects.get(name="cpu-high")
    assert len(policy.webhook_secret) == 64
    assert policy.webhook_secret in created.content.decode()
    again = client.get(f"/alerts/{policy.public_id}/")
    assert policy.webhook_secret not in again.content.decode() and b'id="rotate-secret"' in again.content

    rotated = client.post(f"/alerts/{policy.public_id}/rotate-secret/", follow=True)
    old = policy.webhook_secret
    policy.refresh_from_db()
    assert policy.webhook_secret != old
    page = rotated.content.decode()
    assert policy.webhook_secret in page and old not in page
    assert policy.webhook_secret not in client.get(f"/alerts/{policy.public_id}/").content.decode()

    # A policy without a webhook has no secret to show; its first URL makes one, shown once.
    quiet = client.post("/alerts/new/", _form(personas, server, name="mem-high", metric="memory"), follow=True)
    assert quiet.status_code == 200
    second = AlertPolicy.objects.get(name="mem-high")
    assert second.webhook_secret == "" and b'id="rotate-secret"' not in quiet.content
    refused = client.post(f"/alerts/{second.public_id}/rotate-secret/", follow=True)
    assert "has no webhook" in refused.content.decode()
    edited = client.post(
        f"/alerts/{second.public_id}/edit/",
        _form(personas, server, name="mem-high", metric="memory", webhook_url=hook),
        follow=True,
    )
    second.refresh_from_db()
    assert len(second.webhook_secret) == 64 and second.webhook_secret in edited.content.decode()


def test_a_viewer_cannot_rotate_the_webhook_secret(shop, personas, client):
    server = server_row(shop, personas)
    policy = services.alert_policy_create(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        name="cpu-high",
        metric="cpu",
        comparison="gt",
        threshold=Decimal("80"),
        duration_minutes=5,
        instance=server,
        webhook_url="https://hooks.example.net/vmcloud",
    )
    client.force_login(personas.viewer)
    assert client.post(f"/alerts/{policy.public_id}/rotate-secret/").status_code == 403
    assert AlertPolicy.objects.get(pk=policy.pk).webhook_secret == policy.webhook_secret
