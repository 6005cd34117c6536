"""The docs page ``/docs/terraform/#load-balancers``'s example, applied as written by the real ``terraform``.

The configuration is taken from the page itself (its ``terraform {}`` block and the load
balancer example), with the certificate files it reads written beside it, on a platform
that runs load balancers (``tests/clients/lbsim.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apps.instances.models import Instance
from apps.loadbalancers.models import LoadBalancer
from apps.managed.choices import ServiceState
from tests.clients.lbsim import lb_platform, pvesim  # noqa: F401  (fixtures)
from tests.clients.terraform import Terraform
from tests.loadbalancers.support import make_chain

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PAGE = Path(__file__).resolve().parents[2] / "apps" / "docs" / "content" / "terraform.md"


def test_the_load_balancer_example_of_the_docs_applies_plans_empty_and_destroys(lb_platform, tmp_path):  # noqa: F811
    blocks = re.findall(r"```hcl\n(.*?)```", PAGE.read_text(), flags=re.S)
    configure = next(b for b in blocks if "required_providers" in b)
    example = next(b for b in blocks if 'resource "vmcloud_load_balancer"' in b)
    tf = Terraform(tmp_path / "example", url=lb_platform.url, token=lb_platform.token)
    tf.write(configure + "\n" + example)
    chain = make_chain(("shop.example.com",))
    (tf.workdir / "shop.example.com.crt").write_text(chain.leaf.certificate)
    (tf.workdir / "shop.example.com.key").write_text(chain.leaf.key)
    (tf.workdir / "chain.crt").write_text(chain.intermediate.certificate)
    variables = ("-var", f"web_offer={lb_platform.fleet.vps_offer.code}")

    tf.init()
    tf.apply("-parallelism=1", *variables)
    lb = LoadBalancer.objects.select_related("service", "certificate").get(service__name="front")
    servers = {str(i.public_id) for i in Instance.objects.filter(labels__role="web")}
    assert lb.service.state == ServiceState.ACTIVE and len(servers) == 2
    assert [(r["protocol"], r["port"]) for r in lb.rules] == [("HTTP", 80), ("HTTPS", 443)]
    assert lb.redirect_http_to_https and lb.sticky_sessions == {"cookie_name": "LBSTICKY", "ttl_seconds": 600}
    assert lb.certificate is not None and lb.tls_mode == "terminate"
    assert {t["id"] for t in lb.applied_targets} == servers and lb.applied_generation == lb.config_generation
    assert tf.outputs()["lb_urls"] == lb.service.endpoints["urls"]

    second = tf.plan_exit(*variables)
    assert second.code == 0, second.out

    tf.ok("destroy", "-input=false", "-auto-approve", "-parallelism=1", *variables)
    lb.service.refresh_from_db()
    assert lb.service.state == ServiceState.CANCELLED
