"""Fleet files: the demo fleet mirrors the seed's inventory; malformed files are refused."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from apps.pvesim.fleet import FleetError, load_fleet, parse_fleet

DEMO = Path(__file__).resolve().parents[2] / "apps" / "pvesim" / "fleets" / "demo.yaml"


def test_demo_fleet_has_the_seed_inventory():
    fleet = load_fleet(DEMO)
    assert [(c.datacentre, c.maintenance) for c in fleet.clusters] == [
        ("PAR-1", False),
        ("AMS-1", False),
        ("FRA-1", True),
    ]
    nodes = [node for cluster in fleet.clusters for node in cluster.nodes]
    cpu_servers = [n for n in nodes if not n.gpus]
    assert len(cpu_servers) == 60
    assert {(n.memory_gb, "EPYC 7" in n.cpu_model) for n in cpu_servers} == {(256, True)}
    assert sum(n.cpus for n in cpu_servers) == 3840
    gpus = Counter(g.model for n in nodes for g in n.gpus)
    assert gpus == {"t4": 25, "rtx-4090": 20, "a100-40gb": 30, "a100-80gb": 10}
    assert all(n.maintenance for n in fleet.cluster("FRA-1").nodes)


def test_demo_fleet_gpus_have_unique_addresses_and_nvlink_pairs():
    fleet = load_fleet(DEMO)
    for node in fleet.cluster("PAR-1").nodes:
        assert len({g.address for g in node.gpus}) == len(node.gpus)
    big = next(n for n in fleet.cluster("PAR-1").nodes if n.name == "par1-a100x-01")
    assert Counter(g.nvlink_group for g in big.gpus) == {f"par1-a100x-01-nvl{i}": 2 for i in range(4)}


def test_unknown_gpu_model_is_refused():
    raw = {"clusters": [{"name": "x", "nodes": [{"name": "n1", "gpus": [{"model": "h100", "count": 1}]}]}]}
    with pytest.raises(FleetError, match="unknown model h100"):
        parse_fleet(raw)


def test_template_on_unknown_node_is_refused():
    raw = {
        "clusters": [
            {
                "name": "x",
                "storages": [{"name": "local-lvm"}],
                "nodes": [{"name": "n1"}],
                "templates": [{"vmid": 9000, "name": "t", "node": "n9"}],
            }
        ]
    }
    with pytest.raises(FleetError, match="unknown node n9"):
        parse_fleet(raw)
