"""``vmcloud_alert_policy`` through the real ``terraform`` against a live platform.

Apply a policy on a label selector, an empty second plan, changes in place (threshold,
switch off, another selector), a policy deleted outside Terraform created again, import,
destroy. The policy watches a selector, so no server (and no worker) is needed.
"""

from __future__ import annotations

import pytest

from apps.alerts.models import AlertPolicy
from tests.clients.terraform import PROVIDER_BLOCK, Terraform

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STACK = (
    PROVIDER_BLOCK
    + """
variable "threshold" {
  default = 90
}
variable "enabled" {
  default = true
}
variable "selector" {
  default = "role=web"
}

resource "vmcloud_alert_policy" "cpu" {
  name           = "cpu-high"
  metric         = "cpu"
  comparison     = "gt"
  threshold      = var.threshold
  label_selector = var.selector
  enabled        = var.enabled
  emails         = ["ops@example.com"]
  webhook_url    = "https://hooks.example.com/vmcloud"
  labels         = { team = "web" }
}

output "secret" {
  value     = vmcloud_alert_policy.cpu.webhook_secret
  sensitive = true
}
output "unit" {
  value = vmcloud_alert_policy.cpu.unit
}
"""
)
CHANGED = ("-var", "threshold=75.5", "-var", "enabled=false", "-var", "selector=role=api")


def test_alert_policy_apply_update_drift_import_and_destroy(platform, tmp_path):
    tf = Terraform(tmp_path / "alerts", url=platform.url, token=platform.token)
    tf.write(STACK)
    tf.init()
    tf.apply()
    policy = AlertPolicy.objects.get(name="cpu-high")
    assert (policy.metric, policy.comparison, str(policy.threshold), policy.label_selector) == (
        "cpu",
        "gt",
        "90.00",
        "role=web",
    )
    assert policy.emails == ["ops@example.com"] and policy.labels == {"team": "web"} and policy.enabled
    outputs = tf.outputs()
    assert outputs["unit"] == "%" and outputs["secret"] == policy.webhook_secret != ""
    assert tf.plan_exit().code == 0

    update = tf.apply(*CHANGED)
    assert "0 added" in update.out and "0 destroyed" in update.out, update.out
    policy.refresh_from_db()
    assert (str(policy.threshold), policy.enabled, policy.label_selector) == ("75.50", False, "role=api")
    assert tf.plan_exit(*CHANGED).code == 0

    # Deleted outside Terraform: the next plan notices and creates it again.
    platform.client().alert_policies_destroy(str(policy.public_id))
    drift = tf.plan_exit(*CHANGED)
    assert drift.code == 2 and "1 to add" in drift.out, drift.out
    tf.apply(*CHANGED)
    again = AlertPolicy.objects.get(name="cpu-high")
    assert again.public_id != policy.public_id

    # Import into a fresh state, then destroy.
    tf.ok("state", "rm", "vmcloud_alert_policy.cpu")
    tf.ok("import", "-input=false", *CHANGED, "vmcloud_alert_policy.cpu", str(again.public_id))
    state = tf.state()["vmcloud_alert_policy.cpu"]["values"]
    assert state["threshold"] == 75.5 and state["label_selector"] == "role=api" and state["webhook_secret"] is None
    tf.ok("destroy", "-input=false", "-auto-approve", *CHANGED)
    assert not AlertPolicy.objects.filter(name="cpu-high").exists()
