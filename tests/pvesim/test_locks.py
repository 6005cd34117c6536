"""Where the simulator takes a VM's lock, as PVE 8.4 does: in the API process or in the worker task.

qemu-server takes the flock and runs ``check_lock`` inside the worker for resize,
power actions, snapshots and destroy (HTTP 200 with a UPID, then a task error),
and in the API process for config updates (HTTP 500).
"""

from __future__ import annotations

import time

import pytest

from tests.pvesim.test_server import Api

VM = "/nodes/pve1/qemu/100600"


@pytest.fixture
def api(pvesim):
    api = Api(pvesim)
    upid = api("POST", "/nodes/pve1/qemu/9000/clone", data={"newid": 100600, "name": "locks"}).json()["data"]
    assert _status(api, upid)["exitstatus"] == "OK"
    snap = api("POST", f"{VM}/snapshot", data={"snapname": "s1"}).json()["data"]
    assert _status(api, snap)["exitstatus"] == "OK"
    return api


def _status(api, upid: str) -> dict:
    return api("GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]


def _log(api, upid: str) -> list[str]:
    return [row["t"] for row in api("GET", f"/nodes/pve1/tasks/{upid}/log").json()["data"]]


WORKER_LOCKED = [
    ("POST", "/status/start", {}),
    ("POST", "/status/stop", {}),
    ("POST", "/status/shutdown", {"forceStop": 1, "timeout": 30}),
    ("PUT", "/resize", {"disk": "scsi0", "size": "+1G"}),
    ("POST", "/snapshot", {"snapname": "s2"}),
    ("POST", "/snapshot/s1/rollback", {}),
    ("DELETE", "/snapshot/s1", {}),
    ("DELETE", "", {}),
]


@pytest.mark.parametrize(("method", "suffix", "data"), WORKER_LOCKED)
def test_a_backup_lock_fails_the_task_not_the_request(api, pvesim, method, suffix, data):
    pvesim.set_vm_lock(100600, "backup", seconds=60)
    kwargs = {"params": data} if method == "DELETE" else {"data": data}
    response = api(method, f"{VM}{suffix}", **kwargs)
    assert response.status_code == 200, response.reason
    assert _status(api, response.json()["data"])["exitstatus"] == "VM is locked (backup)"


@pytest.mark.parametrize(("method", "suffix", "data"), WORKER_LOCKED)
def test_a_busy_flock_fails_the_task_with_the_lock_timeout(api, pvesim, method, suffix, data):
    pvesim.hold_lock(100600, seconds=60)
    kwargs = {"params": data} if method == "DELETE" else {"data": data}
    response = api(method, f"{VM}{suffix}", **kwargs)
    assert response.status_code == 200, response.reason
    upid = response.json()["data"]
    assert _status(api, upid)["exitstatus"] == "can't lock file '/var/lock/qemu-server/lock-100600.conf' - got timeout"
    assert _log(api, upid)[0] == "trying to acquire lock..."


def test_a_config_update_meets_the_lock_in_the_request(api, pvesim):
    pvesim.set_vm_lock(100600, "backup", seconds=60)
    response = api("POST", f"{VM}/config", data={"cores": 2})
    assert (response.status_code, response.reason) == (500, "VM is locked (backup)")


def test_the_backup_lock_goes_away_after_its_time(api, pvesim):
    pvesim.set_vm_lock(100600, "backup", seconds=0.2)
    assert api("GET", f"{VM}/config").json()["data"]["lock"] == "backup"
    time.sleep(0.25)
    assert "lock" not in api("GET", f"{VM}/config").json()["data"]
    upid = api("POST", f"{VM}/status/start").json()["data"]
    assert _status(api, upid)["exitstatus"] == "OK"


def test_a_task_waits_for_the_flock_then_runs(api, pvesim):
    pvesim.cluster.lock_wait_seconds = 2.0
    pvesim.hold_lock(100600, seconds=0.2)
    upid = api("POST", f"{VM}/status/start").json()["data"]
    assert _status(api, upid)["status"] == "running"
    time.sleep(0.3)
    status = _status(api, upid)
    assert (status["status"], status["exitstatus"]) == ("stopped", "OK")
    assert _log(api, upid) == ["trying to acquire lock... OK", "TASK OK"]


def test_a_guest_ignoring_acpi_fails_a_plain_shutdown_and_is_killed_with_force_stop(api, pvesim):
    assert _status(api, api("POST", f"{VM}/status/start").json()["data"])["exitstatus"] == "OK"
    pvesim.set_guest_acpi(100600, responds=False)
    plain = api("POST", f"{VM}/status/shutdown", data={"timeout": 5}).json()["data"]
    assert _status(api, plain)["exitstatus"] == "VM quit/powerdown failed - got timeout"
    forced = api("POST", f"{VM}/status/shutdown", data={"timeout": 5, "forceStop": 1}).json()["data"]
    assert _status(api, forced)["exitstatus"] == "OK"
    assert "VM still running - terminating now with SIGTERM" in _log(api, forced)
    assert api("GET", f"{VM}/status/current").json()["data"]["status"] == "stopped"


def test_ovmf_without_efidisk_starts_with_the_temporary_efivars_warning(api, pvesim):
    assert api("PUT", f"{VM}/config", data={"bios": "ovmf"}).status_code == 200
    upid = api("POST", f"{VM}/status/start").json()["data"]
    assert _status(api, upid)["exitstatus"] == "WARNINGS: 1"
    log = _log(api, upid)
    assert "WARN: no efidisk configured! Using temporary efivars disk." in log and log[-1] == "TASK WARNINGS: 1"
