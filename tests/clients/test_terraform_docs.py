"""The docs page ``/docs/terraform/``'s worked example, applied as written by the real ``terraform``.

The configuration is taken from the page itself (its ``terraform {}`` block and the
worked example), so the page cannot drift from what works.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apps.instances.models import Instance
from apps.teams.models import Project
from tests.clients.terraform import Terraform

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PAGE = Path(__file__).resolve().parents[2] / "apps" / "docs" / "content" / "terraform.md"


def _hcl_blocks(text: str) -> list[str]:
    return re.findall(r"```hcl\n(.*?)```", text, flags=re.S)


def test_the_worked_example_of_the_docs_applies_plans_empty_and_destroys(platform, tmp_path):
    blocks = _hcl_blocks(PAGE.read_text())
    configure = next(b for b in blocks if "required_providers" in b)
    example = next(b for b in blocks if 'resource "vmcloud_server"' in b)
    tf = Terraform(tmp_path / "example", url=platform.url, token=platform.token)
    tf.write(configure + "\n" + example)
    variables = ("-var", f"offer={platform.fleet.vps_offer.code}", "-var", f"datacentre={platform.fleet.dc.code}")

    tf.init()
    tf.apply(*variables)
    server = Instance.objects.get(name="shop-web-1")
    project = Project.objects.get(organisation=platform.personas.org, name="shop")
    assert (server.status, server.labels) == ("running", {"app": "shop", "role": "web"})
    assert project.description == "The web shop" and project.labels == {"team": "web"}
    outputs = tf.outputs()
    assert outputs["address"] == str(server.ipv4)
    assert outputs["shop_servers"] == [str(server.public_id)]
    schedule = platform.client().snapshot_schedule_retrieve(str(server.public_id))
    assert (schedule["frequency"], schedule["hour"], schedule["retention"]) == ("daily", 3, 1)

    second = tf.plan_exit(*variables)
    assert second.code == 0, second.out

    tf.ok("destroy", "-input=false", "-auto-approve", *variables)
    server.refresh_from_db()
    assert server.status in ("deleted", "deleting")
    assert not Project.objects.filter(id=project.id).exists()
