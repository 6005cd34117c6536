"""Staff actions on drift against the simulator: adopt and quarantine an orphan VM, repair a missing one.

Orphans are made behind the platform's back (a clone at a VMID of its range); a missing VM is one
destroyed behind its back. Reconciliation flags them; the services (and the admin actions calling
them) then act on Proxmox and the database, each with an audit event.
"""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict, ValidationFailed
from apps.core.models import AuditEvent
from apps.infrastructure import choices as infra_choices
from apps.infrastructure.models import GpuDevice, IpAllocation, VmidAllocation
from apps.infrastructure.services import cluster_driver
from apps.instances import services
from apps.instances.choices import DriftKind, DriftStatus, InstanceStatus
from apps.instances.models import Drift
from apps.instances.services import reconciliation
from tests.instances.conftest import create_instance, sim_vms

pytestmark = pytest.mark.django_db


@pytest.fixture
def orphan(fleet):
    """A running VM in the platform's VMID range that the platform never made, flagged by reconciliation."""
    driver = cluster_driver(cluster=fleet.cluster)
    vmid = fleet.cluster.vmid_range_start + 500
    driver.wait_task("pve1", driver.clone("pve1", 9000, vmid, "mystery"))
    driver.wait_task("pve1", driver.start("pve1", vmid))
    assert reconciliation.reconcile_cluster(cluster=fleet.cluster)["orphans"] == 1
    return Drift.objects.get(kind=DriftKind.ORPHAN, vmid=vmid, status=DriftStatus.OPEN)


@pytest.fixture
def missing(fleet, personas, django_capture_on_commit_callbacks):
    """A running GPU instance whose VM was destroyed behind the platform's back, flagged by reconciliation."""
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = create_instance(fleet, personas)
    instance.refresh_from_db()
    driver = cluster_driver(cluster=fleet.cluster)
    driver.wait_task(instance.node_name, driver.stop(instance.node_name, instance.vmid))
    driver.wait_task(instance.node_name, driver.delete(instance.node_name, instance.vmid))
    assert reconciliation.reconcile_cluster(cluster=fleet.cluster)["missing"] == 1
    return Drift.objects.get(kind=DriftKind.MISSING, instance=instance, status=DriftStatus.OPEN)


def _tags(fleet, vmid: int) -> list[str]:
    return str(sim_vms(fleet.sim)[vmid].config.get("tags", "")).split(";")


def test_quarantine_stops_and_tags_the_orphan_and_it_is_not_flagged_again(fleet, staff_user, orphan):
    drift = reconciliation.drift_quarantine(drift=orphan, actor=staff_user, note="unknown VM, kept for inquiry")

    vm = sim_vms(fleet.sim)[orphan.vmid]
    assert not vm.running
    assert reconciliation.QUARANTINE_TAG in _tags(fleet, orphan.vmid)
    assert drift.status == DriftStatus.QUARANTINED and drift.resolved_at is not None
    assert VmidAllocation.objects.filter(cluster=fleet.cluster, vmid=orphan.vmid, reservation=None).exists()
    event = AuditEvent.objects.get(action="instances.drift.quarantined")
    assert event.actor_user == staff_user and event.changes["vmid"] == orphan.vmid
    assert reconciliation.reconcile_cluster(cluster=fleet.cluster)["orphans"] == 0
    assert not Drift.objects.filter(vmid=orphan.vmid, status=DriftStatus.OPEN).exists()


def test_adopt_keeps_the_orphan_running_as_a_known_vm_with_its_vmid_blocked(fleet, staff_user, orphan):
    with pytest.raises(ValidationFailed):
        reconciliation.drift_adopt(drift=orphan, actor=staff_user, note=" ")

    drift = reconciliation.drift_adopt(drift=orphan, actor=staff_user, note="load test VM of the SRE team")

    assert drift.status == DriftStatus.ADOPTED
    assert sim_vms(fleet.sim)[orphan.vmid].running
    assert reconciliation.KNOWN_TAG in _tags(fleet, orphan.vmid)
    allocation = VmidAllocation.objects.get(cluster=fleet.cluster, vmid=orphan.vmid)
    assert allocation.reservation is None and "SRE" in allocation.note
    assert AuditEvent.objects.filter(action="instances.drift.adopted", actor_user=staff_user).exists()
    assert reconciliation.reconcile_cluster(cluster=fleet.cluster)["orphans"] == 0
    with pytest.raises(Conflict) as exc:
        reconciliation.drift_quarantine(drift=drift, actor=staff_user)
    assert exc.value.code == "drift_closed"


def test_orphan_actions_refuse_a_vm_that_is_gone_and_a_missing_drift(fleet, staff_user, orphan, missing):
    with pytest.raises(Conflict) as exc:
        reconciliation.drift_quarantine(drift=missing, actor=staff_user)
    assert exc.value.code == "drift_kind"
    driver = cluster_driver(cluster=fleet.cluster)
    driver.wait_task("pve1", driver.stop("pve1", orphan.vmid))
    driver.wait_task("pve1", driver.delete("pve1", orphan.vmid))
    with pytest.raises(Conflict) as exc:
        reconciliation.drift_adopt(drift=orphan, actor=staff_user, note="too late")
    assert exc.value.code == "drift_vm_gone"
    orphan.refresh_from_db()
    assert orphan.status == DriftStatus.OPEN
    assert not VmidAllocation.objects.filter(vmid=orphan.vmid).exists()


def test_repair_leaves_the_instance_in_error_for_the_customer_and_frees_its_gpu(
    fleet, personas, staff_user, missing, django_capture_on_commit_callbacks
):
    instance = missing.instance
    vmid, address = instance.vmid, instance.ipv4
    assert GpuDevice.objects.filter(state=infra_choices.GpuState.IN_USE).count() == 1

    drift = reconciliation.drift_repair(drift=missing, actor=staff_user, note="node disk failure")

    instance.refresh_from_db()
    assert drift.status == DriftStatus.RESOLVED
    assert instance.status == InstanceStatus.ERROR and instance.vmid is None
    assert "cannot be recovered" in instance.error_message
    assert instance.reservation.state == infra_choices.ReservationState.RELEASED
    assert not GpuDevice.objects.filter(state=infra_choices.GpuState.IN_USE).exists()
    assert not VmidAllocation.objects.filter(cluster=fleet.cluster, vmid=vmid).exists()
    assert not IpAllocation.objects.filter(address=address).exists()
    assert AuditEvent.objects.filter(action="instances.drift.repaired", actor_user=staff_user).exists()
    assert AuditEvent.objects.filter(action="instances.instance.lost", organisation_id=personas.org.pk).exists()
    assert reconciliation.reconcile_cluster(cluster=fleet.cluster) == {
        "power_fixed": 0,
        "orphans": 0,
        "missing": 0,
        "stuck": 0,
        "unreachable": 0,
    }
    # The customer can then delete it: nothing is left to destroy in Proxmox.
    with django_capture_on_commit_callbacks(execute=True):
        services.instance_delete(instance=instance, actor=personas.member)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.DELETED and sim_vms(fleet.sim) == {}


def test_repair_refuses_when_the_vm_is_back(fleet, personas, staff_user, missing):
    driver = cluster_driver(cluster=fleet.cluster)
    driver.wait_task("pve1", driver.clone("pve1", 9000, missing.vmid, "came-back"))
    with pytest.raises(Conflict) as exc:
        reconciliation.drift_repair(drift=missing, actor=staff_user)
    assert exc.value.code == "drift_vm_back"
    assert GpuDevice.objects.filter(state=infra_choices.GpuState.IN_USE).count() == 1


def test_admin_drift_actions_call_the_services(admin_client, fleet, orphan, missing):
    Drift.objects.filter(pk=orphan.pk).update(note="kept for inquiry")
    response = admin_client.post(
        "/admin/instances/drift/", {"action": "quarantine", "_selected_action": [orphan.pk]}, follow=True
    )
    assert response.status_code == 200
    orphan.refresh_from_db()
    assert orphan.status == DriftStatus.QUARANTINED and orphan.note == "kept for inquiry"
    assert not sim_vms(fleet.sim)[orphan.vmid].running

    admin_client.post("/admin/instances/drift/", {"action": "repair", "_selected_action": [missing.pk]}, follow=True)
    missing.refresh_from_db()
    assert missing.status == DriftStatus.RESOLVED
    assert not GpuDevice.objects.filter(state=infra_choices.GpuState.IN_USE).exists()
