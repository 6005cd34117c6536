"""vmcl's volume, network, firewall and floating-ip commands against a live platform (issue 13).

``live_server``, the Proxmox simulator's fleet and eager Celery, as in
``test_cli_live.py``; every long command runs with ``--wait`` (the progress bar
follows ``/api/v1/actions/{id}/``, which serves every resource's Actions).
"""

from __future__ import annotations

import json
import time

import pytest
import yaml

from tests.clients.cli import run_vmcl

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_volumes_networks_firewalls_and_floating_ips_through_the_cli(platform, extras, tmp_path):
    config = tmp_path / "config.toml"
    env = {"VMCL_URL": platform.url, "VMCL_TOKEN": platform.token}
    timings: dict[str, float] = {}

    def vmcl(*args: str):
        result = run_vmcl(*args, config=config, env=env)
        assert "Traceback" not in result.err
        return result

    def ok(*args: str):
        started = time.monotonic()
        result = vmcl(*args)
        timings[" ".join(args[:2])] = time.monotonic() - started
        assert result.code == 0, f"vmcl {' '.join(args)}: {result.err}"
        return result

    def as_json(*args: str):
        return json.loads(ok(*args, "-o", "json").out)

    fleet = platform.fleet
    for name in ("app-1", "app-2"):
        ok(
            "server", "create", "--name", name, "--offer", fleet.vps_offer.code, "--datacentre", fleet.dc.code,
            "--image", fleet.ubuntu24.slug, "--wait",
        )  # fmt: skip
    ok("server", "add-label", "app-2", "role=web")

    # Volumes: create attached with --wait shows the volume, then detach, attach, grow, labels, delete.
    volume = as_json(
        "volume", "create", "--name", "data", "--tier", extras.tier.code, "--size", "20",
        "--datacentre", fleet.dc.code, "--server", "app-1", "--label", "env=prod", "--wait",
    )  # fmt: skip
    assert (volume["name"], volume["status"], volume["size_gb"]) == ("data", "in_use", 20)
    assert volume["device_path"]
    assert as_json("volume", "detach", "data", "--wait")["status"] == "success"
    assert as_json("volume", "describe", "data")["status"] == "available"
    ok("volume", "attach", "data", "--server", "app-1", "--wait")
    assert as_json("volume", "resize", "data", "--size", "30", "--wait")["status"] == "success"
    ok("volume", "add-label", "data", "tier=db")
    assert [v["name"] for v in as_json("volume", "list", "--label-selector", "tier=db")] == ["data"]
    assert yaml.safe_load(ok("volume", "describe", "data", "-o", "yaml").out)["size_gb"] == 30
    attached = vmcl("volume", "delete", "data")
    assert attached.code == 6 and "[volume_attached]" in attached.err and attached.err.count("\n") == 1
    ok("volume", "detach", "data", "--wait")
    assert {a["type"] for a in as_json("volume", "actions", "data")} >= {"create", "attach", "detach", "resize"}
    assert as_json("volume", "delete", "data", "--wait")["status"] == "success"

    # Networks: create with a subnet, attach both servers, list and describe, detach, delete.
    network = as_json(
        "network", "create", "--name", "backend", "--ip-range", "10.20.0.0/16", "--subnet", "10.20.1.0/24",
        "--datacentre", fleet.dc.code, "--label", "env=prod", "--wait",
    )  # fmt: skip
    assert (network["status"], [s["cidr"] for s in network["subnets"]]) == ("available", ["10.20.1.0/24"])
    ok("network", "attach", "backend", "--server", "app-1", "--wait")
    ok("network", "attach", "backend", "--server", "app-2", "--ip", "10.20.1.50", "--wait")
    ok("network", "add-subnet", "backend", "10.20.2.0/24", "--wait")
    assert [s["cidr"] for s in as_json("network", "subnets", "backend")] == ["10.20.1.0/24", "10.20.2.0/24"]
    servers = {s["server_name"]: s["address"] for s in as_json("network", "describe", "backend")["servers"]}
    assert servers == {"app-1": "10.20.1.2", "app-2": "10.20.1.50"}
    table = ok("network", "list", "--columns", "name,servers", "--no-header", "--label-selector", "env=prod").out
    assert table.split()[0] == "backend" and "app-2=10.20.1.50" in table
    not_empty = vmcl("network", "delete", "backend")
    assert not_empty.code == 6 and "[network_not_empty]" in not_empty.err
    for name in ("app-1", "app-2"):
        ok("network", "detach", "backend", "--server", name, "--wait")
    assert as_json("network", "delete", "backend", "--wait")["status"] == "success"

    # Firewalls: rules from flags, then from a YAML file; applied to a server and to a label selector.
    firewall = as_json(
        "firewall", "create", "--name", "web", "--rule", "in tcp port=22 source=198.51.100.0/24 description=ssh",
        "--apply-to-server", "app-1", "--wait",
    )  # fmt: skip
    assert firewall["rules"][0]["port"] == "22" and firewall["rules"][0]["source_ips"] == ["198.51.100.0/24"]
    assert firewall["applied"] is True
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "rules:\n"
        "  - {direction: in, protocol: tcp, port: '80', source_ips: ['0.0.0.0/0', '::/0']}\n"
        "  - {direction: in, protocol: icmp, source_ips: ['0.0.0.0/0']}\n"
    )
    assert as_json("firewall", "set-rules", "web", "--rules-file", str(rules_file), "--wait")["status"] == "success"
    assert [r["protocol"] for r in as_json("firewall", "rules", "web")] == ["tcp", "icmp"]
    ok("firewall", "apply-to", "web", "--label-selector", "role=web", "--wait")
    applied = as_json("firewall", "describe", "web")["applied_to"]
    assert {t["type"] for t in applied} == {"server", "label_selector"}
    ok("firewall", "remove-from", "web", "--server", "app-1", "--wait")
    assert [t["type"] for t in as_json("firewall", "describe", "web")["applied_to"]] == ["label_selector"]
    bad = vmcl("firewall", "set-rules", "web", "--rule", "in tcp port=99999")
    assert bad.code == 3 and bad.err.count("\n") == 1, bad.err
    assert vmcl("firewall", "set-rules", "web", "--rule", "sideways").code == 2
    ok("firewall", "update", "web", "--name", "web-fw")
    assert {a["type"] for a in as_json("firewall", "actions", "web-fw")} >= {"apply"}
    assert as_json("firewall", "delete", "web-fw", "--wait")["status"] == "success"

    # Floating IPs: reserve assigned to a server, move, unassign, address as the reference, release.
    floating = as_json("floating-ip", "create", "--name", "vip", "--server", "app-1", "--label", "env=prod", "--wait")
    assert floating["status"] == "assigned" and floating["address"]
    ok("floating-ip", "assign", floating["address"], "--server", "app-2", "--wait")
    server_2 = as_json("server", "describe", "app-2")["id"]
    assert as_json("floating-ip", "describe", "vip")["server_id"] == server_2
    assert [f["name"] for f in as_json("floating-ip", "list", "--label-selector", "env=prod")] == ["vip"]
    ok("floating-ip", "unassign", "vip", "--wait")
    ok("floating-ip", "update", "vip", "--protect")
    protected = vmcl("floating-ip", "delete", "vip")
    assert protected.code == 6 and "[delete_protected]" in protected.err
    ok("floating-ip", "update", "vip", "--no-protect")
    assert {a["type"] for a in as_json("floating-ip", "actions", "vip")} >= {"assign", "unassign"}
    assert as_json("floating-ip", "delete", "vip", "--wait")["status"] == "success"
    assert as_json("floating-ip", "list") == []
    print("vmcl wall times (s):", {k: round(v, 2) for k, v in timings.items()})
