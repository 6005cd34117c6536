"""`make run`'s demo data: catalogue, fleet and logins that work straight away, idempotently."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.billing.models import CreditGrant
from apps.catalogue.models import Offer
from apps.infrastructure.models import ClusterStorage, GpuDevice
from apps.networks.models import NetworkZone
from apps.pvesim.fleet import load_fleet
from apps.pvesim.netstate import firewall_state
from apps.pvesim.state import SimCluster
from apps.teams.choices import Role
from apps.teams.models import Membership

pytestmark = pytest.mark.django_db


def test_demo_setup_gives_a_customer_who_can_order_and_is_idempotent(client):
    call_command("demo_setup", verbosity=0)
    call_command("demo_setup", verbosity=0)

    # The catalogue's 36 offers, and the floating IPs' add-on at its marked placeholder price (issue 13).
    assert Offer.objects.exclude(family__slug="add-ons").count() == 36
    assert Offer.objects.get(family__slug="add-ons").description.startswith("PLACEHOLDER PRICE")
    assert GpuDevice.objects.count() == 85
    customer = User.objects.get(email="demo@vmcloud.test")
    membership = Membership.objects.get(user=customer)
    assert membership.role == Role.OWNER
    assert membership.organisation.projects.filter(is_default=True).exists()
    assert User.objects.get(email="admin@vmcloud.test").is_staff
    assert client.login(email="demo@vmcloud.test", password="vmcloud-demo-2026")
    assert client.get("/orders/new/").status_code == 200
    # Billing shows VAT and a credit at once: a French consumer with one welcome credit (not two).
    organisation = membership.organisation
    assert organisation.country == "FR"
    assert CreditGrant.objects.filter(organisation=organisation).count() == 1
    assert client.get("/billing/credits/").status_code == 200


def test_demo_clusters_take_volumes_networks_and_firewalls_out_of_the_box():
    """Every demo cluster has a storage per volume tier and an SDN zone; the demo fleet's datacentre firewall is on."""
    call_command("demo_setup", verbosity=0)
    call_command("demo_setup", verbosity=0)

    tiers = set(Offer.objects.filter(family__slug="storage").values_list("code", flat=True))
    assert tiers == {"STORAGE-SSD", "STORAGE-NVME", "STORAGE-EXTREME", "STORAGE-DEDICATED"}
    for zone in NetworkZone.objects.select_related("cluster"):
        rows = ClusterStorage.objects.filter(cluster=zone.cluster)
        assert set(rows.values_list("tier__code", flat=True)) == tiers, zone.cluster
        assert {(row.storage, row.holder_vmid) for row in rows} == {("ceph-nvme", 899_999)}
        assert all(row.capacity_gb > 1000 and row.last_sync_error == "" for row in rows)  # sized from the inventory
        assert (zone.name, zone.zone_type, zone.enabled) == ("vmcnets", "vxlan", True)
    assert NetworkZone.objects.count() == 3
    for spec in load_fleet("apps/pvesim/fleets/demo.yaml").clusters:
        # The simulator of `make run` starts with the switch on (PVE's default is off: a fleet without it).
        assert firewall_state(SimCluster(spec)).cluster.options == {"enable": 1}
        assert firewall_state(SimCluster(replace(spec, firewall_enabled=False))).cluster.options == {}
