"""A VM whose node Proxmox cannot reach shows status ``unknown``: that is not a stopped VM.

Reconciliation asks the node itself; when it cannot be reached the instance is
flagged "host unreachable" (portal, admin, an open Drift for staff) and nothing
else changes until the node answers again.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.instances.choices import DriftKind, DriftStatus, InstanceStatus, PowerState
from apps.instances.models import Drift
from apps.instances.services import reconciliation
from tests.instances.conftest import create_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def vps(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = create_instance(fleet, personas, offer=fleet.vps_offer)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING, instance.error_detail
    return instance


def test_an_unreachable_node_changes_nothing_and_alerts_until_it_answers(fleet, personas, vps, client):
    fleet.sim.set_node_online(vps.node_name, False)
    rows = [r for r in fleet.sim.cluster.vms.values() if r.vmid == vps.vmid]
    assert rows and rows[0].running  # the VM itself still runs: only its node is out of reach

    counts = reconciliation.reconcile_cluster(cluster=fleet.cluster)
    reconciliation.reconcile_cluster(cluster=fleet.cluster)  # a second pass adds nothing

    vps.refresh_from_db()
    assert counts["unreachable"] == 1 and counts["power_fixed"] == 0 and counts["missing"] == 0
    assert vps.status == InstanceStatus.RUNNING  # not "stopped"
    assert vps.power_state == PowerState.UNKNOWN and vps.host_unreachable_since is not None
    assert vps.reservation.state == "committed"
    drifts = Drift.objects.filter(instance=vps)
    assert [(d.kind, d.status) for d in drifts] == [(DriftKind.UNREACHABLE, DriftStatus.OPEN)]
    assert "No route to host" in drifts[0].details["error"]

    client.force_login(personas.owner)
    page = client.get(reverse("instances:server_detail", args=[vps.public_id]))
    assert b'id="host-unreachable"' in page.content and b"has not answered" in page.content

    fleet.sim.set_node_online(vps.node_name, True)
    counts = reconciliation.reconcile_cluster(cluster=fleet.cluster)
    vps.refresh_from_db()
    assert counts["unreachable"] == 0 and counts["power_fixed"] == 0
    assert vps.host_unreachable_since is None and vps.power_state == PowerState.RUNNING
    assert [(d.kind, d.status) for d in Drift.objects.filter(instance=vps)] == [
        (DriftKind.UNREACHABLE, DriftStatus.RESOLVED)
    ]
    page = client.get(reverse("instances:server_detail", args=[vps.public_id]))
    assert b'id="host-unreachable"' not in page.content


def test_a_stale_node_is_asked_directly_and_its_answer_is_the_truth(fleet, vps):
    # pvestatd is silent (VMs "unknown" in the cluster view) but the node answers status/current.
    fleet.sim.set_node_stale(vps.node_name, True)
    with fleet.sim.cluster.lock:
        fleet.sim.cluster.power_off(fleet.sim.cluster.vms[vps.vmid])  # the guest shut itself down
    counts = reconciliation.reconcile_cluster(cluster=fleet.cluster)
    vps.refresh_from_db()
    assert counts["unreachable"] == 0 and counts["power_fixed"] == 1
    assert vps.status == InstanceStatus.STOPPED and vps.host_unreachable_since is None
