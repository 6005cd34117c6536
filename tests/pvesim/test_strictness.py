"""Requests the simulator used to accept and PVE 8.4 refuses (or reads differently), over plain HTTPS.

Sources: pve-http-server ``decode_urlencoded``/``extract_params``, pve-common
``JSONSchema::parse_property_string``/``check_object`` (stable-bookworm),
qemu-server ``API2/Qemu.pm`` ``update_vm_api``/``check_hostpci_perm`` and
``CPUConfig.pm`` ``validate_vm_cpu_conf``.
"""

from __future__ import annotations

import pytest

from tests.pvesim.test_server import Api

CONFIG = "/nodes/pve1/qemu/100500/config"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def api(pvesim):
    api = Api(pvesim)
    upid = api("POST", "/nodes/pve1/qemu/9000/clone", data={"newid": 100500, "name": "strict"}).json()["data"]
    assert api("GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]["exitstatus"] == "OK"
    return api


def _config(api) -> dict:
    return api("GET", CONFIG).json()["data"]


def _task(api, response) -> dict:
    upid = response.json()["data"]
    return api("GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]


def test_an_unencoded_equals_sign_cuts_the_value_short(api):
    response = api("PUT", CONFIG, data="description=key=value&cores=2", headers=FORM)
    assert response.status_code == 200, response.reason
    config = _config(api)
    assert config["description"] == "key" and str(config["cores"]) == "2"


def test_a_raw_semicolon_separates_parameters_like_an_ampersand(api):
    response = api("PUT", CONFIG, data="cores=3;sockets=2", headers=FORM)
    assert response.status_code == 200, response.reason
    config = _config(api)
    assert (str(config["cores"]), str(config["sockets"])) == ("3", "2")
    # An unencoded ';' inside a value therefore splits it: "b" becomes an unknown parameter.
    response = api("PUT", CONFIG, data="tags=a;b", headers=FORM)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "b": "property is not defined in schema and the schema does not allow additional properties"
    }


def test_a_body_on_delete_is_ignored(api, pvesim):
    # purge/destroy flags in a DELETE body never reach PVE: only the query string counts.
    response = api("DELETE", "/nodes/pve1/qemu/100500", data="skiplock=1", headers=FORM)
    assert response.status_code == 200, response.reason  # skiplock (root only) was not seen
    assert pvesim.requests[-1].params == {}


def test_romfile_in_hostpci_is_refused_for_a_token(api):
    value = "mapping=a100-80gb,pcie=1,romfile=vbios.rom"
    put = api("PUT", CONFIG, data={"hostpci0": value})
    assert put.status_code == 400
    assert put.json()["errors"] == {"hostpci0": "only root@pam can set 'romfile' option"}
    status = _task(api, api("POST", CONFIG, data={"hostpci0": value}))
    assert status["exitstatus"] == (
        "400 Parameter verification failed. hostpci0: only root@pam can set 'romfile' option"
    )
    assert "hostpci0" not in _config(api)


@pytest.mark.parametrize(
    ("cpu", "message"),
    [
        ("Zen9", "Built-in cputype 'Zen9' is not defined (missing 'custom-' prefix?)"),
        ("custom-fast", "Custom cputype 'fast' not found"),
        ("host,flags=+avx512f", "VM-specific CPU flags must be a subset of: pcid, spec-ctrl, ibpb, ssbd"),
        ("host,reported-model=EPYC", "Property 'reported-model' not allowed in VM-specific CPU config."),
        ("flags=+aes", "CPU is missing cputype"),
    ],
)
def test_unknown_cpu_models_and_flags_outside_the_vm_subset_are_refused(api, cpu, message):
    response = api("POST", CONFIG, data={"cpu": cpu})
    assert response.status_code == 400
    assert response.json()["errors"]["cpu"].startswith(f"invalid format - {message}")


@pytest.mark.parametrize("cpu", ["host", "x86-64-v3", "EPYC-Milan,flags=+aes;-pcid", "host,hidden=1"])
def test_known_cpu_models_and_vm_flags_pass(api, cpu):
    response = api("POST", CONFIG, data={"cpu": cpu})
    assert response.status_code == 200, response.json()


def test_a_gateway_without_an_address_is_refused(api):
    response = api("POST", CONFIG, data={"ipconfig0": "gw=203.0.113.1"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "ipconfig0": "invalid format - format error\nipconfig0.ip: missing property required by 'ipconfig0.gw'\n"
    }
    ok = api("POST", CONFIG, data={"ipconfig0": "ip=203.0.113.10/24,gw=203.0.113.1"})
    assert ok.status_code == 200


@pytest.mark.parametrize(("agent", "status"), [("yes", 400), ("enabled=yes", 200), ("1", 200), ("enabled=1", 200)])
def test_a_bare_boolean_default_key_must_be_one_or_zero(api, agent, status):
    response = api("POST", CONFIG, data={"agent": agent})
    assert response.status_code == status
    if status == 400:
        assert response.json()["errors"] == {
            "agent": "invalid format - format error\nagent.enabled: type check ('boolean') failed - got 'yes'\n"
        }


def test_delete_of_an_unknown_option_is_refused_and_of_an_unset_one_only_warned(api):
    unknown = api("POST", CONFIG, data={"delete": "colour"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"delete": "unknown option 'colour'"}
    unset = api("POST", CONFIG, data={"delete": "hostpci3"})
    upid = unset.json()["data"]
    status = api("GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]
    assert status["exitstatus"] == "OK"
    log = [row["t"] for row in api("GET", f"/nodes/pve1/tasks/{upid}/log").json()["data"]]
    assert "cannot delete 'hostpci3' - not set in current configuration!" in log


def test_storage_content_lists_the_volumes_as_pve_does(api, pvesim):
    schema = pvesim.schema
    rows = api("GET", "/nodes/pve1/storage/ceph-nvme/content", params={"content": "images"}).json()["data"]
    volids = {row["volid"] for row in rows}
    assert "ceph-nvme:base-9000-disk-0" in volids and "ceph-nvme:vm-100500-disk-0" in volids
    disk = next(row for row in rows if row["volid"] == "ceph-nvme:vm-100500-disk-0")
    assert disk["vmid"] == 100500 and disk["format"] == "raw" and disk["size"] == 10 * 1024**3
    # Every row carries what the schema marks as required.
    info = schema.route("GET", "/nodes/pve1/storage/ceph-nvme/content").info
    properties = info["returns"]["items"]["properties"]
    required = {key for key, spec in properties.items() if not spec.get("optional")}
    assert required == {"format", "size", "volid"}
    assert all(required <= set(row) for row in rows)
    assert all(set(row) - {"content"} <= set(properties) for row in rows)
    only = api("GET", "/nodes/pve1/storage/ceph-nvme/content", params={"vmid": 100500}).json()["data"]
    assert {row["vmid"] for row in only} == {100500}
    assert api("GET", "/nodes/pve1/storage/local/content", params={"content": "images"}).json()["data"] == []
    missing = api("GET", "/nodes/pve1/storage/nope/content")
    assert (missing.status_code, missing.reason) == (500, "storage 'nope' does not exist")


def test_an_offline_node_shows_its_vms_unknown_with_a_bare_row_and_answers_595(api, pvesim):
    pvesim.set_node_online("pve1", False)
    rows = api("GET", "/cluster/resources", params={"type": "vm"}).json()["data"]
    row = next(r for r in rows if r["vmid"] == 100500)
    assert row == {"id": "qemu/100500", "type": "qemu", "vmid": 100500, "node": "pve1", "status": "unknown"}
    nodes = {n["node"]: n["status"] for n in api("GET", "/nodes").json()["data"]}
    assert nodes["pve1"] == "offline"
    assert api("GET", "/nodes/pve1/qemu/100500/status/current").status_code == 595


def test_a_stale_node_shows_unknown_but_still_answers_for_its_vms(api, pvesim):
    pvesim.set_node_stale("pve1", True)
    rows = api("GET", "/cluster/resources", params={"type": "vm"}).json()["data"]
    assert next(r for r in rows if r["vmid"] == 100500)["status"] == "unknown"
    assert {n["node"]: n["status"] for n in api("GET", "/nodes").json()["data"]}["pve1"] == "unknown"
    status = api("GET", "/nodes/pve1/qemu/100500/status/current")
    assert status.status_code == 200 and status.json()["data"]["status"] == "stopped"
