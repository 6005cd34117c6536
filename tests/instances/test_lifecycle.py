"""Each lifecycle action against the simulator: power, snapshot, resize, rebuild, password, delete; and drift."""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict
from apps.infrastructure import choices as infra_choices
from apps.infrastructure.models import GpuDevice, IpAllocation, VmidAllocation
from apps.infrastructure.services import cluster_driver
from apps.instances import services
from apps.instances.choices import ActionStatus, DriftKind, InstanceStatus, SnapshotStatus
from apps.instances.models import Drift
from apps.instances.services import reconciliation
from tests.instances.conftest import create_instance, sim_vms

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = create_instance(fleet, personas)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    return instance


def run(capture, call):
    with capture(execute=True):
        result = call()
    return result


def test_stop_snapshot_resize_rebuild_and_delete_free_the_gpu(
    fleet, personas, running, django_capture_on_commit_callbacks
):
    cap, owner, vm = django_capture_on_commit_callbacks, personas.owner, running.vmid
    action = run(cap, lambda: services.instance_stop(instance=running, actor=owner))
    running.refresh_from_db()
    action.refresh_from_db()
    assert (action.status, running.status) == (ActionStatus.SUCCESS, InstanceStatus.STOPPED)
    assert not sim_vms(fleet.sim)[vm].running

    snapshot, action = run(cap, lambda: services.snapshot_create(instance=running, name="before", actor=owner))
    snapshot.refresh_from_db()
    assert snapshot.status == SnapshotStatus.AVAILABLE
    assert snapshot.proxmox_name in sim_vms(fleet.sim)[vm].snapshots

    action = run(cap, lambda: services.instance_resize(instance=running, offer=fleet.gpu_offer_big, actor=owner))
    running.refresh_from_db()
    assert (running.status, running.offer) == (InstanceStatus.STOPPED, fleet.gpu_offer_big)
    assert str(sim_vms(fleet.sim)[vm].config["memory"]) == str(128 * 1024)

    run(cap, lambda: services.instance_start(instance=running, actor=owner))
    action = run(cap, lambda: services.instance_rebuild(instance=running, image=fleet.ubuntu22, actor=owner))
    running.refresh_from_db()
    action.refresh_from_db()
    assert (action.status, running.status) == (ActionStatus.SUCCESS, InstanceStatus.RUNNING), action.error_detail
    assert list(sim_vms(fleet.sim)) == [vm] and sim_vms(fleet.sim)[vm].running

    action = run(cap, lambda: services.instance_delete(instance=running, actor=owner))
    running.refresh_from_db()
    assert running.status == InstanceStatus.DELETED
    assert sim_vms(fleet.sim) == {}
    assert running.reservation.state == infra_choices.ReservationState.RELEASED
    assert not GpuDevice.objects.filter(state=infra_choices.GpuState.IN_USE).exists()
    assert not VmidAllocation.objects.filter(vmid=vm).exists()
    assert not IpAllocation.objects.filter(address=running.ipv4).exists()
    assert running.actions.filter(status=ActionStatus.SUCCESS).count() == 7


def test_reboot_reset_shutdown_and_password_reset(fleet, personas, running, django_capture_on_commit_callbacks):
    cap, owner = django_capture_on_commit_callbacks, personas.owner
    for call in (services.instance_reboot, services.instance_reset):
        action = run(cap, lambda call=call: call(instance=running, actor=owner))
        action.refresh_from_db()
        running.refresh_from_db()
        assert (action.status, running.status) == (ActionStatus.SUCCESS, InstanceStatus.RUNNING)
    action, password = run(cap, lambda: services.instance_reset_password(instance=running, actor=owner))
    action.refresh_from_db()
    assert action.status == ActionStatus.SUCCESS and len(password) == 20
    assert "password_hash" not in action.params and password not in str(action.params)
    assert str(sim_vms(fleet.sim)[running.vmid].config.get("cipassword", "")) != password
    action = run(cap, lambda: services.instance_shutdown(instance=running, actor=owner))
    running.refresh_from_db()
    assert running.status == InstanceStatus.STOPPED


def test_illegal_transitions_and_protection_are_conflicts(fleet, personas, running, django_capture_on_commit_callbacks):
    with pytest.raises(Conflict) as exc:
        services.instance_start(instance=running, actor=personas.owner)
    assert exc.value.code == "invalid_transition"
    services.instance_update(instance=running, actor=personas.owner, delete_protection=True)
    with pytest.raises(Conflict) as exc:
        services.instance_delete(instance=running, actor=personas.owner)
    assert exc.value.code == "delete_protected"
    services.instance_stop(instance=running, actor=personas.owner)  # queued, not run (no commit)
    with pytest.raises(Conflict) as exc:
        services.instance_reboot(instance=running, actor=personas.owner)
    assert exc.value.code == "action_in_progress"


def test_snapshot_quota_per_offer(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        instance, _a = create_instance(fleet, personas, offer=fleet.vps_offer)
    with django_capture_on_commit_callbacks(execute=True):
        services.snapshot_create(instance=instance, name="one", actor=personas.owner)
    with pytest.raises(Conflict) as exc:
        services.snapshot_create(instance=instance, name="two", actor=personas.owner)
    assert exc.value.code == "snapshot_quota_exceeded"


def test_resize_to_a_smaller_or_other_family_offer_is_refused(fleet, personas, running):
    from apps.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.instance_resize(instance=running, offer=fleet.vps_offer_big, actor=personas.owner)


def test_reconcile_flags_a_vm_deleted_behind_our_back_and_an_orphan(fleet, personas, running):
    driver = cluster_driver(cluster=fleet.cluster)
    driver.wait_task(running.node_name, driver.stop(running.node_name, running.vmid))
    driver.wait_task(running.node_name, driver.delete(running.node_name, running.vmid))
    orphan_vmid = fleet.cluster.vmid_range_start + 500
    driver.wait_task("pve1", driver.clone("pve1", 9000, orphan_vmid, "mystery"))

    counts = reconciliation.reconcile_cluster(cluster=fleet.cluster)

    assert counts["missing"] == 1 and counts["orphans"] == 1
    running.refresh_from_db()
    assert running.status == InstanceStatus.ERROR and running.error_message
    assert Drift.objects.filter(kind=DriftKind.MISSING, instance=running, status="open").exists()
    assert Drift.objects.filter(kind=DriftKind.ORPHAN, vmid=orphan_vmid, status="open").exists()
    reconciliation.reconcile_cluster(cluster=fleet.cluster)  # idempotent: no second open row
    assert Drift.objects.filter(kind=DriftKind.ORPHAN, vmid=orphan_vmid).count() == 1


def test_reconcile_fixes_power_drift(fleet, personas, running):
    driver = cluster_driver(cluster=fleet.cluster)
    driver.wait_task(running.node_name, driver.stop(running.node_name, running.vmid))
    counts = reconciliation.reconcile_cluster(cluster=fleet.cluster)
    running.refresh_from_db()
    assert counts["power_fixed"] == 1 and running.status == InstanceStatus.STOPPED


def test_reconcile_fails_stuck_provisioning_and_releases(fleet, personas, settings):
    instance, _action = create_instance(fleet, personas)  # never run: stuck in provisioning
    settings.INSTANCES_STUCK_AFTER_SECONDS = 0
    counts = reconciliation.reconcile_cluster(cluster=fleet.cluster)
    instance.refresh_from_db()
    assert counts["stuck"] == 1 and instance.status == InstanceStatus.ERROR
    assert instance.reservation.state == infra_choices.ReservationState.RELEASED
