"""Managed services through the SDK, vmcl and the real ``terraform`` against a live platform.

A web hosting family with two tiers sold in PAR-1. The SDK orders a service and
waits for it while "staff" deliver it (``service_deliver``, as the back office
does); vmcl lists, relabels, changes its tier, reveals its credentials once,
shows its transitions and cancels it with the typed name; Terraform orders one,
changes it in place, imports it, notices it cancelled outside Terraform, and
cancels it on destroy.
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal

import pytest

from apps.catalogue.choices import FamilyKind
from apps.managed.models import ManagedService
from apps.managed.services import service_deliver
from tests.clients.cli import run_vmcl
from tests.clients.terraform import PROVIDER_BLOCK, Terraform
from tests.infrastructure.factories import FamilyFactory, OfferFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WEB = {"domain": "shop.example.com", "runtime": "php", "version": "8.3"}


@pytest.fixture
def web_tiers(platform):
    family = FamilyFactory(slug="web-hosting", name="Web hosting", kind=FamilyKind.MANAGED_SERVICE)
    tiers = []
    for code, monthly in (("WEB-TEST", "4.99"), ("WEB-TEST-PRO", "14.60")):
        offer = OfferFactory(
            family=family, code=code, vcpu=None, ram_gb=None, disk_gb=None, price_monthly=Decimal(monthly)
        )
        offer.datacentres.add(platform.fleet.dc)
        tiers.append(offer)
    return tiers


def _deliver(public_id: str) -> None:
    service = ManagedService.objects.get(public_id=public_id)
    service_deliver(
        service=service,
        actor=None,
        endpoints={"urls": ["https://shop.example.com"], "hostnames": ["shop.example.com"]},
        credentials={"sftp_password": "s3cret"},
    )


def test_sdk_orders_waits_for_delivery_and_cancels_a_service(platform, web_tiers):
    api = platform.client()
    order, service = api.create_service(name="shop", offer="WEB-TEST", datacentre="PAR-1", service=WEB)
    assert service is not None and service["state"] == "provisioning" and order["service"] == service["id"]
    assert service["config"]["domain"] == "shop.example.com"
    delivery = threading.Timer(1.0, _deliver, args=(service["id"],))
    delivery.start()
    try:
        active = api.wait_service(service["id"], timeout=60, interval=0.5)
    finally:
        delivery.join()
    assert active["state"] == "active" and active["endpoints"]["urls"] == ["https://shop.example.com"]
    assert [s["id"] for s in api.services_list_iter(family=["web_hosting"], label_selector="!nope")] == [service["id"]]
    with pytest.raises(Exception) as refused:
        api.services_destroy(service["id"], confirm="not-its-name")
    assert getattr(refused.value, "code", "") == "confirmation_mismatch"
    cancelled = api.cancel_service(service["id"], reason="sdk test")
    assert cancelled["state"] == "cancelled"


def test_vmcl_orders_and_manages_a_service(platform, web_tiers, tmp_path):
    config = tmp_path / "config.toml"
    env = {"VMCL_URL": platform.url, "VMCL_TOKEN": platform.token}

    def vmcl(*args: str, stdin: str = ""):
        result = run_vmcl(*args, config=config, env=env, stdin=stdin)
        assert "Traceback" not in result.err
        return result

    def as_json(*args: str, stdin: str = ""):
        result = vmcl(*args, "-o", "json", stdin=stdin)
        assert result.code == 0, f"vmcl {' '.join(args)}: {result.err}"
        return json.loads(result.out)

    order = as_json(
        "order", "create", "--name", "site", "--offer", "WEB-TEST", "--datacentre", "PAR-1",
        "--service-json", json.dumps({"domain": "site.example.com"}), "--service", "runtime=php",
        "--service", "version=8.3",
    )  # fmt: skip
    service_id = order["service"]
    assert ManagedService.objects.get(public_id=service_id).config["domain"] == "site.example.com"
    bad = vmcl("order", "create", "--name", "x", "--offer", "WEB-TEST", "--datacentre", "PAR-1",
               "--service", "domain=not a domain", "--service", "runtime=php", "--service", "version=8.3")  # fmt: skip
    assert bad.code == 3 and len(bad.err.strip().splitlines()) == 1 and "request" in bad.err, bad.err

    listed = vmcl("service", "list", "--family", "web_hosting", "-l", "team=web")
    assert (
        listed.code == 0
        and listed.out.strip() == "ID   NAME   FAMILY   TIER   STATE   DATACENTRE   PRICE_MONTHLY   LABELS"
    )
    assert as_json("service", "add-label", "site", "team=web")["labels"] == {"team": "web"}
    rows = as_json("service", "list", "--label-selector", "team=web", "--state", "provisioning")
    assert [r["id"] for r in rows] == [service_id]
    early = vmcl("service", "change-tier", "site", "--tier", "WEB-TEST-PRO")
    assert early.code == 6, early.err

    _deliver(service_id)
    assert as_json("service", "change-tier", "site", "--tier", "WEB-TEST-PRO")["tier"] == "WEB-TEST-PRO"
    assert as_json("service", "credentials", "site") == {"sftp_password": "s3cret"}
    again = vmcl("service", "credentials", "site")
    assert again.code == 6 and "[service_credentials_already_revealed]" in again.err
    assert as_json("service", "update", "site", "--protect")["delete_protection"] is True
    protected = vmcl("service", "cancel", "site", "--yes")
    assert protected.code == 6 and "[delete_protected]" in protected.err
    as_json("service", "update", "site", "--no-protect")
    assert [t["to_state"] for t in as_json("service", "transitions", "site")][:2] == ["provisioning", "active"]
    wrong = vmcl("service", "cancel", "site", stdin="typo\n")
    assert wrong.code == 3 and "[confirmation_mismatch]" in wrong.err
    assert as_json("service", "cancel", "site", stdin="site\n")["state"] == "cancelled"


STACK = (
    PROVIDER_BLOCK
    + """
variable "tier" {
  default = "WEB-TEST"
}
variable "labels" {
  type    = map(string)
  default = { env = "prod" }
}

resource "vmcloud_service" "site" {
  name       = "tf-site"
  offer      = var.tier
  datacentre = "PAR-1"
  config     = jsonencode({ domain = "tf.example.com", runtime = "php", version = "8.3" })
  labels     = var.labels

  # An imported service's config is the API's copy (normalised by the platform): as the docs say.
  lifecycle {
    ignore_changes = [config]
  }
}

data "vmcloud_services" "web" {
  family     = "web_hosting"
  depends_on = [vmcloud_service.site]
}

output "state" {
  value = vmcloud_service.site.state
}
output "service_ids" {
  value = data.vmcloud_services.web.ids
}
"""
)


def test_terraform_orders_changes_imports_and_cancels_a_service(platform, web_tiers, tmp_path):
    tf = Terraform(tmp_path / "stack", url=platform.url, token=platform.token)
    tf.write(STACK)
    tf.init()
    started = time.monotonic()
    tf.apply()
    service = ManagedService.objects.get(name="tf-site")
    assert (service.state, service.offer.code, service.labels) == ("provisioning", "WEB-TEST", {"env": "prod"})
    assert service.config["domain"] == "tf.example.com"
    assert tf.outputs()["state"] == "provisioning"
    assert tf.plan_exit().code == 0

    # Labels in place; the tier in place once delivered (the API changes an active service's tier).
    _deliver(str(service.public_id))
    changed = tf.apply("-var", "tier=WEB-TEST-PRO", "-var", 'labels={env="staging"}')
    assert "0 added" in changed.out and "0 destroyed" in changed.out, changed.out
    service.refresh_from_db()
    assert (service.offer.code, service.labels, service.state) == ("WEB-TEST-PRO", {"env": "staging"}, "changing")
    assert tf.plan_exit("-var", "tier=WEB-TEST-PRO", "-var", 'labels={env="staging"}').code == 0
    assert tf.outputs()["service_ids"] == [str(service.public_id)]

    # Import by id: the plan stays empty.
    tf.ok("state", "rm", "vmcloud_service.site")
    tf.ok("import", "-var", "tier=WEB-TEST-PRO", "-var", 'labels={env="staging"}', "vmcloud_service.site",
          str(service.public_id))  # fmt: skip
    after_import = tf.plan_exit("-var", "tier=WEB-TEST-PRO", "-var", 'labels={env="staging"}')
    assert after_import.code == 0, after_import.out

    # Cancelled outside Terraform: the next plan orders a new one.
    platform.client().cancel_service(str(service.public_id))
    drift = tf.plan_exit("-var", "tier=WEB-TEST-PRO", "-var", 'labels={env="staging"}')
    assert drift.code == 2 and "vmcloud_service.site will be created" in drift.out, drift.out
    tf.apply("-var", "tier=WEB-TEST-PRO", "-var", 'labels={env="staging"}')
    second = ManagedService.objects.exclude(pk=service.pk).get(name="tf-site")
    assert second.state == "provisioning"

    tf.ok("destroy", "-input=false", "-auto-approve", "-var", "tier=WEB-TEST-PRO", "-var", 'labels={env="staging"}')
    second.refresh_from_db()
    assert second.state == "cancelled"
    print(f"terraform service scenario {time.monotonic() - started:.1f}s")
