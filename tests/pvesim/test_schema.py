"""The PVE-dialect validator against the official schema (read at test time, never copied)."""

from __future__ import annotations

import pytest

from apps.pvesim.schema import check_value, load_schema, parse_property_string

SCHEMA = load_schema()
pytestmark = pytest.mark.skipif(
    SCHEMA is None,
    reason="pve-apidata-8.4.json is absent (see docs/dev/proxmox-behaviour.md#schema-source or set PVE_SCHEMA_PATH)",
)


def _info(method: str, path: str):
    assert SCHEMA is not None
    route = SCHEMA.route(method, path)
    assert route is not None and route.info is not None
    return route


def test_routes_prefer_literal_segments_over_parameters():
    route = _info("GET", "/nodes/pve1/qemu/100/status/current")
    assert route.template == "/nodes/{node}/qemu/{vmid}/status/current"
    assert route.path_params == {"node": "pve1", "vmid": "100"}
    assert SCHEMA is not None and SCHEMA.route("GET", "/nodes/pve1/nothing-here") is None


def test_path_parameters_are_validated_too():
    route = _info("GET", "/nodes/pve1/qemu/42/config")
    assert SCHEMA is not None
    errors = SCHEMA.validate(route.info, route.path_params)
    assert errors == {"vmid": "value must have a minimum value of 100"}


def test_indexed_keys_expand_within_their_range():
    route = _info("POST", "/nodes/pve1/qemu/100/config")
    assert SCHEMA is not None
    params = {
        **route.path_params,
        "scsi30": "ceph:10",
        "scsi31": "ceph:10",
        "hostpci15": "mapping=t4",
        "hostpci16": "mapping=t4",
    }
    errors = SCHEMA.validate(route.info, params)
    assert set(errors) == {"scsi31", "hostpci16"}


def test_property_string_default_key_and_key_alias():
    net = _info("POST", "/nodes/pve1/qemu/100/config").info["parameters"]["properties"]["net[n]"]["format"]
    assert parse_property_string(net, "virtio=BC:24:11:00:00:01,bridge=vmbr0", "net0") == {
        "model": "virtio",
        "macaddr": "BC:24:11:00:00:01",
        "bridge": "vmbr0",
    }
    assert parse_property_string(net, "e1000,bridge=vmbr1", "net0")["model"] == "e1000"


def test_nested_errors_name_the_key():
    memory = _info("POST", "/nodes/pve1/qemu/100/config").info["parameters"]["properties"]["memory"]
    assert check_value(memory, "8", "memory") == (
        "invalid format - format error\nmemory.current: value must have a minimum value of 16\n"
    )


def test_configid_lists_accept_arrays_joined_with_commas():
    delete = _info("POST", "/nodes/pve1/qemu/100/config").info["parameters"]["properties"]["delete"]
    assert check_value(delete, ["net1", "ipconfig1"], "delete") is None
    assert check_value(delete, "net1,9bad", "delete") == "invalid format - invalid configuration ID '9bad'"
