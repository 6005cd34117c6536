"""Lock errors reported by a Proxmox task, clean shutdowns: each action through the real HTTP stack.

PVE takes the VM lock inside the worker for start, stop, shutdown, reboot,
resize, snapshot, rollback and destroy: the call answers a UPID and the task
then fails with ``VM is locked (backup)`` (a vzdump run) or ``can't lock file
… got timeout``. A retry must start a new task, not wait on the failed one
again; a permanent task failure fails the action with the customer message.
"""

from __future__ import annotations

import time

import pytest

from apps.instances import services, tasks
from apps.instances.choices import ActionStatus, InstanceStatus, SnapshotStatus
from apps.instances.models import Snapshot
from config.celery import app as celery_app
from tests.instances.conftest import create_instance

pytestmark = pytest.mark.django_db

LOCKED = "VM is locked (backup)"


@pytest.fixture(autouse=True)
def worker_retries():
    """Retry as a worker does: eager ``apply`` re-runs a task that asked for a retry, unless it propagates."""
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def backoff(monkeypatch):
    """Eager Celery ignores ``countdown``: let each retry's backoff really pass (0.1 s)."""
    monkeypatch.setattr(tasks, "_countdown", lambda retries: time.sleep(0.1) or 0)


@pytest.fixture
def vps(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = create_instance(fleet, personas, offer=fleet.vps_offer)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING, instance.error_detail
    return instance


def _run(capture, call):
    with capture(execute=True):
        return call()


def _tasks(sim, vmid: int, task_type: str) -> list:
    with sim.cluster.lock:
        return [t for t in sim.cluster.tasks.values() if t.type == task_type and t.id == str(vmid)]


def _stop(fleet, personas, instance, capture) -> None:
    _run(capture, lambda: services.instance_stop(instance=instance, actor=personas.owner))
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.STOPPED


def _snapshot(fleet, personas, instance, capture) -> Snapshot:
    snapshot, _action = _run(
        capture, lambda: services.snapshot_create(instance=instance, name="s1", actor=personas.owner)
    )
    snapshot.refresh_from_db()
    assert snapshot.status == SnapshotStatus.AVAILABLE
    return snapshot


# (action, task type hit by the lock, whether the instance is stopped first, the call)
CASES = {
    "start": ("qmstart", True, lambda f, w, i, s: services.instance_start(instance=i, actor=w.owner)),
    "stop": ("qmstop", False, lambda f, w, i, s: services.instance_stop(instance=i, actor=w.owner)),
    "shutdown": ("qmshutdown", False, lambda f, w, i, s: services.instance_shutdown(instance=i, actor=w.owner)),
    "reboot": ("qmreboot", False, lambda f, w, i, s: services.instance_reboot(instance=i, actor=w.owner)),
    # A running VM is shut down first: that task meets the lock.
    "resize": (
        "qmshutdown",
        False,
        lambda f, w, i, s: services.instance_resize(instance=i, offer=f.vps_offer_big, actor=w.owner),
    ),
    "snapshot": (
        "qmsnapshot",
        False,
        lambda f, w, i, s: services.snapshot_create(instance=i, name="backup-day", actor=w.owner)[1],
    ),
    "rollback": ("qmrollback", True, lambda f, w, i, s: services.snapshot_rollback(snapshot=s, actor=w.owner)),
    "destroy": ("qmdestroy", True, lambda f, w, i, s: services.instance_delete(instance=i, actor=w.owner)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_backup_lock_failing_the_task_is_retried_with_a_new_task(
    name, fleet, personas, vps, backoff, django_capture_on_commit_callbacks
):
    cap = django_capture_on_commit_callbacks
    task_type, stopped_first, call = CASES[name]
    snapshot = _snapshot(fleet, personas, vps, cap) if name == "rollback" else None
    if stopped_first:
        _stop(fleet, personas, vps, cap)
    before = len(_tasks(fleet.sim, vps.vmid, task_type))
    if name == "destroy":
        # Delete waits for a ``lock:`` it reads in the config before destroying (``_wait_unlocked``): the
        # flock, which only the worker meets, is what fails its task.
        fleet.sim.hold_lock(vps.vmid, seconds=0.35)
        expected = f"can't lock file '/var/lock/qemu-server/lock-{vps.vmid}.conf' - got timeout"
    else:
        fleet.sim.set_vm_lock(vps.vmid, "backup", seconds=0.35)  # a nightly vzdump on this VM
        expected = LOCKED
    action = _run(cap, lambda: call(fleet, personas, vps, snapshot))
    action.refresh_from_db()
    assert action.status == ActionStatus.SUCCESS, action.error_detail
    started = _tasks(fleet.sim, vps.vmid, task_type)[before:]
    failed = [t for t in started if t.exitstatus == expected]
    assert failed, [t.exitstatus for t in started]
    # Each retry started a new task; the last one ran once the backup was over.
    assert len(started) == len(failed) + 1 and started[-1].exitstatus in ("OK", "WARNINGS: 1")
    vps.refresh_from_db()
    assert vps.current_upid == ""


def test_a_flock_timeout_in_the_task_is_retried_with_a_new_task(
    fleet, personas, vps, backoff, django_capture_on_commit_callbacks
):
    fleet.sim.hold_lock(vps.vmid, seconds=0.35)  # another worker holds lock-<vmid>.conf
    action = _run(
        django_capture_on_commit_callbacks, lambda: services.instance_reboot(instance=vps, actor=personas.owner)
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.SUCCESS, action.error_detail
    reboots = _tasks(fleet.sim, vps.vmid, "qmreboot")
    assert len(reboots) >= 2
    assert reboots[0].exitstatus == f"can't lock file '/var/lock/qemu-server/lock-{vps.vmid}.conf' - got timeout"
    assert reboots[-1].exitstatus == "OK"


def test_a_lock_that_never_goes_fails_the_action_after_the_retries(
    fleet, personas, vps, django_capture_on_commit_callbacks
):
    fleet.sim.set_vm_lock(vps.vmid, "backup", seconds=600)
    action = _run(
        django_capture_on_commit_callbacks, lambda: services.instance_stop(instance=vps, actor=personas.owner)
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.ERROR
    assert action.error_message == "The operation failed. Our team has been notified."
    assert LOCKED in action.error_detail
    # One new task per attempt (the first run and every retry), never the same failed task again.
    assert len(_tasks(fleet.sim, vps.vmid, "qmstop")) == tasks.MAX_RETRIES + 1


def test_a_permanent_task_failure_fails_at_once_with_the_customer_message(
    fleet, personas, vps, django_capture_on_commit_callbacks
):
    cap = django_capture_on_commit_callbacks
    _stop(fleet, personas, vps, cap)
    fleet.sim.fail_next_task("qmstart", "start failed: QEMU exited with code 1")
    action = _run(cap, lambda: services.instance_start(instance=vps, actor=personas.owner))
    action.refresh_from_db()
    vps.refresh_from_db()
    assert action.status == ActionStatus.ERROR
    assert action.error_message == "The operation failed. Our team has been notified."
    assert "start failed: QEMU exited with code 1" in action.error_detail
    assert len(_tasks(fleet.sim, vps.vmid, "qmstart")) == 2  # provisioning's start, then this one: no retry
    assert vps.status == InstanceStatus.ERROR and vps.current_upid == ""


@pytest.mark.parametrize("name", ["resize", "rollback", "destroy"])
def test_the_guest_is_shut_down_cleanly_before_resize_rollback_and_destroy(
    name, fleet, personas, vps, django_capture_on_commit_callbacks
):
    cap = django_capture_on_commit_callbacks
    snapshot = _snapshot(fleet, personas, vps, cap) if name == "rollback" else None
    calls = {
        "resize": lambda: services.instance_resize(instance=vps, offer=fleet.vps_offer_big, actor=personas.owner),
        "rollback": lambda: services.snapshot_rollback(snapshot=snapshot, actor=personas.owner),
        "destroy": lambda: services.instance_delete(instance=vps, actor=personas.owner),
    }
    fleet.sim.clear_requests()
    action = _run(cap, calls[name])
    action.refresh_from_db()
    assert action.status == ActionStatus.SUCCESS, action.error_detail
    power = [r for r in fleet.sim.requests if "/status/" in r.path and r.method == "POST"]
    assert power[0].path.endswith("/status/shutdown")
    assert power[0].params["forceStop"] == "1" and int(power[0].params["timeout"]) > 0
    assert not any(r.path.endswith("/status/stop") for r in power)


def test_a_guest_that_ignores_the_shutdown_is_forced_off_after_the_timeout(
    fleet, personas, vps, django_capture_on_commit_callbacks
):
    fleet.sim.set_guest_acpi(vps.vmid, responds=False)
    action = _run(
        django_capture_on_commit_callbacks,
        lambda: services.instance_resize(instance=vps, offer=fleet.vps_offer_big, actor=personas.owner),
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.SUCCESS, action.error_detail
    shutdown = _tasks(fleet.sim, vps.vmid, "qmshutdown")[-1]
    assert "VM still running - terminating now with SIGTERM" in shutdown.log
    assert shutdown.exitstatus == "OK"


def test_a_gpu_server_gets_a_persistent_efi_disk_when_its_template_has_none(
    fleet, personas, django_capture_on_commit_callbacks
):
    with fleet.sim.cluster.lock:
        fleet.sim.cluster.vms[9001].config.pop("efidisk0")  # an OVMF template built without one
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = create_instance(fleet, personas)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING, instance.error_detail
    with fleet.sim.cluster.lock:
        config = dict(fleet.sim.cluster.vms[instance.vmid].config)
    assert config["bios"] == "ovmf"
    assert config["efidisk0"].startswith("ceph-nvme:") and "efitype=4m,pre-enrolled-keys=0" in config["efidisk0"]
    start = _tasks(fleet.sim, instance.vmid, "qmstart")[-1]
    assert start.exitstatus == "OK", start.log  # not "WARNINGS: 1" (temporary efivars disk)
    assert fleet.sim.validation_failures == []
