"""Provisioning end to end against the Proxmox simulator over HTTPS (Celery eager), and its resumability."""

from __future__ import annotations

import pytest

from apps.infrastructure import choices as infra_choices
from apps.infrastructure.models import GpuDevice
from apps.instances.choices import ActionStatus, InstanceStatus, PowerState, ProvisionStep
from apps.instances.models import Action, Instance
from apps.instances.services import execution, provisioning
from tests.instances.conftest import create_instance, sim_vms

pytestmark = pytest.mark.django_db


def test_gpu_instance_provisions_to_running_with_its_ip_and_gpu_mapping(
    fleet, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        instance, action = create_instance(fleet, personas)

    instance.refresh_from_db()
    action.refresh_from_db()
    assert (instance.status, instance.power_state, instance.provision_step) == (
        InstanceStatus.RUNNING,
        PowerState.RUNNING,
        ProvisionStep.DONE,
    )
    assert (action.status, action.progress) == (ActionStatus.SUCCESS, 100)
    vms = sim_vms(fleet.sim)
    assert list(vms) == [instance.vmid]
    vm = vms[instance.vmid]
    assert vm.running and vm.node == instance.node_name == instance.reservation.node.name
    assert vm.config["hostpci0"] == "mapping=a100-80gb,pcie=1"
    assert (vm.config["machine"], vm.config["bios"]) == ("q35", "ovmf")
    assert vm.config["ipconfig0"].startswith(f"ip={instance.ipv4}/24,gw=203.0.113.1")
    assert (str(vm.config["cores"]), str(vm.config["memory"])) == ("8", str(64 * 1024))
    assert "alice@laptop" in vm.config["sshkeys"] or "alice%40laptop" in vm.config["sshkeys"]
    gpu = GpuDevice.objects.get(reservation=instance.reservation)
    assert gpu.state == infra_choices.GpuState.IN_USE
    assert instance.reservation.state == infra_choices.ReservationState.COMMITTED


def test_provisioning_resumes_after_a_crash_once_the_clone_started(fleet, personas, django_capture_on_commit_callbacks):
    # The worker "dies" right after the clone POST: its UPID is persisted, nothing else happened.
    original = provisioning.vm_wait_unlocked

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    provisioning.vm_wait_unlocked = crash
    try:
        with pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
            instance, action = create_instance(fleet, personas)
    finally:
        provisioning.vm_wait_unlocked = original
    instance = Instance.objects.get()
    action = Action.objects.get(instance=instance)
    assert instance.provision_step == ProvisionStep.CLONE and instance.clone_upid
    assert action.status == ActionStatus.RUNNING and len(sim_vms(fleet.sim)) == 1

    # The broker redelivers the same message (same task id): the claim is re-acquired and the run resumes.
    claimed = execution.action_claim(action_id=action.pk, task_id=action.task_id)
    execution.action_execute(action=claimed)

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert list(sim_vms(fleet.sim)) == [instance.vmid]


def test_a_second_task_cannot_claim_a_running_action(fleet, personas):
    _instance, action = create_instance(fleet, personas)  # on_commit not run: still pending
    assert execution.action_claim(action_id=action.pk, task_id="task-a") is not None
    assert execution.action_claim(action_id=action.pk, task_id="task-b") is None
    assert execution.action_claim(action_id=action.pk, task_id="task-a") is not None  # redelivery


def test_clone_adopts_a_vm_created_before_the_upid_was_saved(fleet, personas, pve_driver):
    instance, action = create_instance(fleet, personas)
    # The clone POST reached Proxmox but the worker died before saving the UPID.
    from apps.infrastructure.services import cluster_driver

    driver = cluster_driver(cluster=fleet.cluster)
    driver.clone(
        "pve1", 9001, instance.vmid, instance.name, target_node="gpu1", description=provisioning.marker(instance)
    )
    claimed = execution.action_claim(action_id=action.pk, task_id="t1")
    execution.action_execute(action=claimed)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert list(sim_vms(fleet.sim)) == [instance.vmid]


def test_a_foreign_vm_at_the_vmid_fails_provisioning_without_touching_it(fleet, personas):
    instance, action = create_instance(fleet, personas)
    from apps.infrastructure.services import cluster_driver

    driver = cluster_driver(cluster=fleet.cluster)
    upid = driver.clone("pve1", 9000, instance.vmid, "someone-else")
    driver.wait_task("pve1", upid)
    execution.action_execute(action=execution.action_claim(action_id=action.pk, task_id="t1"))
    instance.refresh_from_db()
    action.refresh_from_db()
    assert instance.status == InstanceStatus.ERROR and action.error_code == "vmid_conflict"
    assert sim_vms(fleet.sim)[instance.vmid].config["name"] == "someone-else"


def test_user_data_is_refused_where_the_cluster_has_no_snippets_storage(fleet):
    # Delivery itself is tested in tests/instances/test_user_data.py.
    from apps.core.errors import ValidationFailed
    from apps.instances.services import user_data_check

    assert user_data_check("", datacentre=fleet.dc) == ""
    assert user_data_check("  \n", datacentre=fleet.dc) == ""
    with pytest.raises(ValidationFailed) as exc:
        user_data_check("#cloud-config\npackages: [nginx]\n", datacentre=fleet.dc)
    assert exc.value.code == "user_data_unavailable"
    assert "not available in this datacentre yet" in exc.value.fields["user_data"][0]
