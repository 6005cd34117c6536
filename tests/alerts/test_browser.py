"""Clicking through alert policies in Chromium (Playwright) against the Proxmox simulator.

A member opens a server's "Alerts" tab, creates a CPU policy for it, then the simulator's CPU for the
VM is pinned high: the evaluation (run here as the beat would) opens an incident the policy page shows
as firing, with a notice on the Alerts page; back to idle, the incident shows resolved.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core import mail

from apps.alerts import services
from apps.alerts.models import AlertIncident, AlertPolicy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("VMC_SHOTS", "/tmp/shots"))


def _shot(page, name: str) -> None:
    """Screenshots for reviewers; never asserted on."""
    if os.environ.get("VMC_SHOTS") is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_member_creates_a_policy_that_fires_and_resolves(login_page, fleet, personas, running_server):
    page = login_page(personas.member)
    page.goto(f"/servers/{running_server.public_id}/alerts/")
    page.wait_for_selector("#no-server-policies")
    page.click("text=Create an alert policy")
    page.fill("#id_name", "cpu-high")
    page.select_option("#id_metric", "cpu")
    page.select_option("#id_comparison", "gt")
    page.fill("#id_threshold", "150")
    page.fill("#id_emails", "oncall@example.net")
    page.click("#save-policy")
    # A percentage above 100 comes back with the field's error, the rest kept.
    page.wait_for_selector("#error-threshold")
    assert page.input_value("#id_name") == "cpu-high"
    page.fill("#id_threshold", "80")
    _shot(page, "alert-policy-form")
    page.click("#save-policy")
    page.wait_for_url(lambda url: "/alerts/" in url and "/new/" not in url)
    policy = AlertPolicy.objects.get(name="cpu-high")
    assert policy.instance_id == running_server.pk and policy.emails == ["oncall@example.net"]
    page.wait_for_selector("#no-incidents")

    fleet.sim.set_cpu_load(running_server.vmid, 0.97)
    assert services.alerts_evaluate_all()["opened"] == 1
    page.reload()
    assert "Firing" in page.locator("#incident-table").inner_text()
    assert "97.00" in page.locator("#incident-table").inner_text()
    _shot(page, "alert-policy-firing")
    page.goto("/alerts/")
    assert "cpu-high" in page.locator("#alert-notices").inner_text()
    page.evaluate("document.documentElement.setAttribute('data-theme', 'dark')")
    _shot(page, "alert-policies-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/alerts/{policy.public_id}/")
    # Nothing is wider than a phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "alert-policy-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    fleet.sim.set_cpu_load(running_server.vmid, 0.05)
    assert services.alerts_evaluate_all()["resolved"] == 1
    page.goto(f"/alerts/{policy.public_id}/")
    assert "Firing" not in page.locator("#incident-table").inner_text()
    _shot(page, "alert-policy-resolved")
    incident = AlertIncident.objects.get(policy=policy)
    assert incident.resolved_at is not None
    assert [m.subject.split(":")[0] for m in mail.outbox if "oncall@example.net" in m.to] == [
        "[VMCloud] Alert",
        "[VMCloud] Resolved",
    ]

    # Its first webhook URL makes a signing secret, shown once; "New signing secret" makes another.
    page.click("#edit-policy")
    page.fill("#id_webhook_url", "https://hooks.example.net/vmcloud")
    page.click("#save-policy")
    page.wait_for_selector("#webhook-secret")
    policy.refresh_from_db()
    assert page.inner_text("#webhook-secret-value") == policy.webhook_secret != ""
    _shot(page, "alert-policy-webhook-secret")
    page.reload()
    assert page.locator("#webhook-secret").count() == 0
    first = policy.webhook_secret
    page.click("#rotate-secret")
    page.wait_for_selector("#webhook-secret")
    policy.refresh_from_db()
    assert page.inner_text("#webhook-secret-value") == policy.webhook_secret != first

    # Deleting asks for the policy's name (no JavaScript): a wrong name keeps it, the right one deletes it.
    page.fill("#id_confirm_name", "cpu-low")
    page.click("#delete-submit")
    page.wait_for_selector("#delete-form")
    assert AlertPolicy.objects.filter(pk=policy.pk).exists()
    assert "exact name" in page.content()
    _shot(page, "alert-policy-delete-refused")
    page.fill("#id_confirm_name", "cpu-high")
    page.click("#delete-submit")
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/alerts"))
    assert not AlertPolicy.objects.filter(pk=policy.pk).exists()
