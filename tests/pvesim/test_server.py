"""The simulator's wire behaviour, checked with plain HTTPS requests (docs/dev/proxmox-behaviour.md#wire-protocol,
#tasks, #locks, #gpu-passthrough)."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
import requests

from apps.pvesim.fleet import load_fleet
from apps.pvesim.schema import load_schema
from apps.pvesim.server import PveSimulator
from tests.pvesim_fixtures import TEST_FLEET

# docs/dev/proxmox-behaviour.md#upid (pve-common Tools.pm).
UPID_RE = re.compile(
    r"^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):"
    r"([^:\s/]+):([^:\s/]*):([^:\s/]+):$"
)


class Api:
    def __init__(self, sim: PveSimulator, token: str | None = None) -> None:
        self.sim = sim
        self.session = requests.Session()
        if token is None:
            token = f"{sim.token_id}={sim.token_secret}"
        if token:
            self.session.headers["Authorization"] = f"PVEAPIToken={token}"

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        # verify per request: a session-level value loses against $REQUESTS_CA_BUNDLE in requests.
        return self.session.request(
            method, f"{self.sim.url}/api2/json{path}", timeout=10, verify=str(self.sim.ca_path), **kwargs
        )


@pytest.fixture
def api(pvesim):
    return Api(pvesim)


def test_unknown_endpoint_answers_501_like_pve(api):
    response = api("GET", "/nodes/pve1/bogus")
    assert response.status_code == 501
    assert response.reason == "Method 'GET /nodes/pve1/bogus' not implemented"
    assert response.json()["data"] is None


def test_known_but_unsimulated_endpoint_answers_501(api):
    response = api("GET", "/nodes/pve1/lxc")
    assert response.status_code == 501
    assert "not implemented" in response.reason


def test_missing_token_is_401_no_ticket_with_empty_body(pvesim):
    response = Api(pvesim, token="")("GET", "/nodes")
    assert (response.status_code, response.reason, response.content) == (401, "No ticket", b"")


def test_bad_token_is_401_authentication_failed_with_empty_body(pvesim):
    response = Api(pvesim, token=f"{pvesim.token_id}=nope")("GET", "/nodes")
    assert (response.status_code, response.reason, response.content) == (401, "Authentication failed!", b"")


def test_error_message_is_the_reason_phrase_and_the_body_message(api):
    response = api("GET", "/nodes/pve1/qemu/4242/status/current")
    assert response.status_code == 500
    assert response.reason == "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist"
    assert response.json() == {"data": None, "message": f"{response.reason}\n"}
    assert response.headers["Server"] == "pve-api-daemon/3.0"
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_clone_returns_a_real_upid_and_the_task_reports_the_token(api):
    response = api("POST", "/nodes/pve1/qemu/9000/clone", data={"newid": 100100, "name": "c42-vm1", "full": 1})
    upid = response.json()["data"]
    assert UPID_RE.match(upid)
    parts = upid.split(":")
    assert parts[1] == "pve1" and parts[5] == "qmclone" and parts[6] == "9000"  # the id is the SOURCE vmid
    assert parts[7] == "portal@pve!celery"
    status = api("GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]
    assert status["user"] == "portal@pve" and status["tokenid"] == "celery"
    assert status["status"] == "stopped" and status["exitstatus"] == "OK"
    assert isinstance(status["pid"], int) and status["id"] == "9000"
    # Percent-encoded UPIDs are accepted too.
    encoded = api("GET", f"/nodes/pve1/tasks/{quote(upid, safe='')}/status")
    assert encoded.json()["data"]["upid"] == upid
    log = api("GET", f"/nodes/pve1/tasks/{upid}/log").json()
    assert log["data"][-1] == {"n": log["total"], "t": "TASK OK"}


def test_task_runs_then_stops_and_clone_holds_the_lock(pvesim, api):
    pvesim.set_task_seconds(0.3)
    upid = api("POST", "/nodes/pve1/qemu/9000/clone", data={"newid": 100101}).json()["data"]
    assert api("GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]["status"] == "running"
    assert api("GET", "/nodes/pve1/qemu/100101/config").json()["data"]["lock"] == "clone"
    busy = api("POST", "/nodes/pve1/qemu/100101/config", data={"cores": 4})
    assert busy.status_code == 500
    assert busy.reason == "can't lock file '/var/lock/qemu-server/lock-100101.conf' - got timeout"
    time.sleep(0.35)
    status = api("GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]
    assert (status["status"], status["exitstatus"]) == ("stopped", "OK")
    assert "lock" not in api("GET", "/nodes/pve1/qemu/100101/config").json()["data"]


def test_unknown_task_is_400_no_such_task(api):
    response = api("GET", "/nodes/pve1/tasks/UPID:pve1:00000001:00000002:00000003:qmstart:1:x@pve:/status")
    assert response.status_code == 400
    assert response.json()["errors"] == {"upid": "no such task"}


def test_nextid_is_a_string_and_taken_ids_are_a_400(api):
    assert api("GET", "/cluster/nextid", params={"vmid": 100777}).json()["data"] == "100777"
    taken = api("GET", "/cluster/nextid", params={"vmid": 9000})
    assert taken.status_code == 400 and taken.json()["errors"] == {"vmid": "VM 9000 already exists"}


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"newid": 100102, "full": "True"}, {"full": "type check ('boolean') failed - got 'True'"}),
        (
            {"newid": 100102, "colour": "red"},
            {"colour": "property is not defined in schema and the schema does not allow additional properties"},
        ),
        ({"name": "x"}, {"newid": "property is missing and it is not optional"}),
        ({"newid": 42}, {"newid": "value must have a minimum value of 100"}),
    ],
)
def test_schema_invalid_clone_is_rejected_with_errors(pvesim, api, data, errors):
    response = api("POST", "/nodes/pve1/qemu/9000/clone", data=data)
    assert response.status_code == 400
    assert response.reason == "Parameter verification failed."
    assert response.json()["errors"] == errors
    assert pvesim.validation_failures[-1].validation_errors == errors
    assert 100102 not in pvesim.cluster.vms


def test_config_options_are_validated_like_pve(api):
    api("POST", "/nodes/pve1/qemu/9000/clone", data={"newid": 100103})
    bad = {
        "sshkeys": "ssh-ed25519 AAAA alice@laptop",
        "hostpci0": "host=0000:41:00.0,mapping=a100-80gb",
        "net32": "virtio,bridge=vmbr0",
        "net0": "virtio,bridge=vmbr0,colour=red",
        "ipconfig0": "ip=not-an-ip",
        "onboot": "yes",
    }
    errors = api("POST", "/nodes/pve1/qemu/100103/config", data=bad).json()["errors"]
    assert errors["sshkeys"].startswith("invalid format - invalid urlencoded string: ssh-ed25519 AAAA")
    assert errors["hostpci0"] == "invalid format - Cannot set both 'host' and 'mapping'.\n"
    assert errors["net32"] == "property is not defined in schema and the schema does not allow additional properties"
    assert errors["net0"] == "invalid format - invalid key in comma-separated list property: colour\n"
    assert errors["ipconfig0"].startswith("invalid format - format error\nipconfig0.ip:")
    assert errors["onboot"] == "type check ('boolean') failed - got 'yes'"
    good = {
        "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=120",
        "hostpci0": "mapping=a100-80gb,pcie=on",  # booleans inside property strings accept on/yes/true
        "memory": "4096",
        "machine": "q35",
        "cpu": "host,hidden=1",
        "tags": "customer-42;gpu",
    }
    assert api("POST", "/nodes/pve1/qemu/100103/config", data=good).status_code == 200


def test_offline_node_answers_595(pvesim, api):
    pvesim.set_node_online("gpu1", False)
    response = api("GET", "/nodes/gpu1/status")
    assert response.status_code == 595
    assert response.reason == "Errors during connection establishment, proxy handshake: No route to host"
    rows = api("GET", "/cluster/resources", params={"type": "node"}).json()["data"]
    assert {r["node"]: r["status"] for r in rows}["gpu1"] == "offline"


def test_gpu_is_chosen_at_start_from_the_mapping_pool(pvesim, api):
    # Two VMs on gpu1 map "a100-80gb": each start takes the next free device of the node's pool.
    for vmid in (100110, 100111, 100112):
        api("POST", "/nodes/pve1/qemu/9001/clone", data={"newid": vmid, "target": "gpu1", "full": 1})
        api("POST", f"/nodes/gpu1/qemu/{vmid}/config", data={"hostpci0": "mapping=a100-80gb,pcie=1", "machine": "q35"})
    statuses = []
    for vmid in (100110, 100111, 100112):
        upid = api("POST", f"/nodes/gpu1/qemu/{vmid}/status/start").json()["data"]
        statuses.append(api("GET", f"/nodes/gpu1/tasks/{upid}/status").json()["data"]["exitstatus"])
    assert statuses == ["OK", "OK", "could not find a free device for 'hostpci0'"]
    assert pvesim.cluster.pci_usage == {("gpu1", "0000:41:00.0"): 100110, ("gpu1", "0000:81:00.0"): 100111}


def test_pcie_passthrough_needs_q35(api):
    api("POST", "/nodes/pve1/qemu/9000/clone", data={"newid": 100120, "target": "gpu1", "full": 1})
    api("POST", "/nodes/gpu1/qemu/100120/config", data={"hostpci0": "mapping=a100-80gb,pcie=1"})
    upid = api("POST", "/nodes/gpu1/qemu/100120/status/start").json()["data"]
    assert (
        api("GET", f"/nodes/gpu1/tasks/{upid}/status").json()["data"]["exitstatus"]
        == "q35 machine model is not enabled"
    )


def test_raw_pci_address_is_refused_for_tokens(api):
    api("POST", "/nodes/pve1/qemu/9000/clone", data={"newid": 100121})
    upid = api("POST", "/nodes/pve1/qemu/100121/config", data={"hostpci0": "0000:41:00.0,pcie=1"}).json()["data"]
    status = api("GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]
    assert status["exitstatus"] == "only root can set 'hostpci0' config for non-mapped devices"


def test_control_endpoint_injects_faults(pvesim, api):
    headers = {"Authorization": f"PVEAPIToken={pvesim.token_id}={pvesim.token_secret}"}
    response = requests.post(
        f"{pvesim.url}/_sim/fail-next-task",
        json={"type": "qmclone", "message": "clone failed: storage full"},
        headers=headers,
        verify=str(pvesim.ca_path),
        timeout=10,
    )
    assert response.status_code == 200
    upid = api("POST", "/nodes/pve1/qemu/9000/clone", data={"newid": 100130}).json()["data"]
    assert api("GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]["exitstatus"] == "clone failed: storage full"
    assert 100130 not in pvesim.cluster.vms  # a failed clone leaves no config behind
    state = requests.get(f"{pvesim.url}/_sim/state", headers=headers, verify=str(pvesim.ca_path), timeout=10)
    assert state.json()["data"]["nodes"]["gpu1"] == {"online": True, "gpus": 3}
    anonymous = requests.get(f"{pvesim.url}/_sim/state", verify=str(pvesim.ca_path), timeout=10)
    assert anonymous.status_code == 401


def test_latency_is_added_to_every_answer(pvesim, api):
    pvesim.set_latency(0.2)
    started = time.monotonic()
    api("GET", "/version")
    assert time.monotonic() - started >= 0.2


def test_without_the_schema_file_validation_is_skipped_and_said(tmp_path, monkeypatch, caplog, pvesim_ca):
    monkeypatch.setenv("PVE_SCHEMA_PATH", str(tmp_path / "absent.json"))
    assert load_schema() is None
    assert "NOT validated" in caplog.text and "PVE_SCHEMA_PATH" in caplog.text
    with PveSimulator(load_fleet(TEST_FLEET).cluster(), ca=pvesim_ca[0], ca_path=pvesim_ca[1]) as sim:
        api = Api(sim)
        assert api("GET", "/version").json()["data"]["release"] == "8.4"
        assert api("POST", "/nodes/pve1/qemu/9000/clone", data={"newid": 100140, "full": "True"}).status_code == 200
        assert api("GET", "/nodes/pve1/bogus").status_code == 501
        assert not any(r.validated for r in sim.requests)
