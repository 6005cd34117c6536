"""vmcl's alert-policy commands against a live platform: create on a server by name, list, update, labels,
incidents, rotate the secret, delete; a refused input is one line with the API's code."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.alerts.models import AlertIncident, AlertPolicy
from apps.instances.models import Instance
from tests.clients.cli import run_vmcl

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_alert_policies_through_the_cli(platform, tmp_path):
    config = tmp_path / "config.toml"
    env = {"VMCL_URL": platform.url, "VMCL_TOKEN": platform.token}

    def vmcl(*args: str):
        result = run_vmcl(*args, config=config, env=env)
        assert "Traceback" not in result.err
        return result

    def as_json(*args: str):
        result = vmcl(*args, "-o", "json")
        assert result.code == 0, f"vmcl {' '.join(args)}: {result.err}"
        return json.loads(result.out)

    fleet = platform.fleet
    as_json(
        "server", "create", "--name", "db-1", "--offer", fleet.vps_offer.code, "--datacentre", fleet.dc.code,
        "--image", fleet.ubuntu24.slug, "--wait",
    )  # fmt: skip
    created = vmcl(
        "alert-policy", "create", "--name", "disk-full", "--metric", "disk", "--threshold", "85", "--server", "db-1",
        "--duration", "10", "--webhook-url", "https://hooks.example.com/vmcloud", "--label", "env=prod", "-o", "json",
    )  # fmt: skip
    assert created.code == 0, created.err
    shown = json.loads(created.out)
    policy = AlertPolicy.objects.get(name="disk-full")
    server = Instance.objects.get(name="db-1")
    assert shown["webhook_secret"] == policy.webhook_secret != "" and "shown once" in created.err
    assert (policy.instance_id, policy.threshold, policy.duration_minutes) == (server.pk, Decimal("85"), 10)

    listed = vmcl("alert-policy", "list", "--metric", "disk", "-l", "env=prod", "--no-header")
    assert listed.out.split()[:2] == [str(policy.public_id), "disk-full"]
    assert vmcl("alert-policy", "list", "--disabled", "--no-header").out == ""

    updated = as_json("alert-policy", "update", "disk-full", "--target-selector", "role=db", "--disabled")
    assert (updated["server_id"], updated["label_selector"], updated["enabled"]) == (None, "role=db", False)
    assert as_json("alert-policy", "add-label", "disk-full", "team=dba")["labels"] == {"env": "prod", "team": "dba"}
    assert "webhook_secret" not in as_json("alert-policy", "describe", "disk-full")

    AlertIncident.objects.create(
        policy=policy, instance=server, opened_at=timezone.now(), value=90, peak_value=93, last_value=91
    )
    incidents = as_json("alert-policy", "incidents", "disk-full")
    assert [(i["server_name"], i["state"], i["peak_value"]) for i in incidents] == [("db-1", "firing", "93.00")]

    rotated = as_json("alert-policy", "rotate-secret", "disk-full")
    policy.refresh_from_db()
    assert rotated["webhook_secret"] == policy.webhook_secret != shown["webhook_secret"]

    refused = vmcl("alert-policy", "update", "disk-full", "--threshold", "150")
    assert refused.code == 3 and len(refused.err.strip().splitlines()) == 1 and "(request " in refused.err

    deleted = vmcl("alert-policy", "delete", "disk-full")
    assert deleted.code == 0, deleted.err
    assert not AlertPolicy.objects.filter(pk=policy.pk).exists()
    gone = vmcl("alert-policy", "describe", "disk-full")
    assert gone.code == 5 and "disk-full" in gone.err
