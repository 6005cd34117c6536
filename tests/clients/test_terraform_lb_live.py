"""``vmcloud_load_balancer`` through the real ``terraform`` against a live platform running load balancers.

The simulator's fleet gains what load balancers need (``tests/clients/lbsim.py``), so an
order builds the load balancer's VM and the real ``haproxy -c`` checks every configuration
the guest agent writes. One scenario, since every Terraform command starts the Python
provider: apply two servers and a load balancer over their label; an empty plan; the data
source finds it by name; in place, a rule changed, an HTTPS rule with its certificate,
sticky sessions and another tier; a health check changed outside Terraform noticed and put
back; import; destroy (= cancel).
"""

from __future__ import annotations

import time

import pytest

from apps.instances.models import Instance
from apps.loadbalancers.models import LoadBalancer
from apps.managed.choices import ServiceState
from tests.clients.lbsim import lb_platform, pvesim  # noqa: F401  (fixtures)
from tests.clients.terraform import PROVIDER_BLOCK, Terraform
from tests.loadbalancers.support import make_chain

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


STACK = (
    PROVIDER_BLOCK
    + """
variable "target_port" {
  default = 8080
}
variable "tier" {
  default = "LB-STARTER"
}
variable "https" {
  default = false
}
variable "certificate" {
  default = null
}
variable "private_key" {
  default   = null
  sensitive = true
}

resource "vmcloud_server" "web" {
  count      = 2
  name       = "web-${count.index + 1}"
  offer      = "VPS-S"
  datacentre = "PAR-1"
  image      = "ubuntu-24.04"
  labels     = { role = "web" }
}

resource "vmcloud_load_balancer" "front" {
  name       = "front"
  offer      = var.tier
  datacentre = "PAR-1"
  labels     = { env = "prod" }

  rule {
    protocol        = "HTTP"
    port            = 80
    target_protocol = "HTTP"
    target_port     = var.target_port
  }
  dynamic "rule" {
    for_each = var.https ? [443] : []
    content {
      protocol        = "HTTPS"
      port            = rule.value
      target_protocol = "HTTP"
      target_port     = var.target_port
    }
  }

  target {
    label_selector = "role=web"
  }

  health_check {
    protocol = "http"
    path     = "/healthz"
  }

  dynamic "sticky_sessions" {
    for_each = var.https ? [1] : []
    content {
      ttl_seconds = 600
    }
  }

  certificate = var.certificate
  private_key = var.private_key

  timeouts {
    create = "5m"
    update = "5m"
  }

  depends_on = [vmcloud_server.web]
}

output "urls" {
  value = vmcloud_load_balancer.front.urls
}
output "targets" {
  value = vmcloud_load_balancer.front.applied_target_ids
}
"""
)
DATA = """
data "vmcloud_load_balancer" "front" {
  # By name; the reference makes Terraform read it again after each change of the load balancer.
  name = vmcloud_load_balancer.front.name
}

output "lb_id" {
  value = data.vmcloud_load_balancer.front.id
}
output "lb_state" {
  value = data.vmcloud_load_balancer.front.state
}
output "lb_rule_ports" {
  value = data.vmcloud_load_balancer.front.rules[*].port
}
output "lb_servers" {
  value = data.vmcloud_load_balancer.front.applied_target_ids
}
"""
SERIAL = ("-parallelism=1",)
ADDRESS = "vmcloud_load_balancer.front"


def _lb() -> LoadBalancer:
    return LoadBalancer.objects.select_related("service", "certificate", "instance").get(service__name="front")


def test_load_balancer_apply_change_a_rule_drift_import_and_destroy(lb_platform, tmp_path):  # noqa: F811
    tf = Terraform(tmp_path / "stack", url=lb_platform.url, token=lb_platform.token)
    tf.write(STACK)
    chain = make_chain(("shop.example.com",))
    (tf.workdir / "cert.pem").write_text(chain.leaf.certificate)
    (tf.workdir / "key.pem").write_text(chain.leaf.key)
    changed = (
        "-var", "target_port=9090", "-var", "https=true", "-var", "tier=LB-BUSINESS",
        "-var", f"certificate={chain.leaf.certificate}", "-var", f"private_key={chain.leaf.key}",
    )  # fmt: skip
    tf.init()

    started = time.monotonic()
    tf.apply(*SERIAL)
    first_apply = time.monotonic() - started
    lb = _lb()
    servers = {str(i.public_id) for i in Instance.objects.filter(name__in=["web-1", "web-2"])}
    assert lb.service.state == ServiceState.ACTIVE, lb.apply_error
    assert lb.rules == [{"protocol": "HTTP", "port": 80, "target_protocol": "HTTP", "target_port": 8080}]
    assert lb.targets == [{"kind": "label_selector", "label_selector": "role=web"}]
    assert (lb.health_check["protocol"], lb.health_check["path"], lb.health_check["interval_seconds"]) == (
        "http",
        "/healthz",
        5,
    )
    assert lb.applied_generation == lb.config_generation and {t["id"] for t in lb.applied_targets} == servers
    assert lb.service.labels == {"env": "prod"}
    outputs = tf.outputs()
    assert set(outputs["targets"]) == servers and outputs["urls"] == lb.service.endpoints["urls"]

    plan = tf.plan_exit()
    assert plan.code == 0, plan.out

    # The data source finds it by name (read at plan time, now that it exists).
    tf.write(DATA, "data.tf")
    tf.apply(*SERIAL)
    found = tf.outputs()
    assert found["lb_id"] == str(lb.service.public_id) and found["lb_state"] == "active"
    assert found["lb_rule_ports"] == ["80"] and set(found["lb_servers"]) == servers
    assert tf.plan_exit().code == 0

    # A rule changed, an HTTPS rule with its certificate and sticky sessions: all in place.
    started = time.monotonic()
    update = tf.apply(*SERIAL, *changed)
    update_apply = time.monotonic() - started
    assert "0 added" in update.out and "0 destroyed" in update.out, update.out
    lb = _lb()
    assert [(r["protocol"], r["port"], r["target_port"]) for r in lb.rules] == [
        ("HTTP", 80, 9090),
        ("HTTPS", 443, 9090),
    ]
    assert lb.certificate is not None and lb.tls_mode == "terminate"
    assert (lb.service.offer.code, lb.service.state) == ("LB-BUSINESS", ServiceState.ACTIVE)
    assert lb.sticky_sessions == {"cookie_name": "LBSTICKY", "ttl_seconds": 600}
    assert lb.applied_generation == lb.config_generation
    guest = lb_platform.fleet.sim.guest(lb.instance.vmid)
    assert ":443" in guest.haproxy_config.decode() and ":9090" in guest.haproxy_config.decode()
    state = tf.state()[ADDRESS]["values"]
    assert state["certificate_names"][0] == "shop.example.com" and state["tls_mode"] == "terminate"
    assert (state["offer"], state["state"]) == ("LB-BUSINESS", "active")
    assert tf.plan_exit(*changed).code == 0

    # Changed outside Terraform: the next plan shows it, and apply puts the configuration back.
    api = lb_platform.client()
    api.load_balancers_health_check_set(str(lb.service.public_id), body={"interval_seconds": 30})
    drift = tf.plan_exit(*changed)
    assert drift.code == 2 and "interval_seconds" in drift.out and "1 to change" in drift.out, drift.out
    tf.apply(*SERIAL, *changed)
    assert _lb().health_check["interval_seconds"] == 5
    assert tf.plan_exit(*changed).code == 0

    # Import: the platform never answers the certificate's PEM, so the first plan sets it again in
    # place; the apply sends nothing (same fingerprint) and the plan after it is empty.
    service_id = tf.state()[ADDRESS]["values"]["id"]
    generation = _lb().config_generation
    tf.ok("state", "rm", ADDRESS)
    tf.ok("import", *changed, ADDRESS, service_id)
    after_import = tf.plan_exit(*changed)
    assert "0 to add, 1 to change, 0 to destroy" in after_import.out, after_import.out
    assert "vmcloud_load_balancer.front will be updated in-place" in after_import.out, after_import.out
    # Only the certificate and its key: the two rules, the target, the health check and sticky sessions match.
    assert "+ certificate" in after_import.out and "+ private_key" in after_import.out, after_import.out
    assert "(5 unchanged blocks hidden)" in after_import.out, after_import.out
    tf.apply(*SERIAL, *changed)
    assert _lb().config_generation == generation, "the same certificate is not uploaded again"
    assert tf.plan_exit(*changed).code == 0

    started = time.monotonic()
    tf.ok("destroy", "-input=false", "-auto-approve", *SERIAL, *changed)
    destroy = time.monotonic() - started
    lb = _lb()
    assert lb.service.state == ServiceState.CANCELLED
    assert not Instance.objects.filter(name__in=["web-1", "web-2"]).exclude(status="deleted").exists()
    print(f"terraform apply {first_apply:.1f}s, update {update_apply:.1f}s, destroy {destroy:.1f}s")
