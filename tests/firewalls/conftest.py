"""Fixtures for firewall tests: servers on the Proxmox simulator (the instances ``fleet``) and helpers."""

from __future__ import annotations

from typing import Any

from apps.firewalls import services
from apps.instances.services.access import instance_driver
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures

WEB = {"direction": "in", "protocol": "tcp", "port": "80", "source_ips": ["0.0.0.0/0", "::/0"], "description": "web"}
SSH = {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["198.51.100.0/24"]}


def running_server(world: Any, personas: Any, cap: Any, name: str) -> Any:
    """A server provisioned on the simulator (eager tasks run on commit)."""
    with cap(execute=True):
        server, _action = create_instance(world, personas, offer=world.vps_offer, name=name)
    server.refresh_from_db()
    assert server.status == "running"
    return server


def make_firewall(personas: Any, cap: Any, name: str, rules: list[dict[str, Any]], **kwargs: Any) -> Any:
    with cap(execute=True):
        firewall, actions = services.firewall_create(
            actor=personas.owner,
            organisation=personas.org,
            project=personas.project,
            name=name,
            rules_data=rules,
            **kwargs,
        )
    firewall.refresh_from_db()
    return firewall, actions


def vm_state(world: Any, server: Any) -> Any:
    return instance_driver(world.cluster).vm_firewall_state(server.node_name, server.vmid)


def group_rules(world: Any, group: str) -> list[dict[str, Any]]:
    driver = instance_driver(world.cluster)
    return sorted(driver.request("GET", f"cluster/firewall/groups/{group}"), key=lambda r: int(r["pos"]))
