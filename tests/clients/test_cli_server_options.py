"""``vmcl server create`` with order options (labels, networks, firewalls, volumes) against a stub server."""

from __future__ import annotations

import json

from tests.clients.cli import run_vmcl
from tests.clients.stub import stub_server

PAGE = {"count": 1, "next": None, "previous": None}
NET = "3f1e4c2a-7b6d-4e5f-8a9b-0c1d2e3f4a5b"
FW = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def _vmcl(stub, tmp_path, *args: str):
    return run_vmcl(*args, config=tmp_path / "config.toml", env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"})


def test_server_create_sends_labels_networks_firewalls_and_volumes_in_the_order(tmp_path):
    script = [
        (200, {}, {**PAGE, "results": [{"id": NET, "name": "backend"}]}),  # --network backend
        (200, {}, {**PAGE, "results": [{"id": 7}]}),  # the organisations, then their default project
        (200, {}, {**PAGE, "results": [{"id": 4, "is_default": True}]}),
        (202, {}, {"id": "o1", "state": "provisioning", "instance": "i1", "options_status": "pending"}),
    ]
    with stub_server(script) as stub:
        result = _vmcl(
            stub, tmp_path, "server", "create", "--name", "web-1", "--offer", "VPS-NANO", "--datacentre", "PAR-1",
            "--image", "debian-12", "--label", "env=prod", "--network", "backend", "--firewall", FW,
            "--volume", "50:STORAGE-NVME", "-o", "json",
        )  # fmt: skip
    assert result.code == 0, result.err
    order = json.loads(stub.requests[3]["body"])
    assert order["labels"] == {"env": "prod"}
    assert (order["network_ids"], order["firewall_ids"]) == ([NET], [FW])
    assert order["volumes"] == [{"size_gb": 50, "tier": "STORAGE-NVME"}]
    assert len(stub.requests) == 4  # the labels travel with the order: no PATCH afterwards


def test_a_bad_volume_spec_is_one_line_and_sends_nothing(tmp_path):
    with stub_server([]) as stub:
        result = _vmcl(
            stub, tmp_path, "server", "create", "--name", "web-1", "--offer", "VPS-NANO", "--datacentre", "PAR-1",
            "--volume", "fifty",
        )  # fmt: skip
    assert result.code != 0 and "SIZE_GB:TIER" in result.err and "Traceback" not in result.err
    assert stub.requests == []
