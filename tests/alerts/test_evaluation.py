"""Alert policies fire and resolve on the simulator's metrics, once per incident, notifying once each."""

from __future__ import annotations

import json
from decimal import Decimal

from django.core import mail

from apps.alerts import services
from apps.alerts.models import AlertIncident, AlertNotice
from apps.core.models import AuditEvent


def _policy(personas, server=None, **kwargs):
    args = {
        "actor": personas.owner,
        "organisation": personas.org,
        "project": personas.project,
        "name": "cpu-high",
        "metric": "cpu",
        "comparison": "gt",
        "threshold": Decimal("80"),
        "duration_minutes": 5,
        "instance": server,
        "emails": ["oncall@example.net"],
    }
    args.update(kwargs)
    return services.alert_policy_create(**args)


def test_policy_fires_once_and_resolves_with_one_notification_each(
    fleet,
    personas,
    running_server,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    policy = _policy(personas, running_server, webhook_url=webhook_receiver.url)
    fleet.sim.set_cpu_load(running_server.vmid, 0.95)

    with django_capture_on_commit_callbacks(execute=True):
        counts = services.alerts_evaluate_all()
    assert counts["opened"] == 1
    incident = AlertIncident.objects.get(policy=policy)
    assert incident.resolved_at is None and incident.value == Decimal("95.00") and incident.notified_at
    assert len(mail.outbox) == 1 and "oncall@example.net" in mail.outbox[0].to
    assert personas.owner.email in mail.outbox[0].to
    assert "cpu-high" in mail.outbox[0].subject and "95.00 %" in mail.outbox[0].body
    assert AlertNotice.objects.filter(incident=incident, event="fired").count() == 1
    assert len(webhook_receiver.requests) == 1
    hook = webhook_receiver.requests[0]
    assert services.alert_webhook_signature_verify(
        secret=policy.webhook_secret, body=hook["body"], header=hook["headers"]["X-VMCloud-Signature"]
    )
    assert not services.alert_webhook_signature_verify(
        secret="wrong", body=hook["body"], header=hook["headers"]["X-VMCloud-Signature"]
    )
    assert json.loads(hook["body"])["event"] == "alert.fired"

    # Still firing: no second incident, no second notification.
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.alerts_evaluate_all()["opened"] == 0
    assert AlertIncident.objects.filter(policy=policy).count() == 1
    assert len(mail.outbox) == 1 and len(webhook_receiver.requests) == 1

    # Back to normal: resolved once, told once.
    fleet.sim.set_cpu_load(running_server.vmid, 0.10)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_evaluate_all()["resolved"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_evaluate_all()["resolved"] == 0
    incident.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolved_notified_at is not None
    assert incident.last_value == Decimal("10.00") and incident.peak_value == Decimal("95.00")
    assert len(mail.outbox) == 2 and "Resolved" in mail.outbox[1].subject
    assert [json.loads(r["body"])["event"] for r in webhook_receiver.requests] == ["alert.fired", "alert.resolved"]
    assert AuditEvent.objects.filter(action__in=["alerts.incident.open", "alerts.incident.resolve"]).count() == 2

    # A new breach is a new incident.
    fleet.sim.set_cpu_load(running_server.vmid, 0.99)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_evaluate_all()["opened"] == 1
    assert AlertIncident.objects.filter(policy=policy).count() == 2
    assert len(mail.outbox) == 3


def test_below_policy_on_servers_by_label(fleet, personas, running_server, django_capture_on_commit_callbacks):
    policy = _policy(personas, label_selector="env=prod", comparison="lt", threshold=Decimal("5"), emails=[])
    other = _policy(personas, name="other", label_selector="env=staging", comparison="lt", threshold=Decimal("5"))
    fleet.sim.set_cpu_load(running_server.vmid, 0.01)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_evaluate_all()["opened"] == 1
    assert AlertIncident.objects.get(policy=policy).instance_id == running_server.pk
    assert not AlertIncident.objects.filter(policy=other).exists()


def test_disabling_a_policy_resolves_its_open_incident(
    fleet,
    personas,
    running_server,
    django_capture_on_commit_callbacks,
):
    policy = _policy(personas, running_server)
    fleet.sim.set_cpu_load(running_server.vmid, 0.95)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate_all()
    services.alert_policy_update(actor=personas.owner, policy=policy, enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_evaluate_all()["resolved"] == 1
    assert AlertIncident.objects.get(policy=policy).resolved_at is not None


def test_webhook_retries_on_5xx_only(
    fleet, personas, running_server, webhook_receiver, django_capture_on_commit_callbacks
):
    _policy(personas, running_server, webhook_url=webhook_receiver.url)
    webhook_receiver.statuses = [503, 200]
    fleet.sim.set_cpu_load(running_server.vmid, 0.95)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate_all()
    assert len(webhook_receiver.requests) == 2
    incident = AlertIncident.objects.get()
    assert incident.webhook_sent_at is not None and incident.webhook_status == "fired: HTTP 200"


def test_webhook_4xx_is_not_retried(
    fleet, personas, running_server, webhook_receiver, django_capture_on_commit_callbacks
):
    _policy(personas, running_server, webhook_url=webhook_receiver.url)
    webhook_receiver.statuses = [410]
    fleet.sim.set_cpu_load(running_server.vmid, 0.95)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate_all()
    assert len(webhook_receiver.requests) == 1
    incident = AlertIncident.objects.get()
    assert incident.webhook_sent_at is None and incident.webhook_status == "fired: HTTP 410"


def test_a_webhook_name_that_now_resolves_to_a_private_address_is_refused_not_retried(
    fleet, personas, running_server, django_capture_on_commit_callbacks, settings
):
    """The URL passed the save-time check; at delivery its name resolves inside VMCloud's network (rebinding)."""
    import socket
    from unittest import mock

    settings.ALERTS_WEBHOOK_ALLOW_LOOPBACK = False
    _policy(personas, running_server, webhook_url="https://hooks.customer.example/vmcloud")
    fleet.sim.set_cpu_load(running_server.vmid, 0.95)
    private = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.0.5", 443))]
    real_resolve = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        return private if host == "hooks.customer.example" else real_resolve(host, *args, **kwargs)

    # (Proxmox's metrics are read through urllib3 too, so the proof is the status, not a mock of urlopen.)
    with mock.patch("socket.getaddrinfo", side_effect=resolve), django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate_all()
    incident = AlertIncident.objects.get()
    assert incident.webhook_sent_at is None
    assert incident.webhook_status.startswith("refused:") and "10.20.0.5" in incident.webhook_status
