"""The Terraform provider, run by the real ``terraform`` binary against a live platform.

``live_server`` serves the API, provisioning runs on the Proxmox simulator through
eager Celery (as for the SDK and CLI tests), and Terraform installs the provider
offline from a filesystem mirror (docs page ``/docs/terraform/``).
"""

from __future__ import annotations

import json

import pytest

from apps.instances.models import Instance
from tests.clients.terraform import PROVIDER_BLOCK, Terraform

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example"

STACK = (
    PROVIDER_BLOCK
    + """
variable "name" {
  default = "web-1"
}
variable "offer" {
  default = "VPS-S"
}
variable "labels" {
  type    = map(string)
  default = { env = "prod" }
}

data "vmcloud_offers" "par" {
  datacentre = "PAR-1"
}
data "vmcloud_images" "all" {}
data "vmcloud_datacentres" "all" {}

resource "vmcloud_ssh_key" "deploy" {
  name       = "deploy"
  public_key = "PUBLIC_KEY"
  labels     = { team = "ops" }
}

resource "vmcloud_server" "web" {
  name       = var.name
  offer      = var.offer
  datacentre = "PAR-1"
  image      = "ubuntu-24.04"
  ssh_keys   = [vmcloud_ssh_key.deploy.id]
  labels     = var.labels

  timeouts {
    create = "10m"
    delete = "10m"
  }
}

output "ipv4" {
  value = vmcloud_server.web.ipv4
}
output "offer_codes" {
  value = data.vmcloud_offers.par.codes
}
output "image_slugs" {
  value = data.vmcloud_images.all.slugs
}
output "datacentre_codes" {
  value = data.vmcloud_datacentres.all.codes
}
"""
).replace("PUBLIC_KEY", PUBLIC_KEY)


def test_init_offline_plan_apply_update_import_drift_and_destroy(platform, tmp_path):
    tf = Terraform(tmp_path / "stack", url=platform.url, token=platform.token)
    tf.write(STACK)

    # init: from the filesystem mirror only (the CLI config forbids any other source).
    init = tf.init()
    assert "vmcloud.example/vmcloud/vmcloud" in init.out
    assert "0.1.0" in (tf.workdir / ".terraform.lock.hcl").read_text()

    # Secrets are sensitive in the schema Terraform received.
    schema = json.loads(tf.ok("providers", "schema", "-json").out)["provider_schemas"]
    provider = schema["vmcloud.example/vmcloud/vmcloud"]
    assert provider["provider"]["block"]["attributes"]["token"]["sensitive"] is True
    server_attrs = provider["resource_schemas"]["vmcloud_server"]["block"]["attributes"]
    assert server_attrs["user_data"]["sensitive"] is True
    assert "timeouts" in provider["resource_schemas"]["vmcloud_server"]["block"]["block_types"]

    assert tf.plan_exit().code == 2
    tf.apply()
    outputs = tf.outputs()
    server = Instance.objects.get(name="web-1")
    assert server.status == "running"
    assert outputs["ipv4"] == str(server.ipv4)
    assert "VPS-S" in outputs["offer_codes"] and "ubuntu-24.04" in outputs["image_slugs"]
    assert outputs["datacentre_codes"] == ["PAR-1"]
    state = tf.state()
    assert state["vmcloud_server.web"]["values"]["id"] == str(server.public_id)
    assert state["vmcloud_server.web"]["values"]["labels"] == {"env": "prod"}

    # A second plan is empty.
    assert tf.plan_exit().code == 0, tf.plan_exit().out

    # Name and labels change in place, a larger offer resizes in place: same server.
    tf.apply("-var", "name=web-2", "-var", 'labels={env="dev", tier="web"}', "-var", "offer=VPS-M")
    server.refresh_from_db()
    assert (server.name, server.labels, server.offer.code) == ("web-2", {"env": "dev", "tier": "web"}, "VPS-M")
    updated = ("-var", "name=web-2", "-var", 'labels={env="dev", tier="web"}', "-var", "offer=VPS-M")
    assert tf.plan_exit(*updated).code == 0

    # import: forget both resources, import them by id, and the plan is still empty.
    key_id = tf.state()["vmcloud_ssh_key.deploy"]["values"]["id"]
    tf.ok("state", "rm", "vmcloud_ssh_key.deploy", "vmcloud_server.web")
    tf.ok("import", *updated, "vmcloud_ssh_key.deploy", key_id)
    tf.ok("import", *updated, "vmcloud_server.web", str(server.public_id))
    # The timeouts block is configuration only: after an import it is the one in-place change, and applying
    # it calls nothing on the platform.
    plan = tf.plan_exit(*updated)
    assert "0 to add, 1 to change, 0 to destroy" in plan.out and "+ timeouts {" in plan.out, plan.out
    assert "forces replacement" not in plan.out
    tf.apply(*updated)
    assert tf.plan_exit(*updated).code == 0

    # An API error reaches the user with its code and request id.
    bad = tf.run("apply", "-input=false", "-auto-approve", "-var", "name=bad_name!", *updated[2:])
    assert bad.code == 1
    assert "VMCloud API error: invalid_name" in bad.err and "request id " in bad.err, bad.err
    assert "Traceback" not in bad.err

    # A server deleted outside Terraform is noticed at the next plan and created again.
    client = platform.client()
    client.instances_destroy(str(server.public_id)).wait(timeout=120, poll_interval=0.2)
    drift = tf.plan_exit(*updated)
    assert drift.code == 2 and "vmcloud_server.web will be created" in drift.out, drift.out
    tf.apply(*updated)
    recreated = tf.state()["vmcloud_server.web"]["values"]["id"]
    assert recreated != str(server.public_id)
    assert Instance.objects.get(public_id=recreated).status == "running"

    tf.ok("destroy", "-input=false", "-auto-approve", *updated)
    assert Instance.objects.get(public_id=recreated).status in ("deleted", "deleting")
    assert not list(client.ssh_keys_list_iter())
