"""The driver's firewall calls against the simulator: security groups replaced idempotently with digests, a VM's
group rules, IP sets for anti-spoofing, and the state read for drift (docs/dev/proxmox-behaviour.md#firewall)."""

from __future__ import annotations

import pytest

from apps.infrastructure.proxmox import ProxmoxDriver, ProxmoxParameterError
from apps.infrastructure.proxmox.types import FirewallRule

VMID = 100910
WEB = [
    FirewallRule(type="in", action="ACCEPT", proto="tcp", dport="22,80,443", comment="web"),
    FirewallRule(type="in", action="ACCEPT", macro="Ping"),
    FirewallRule(type="out", action="DROP", dest="10.0.0.0/8", log="info"),
]


def _clone(driver: ProxmoxDriver, vmid: int = VMID) -> None:
    driver.wait_task("pve1", driver.clone("pve1", 9000, vmid, f"fw-{vmid}"), timeout=5)


def _group_rules(driver: ProxmoxDriver, group: str) -> list[FirewallRule]:
    return [FirewallRule.from_row(row) for row in driver.request("GET", f"cluster/firewall/groups/{group}")]


def test_group_rules_are_replaced_idempotently(pvesim, pve_driver):
    assert pve_driver.firewall_group_put("t42-web", WEB, comment="tenant 42") is True
    assert _group_rules(pve_driver, "t42-web") == WEB  # in order, all enabled
    pvesim.clear_requests()
    assert pve_driver.firewall_group_put("t42-web", WEB) is False
    assert [r.method for r in pvesim.requests] == ["GET", "GET"]  # read only: nothing written
    changed = [WEB[2], FirewallRule(type="in", action="ACCEPT", proto="udp", dport="53", enable=False)]
    assert pve_driver.firewall_group_put("t42-web", changed) is True
    assert _group_rules(pve_driver, "t42-web") == changed
    deletes = [r for r in pvesim.requests if r.method == "DELETE"]
    assert deletes and all(r.params.get("digest") for r in deletes)
    assert pve_driver.firewall_group_put("t42-web", []) is True
    assert _group_rules(pve_driver, "t42-web") == []
    assert pvesim.validation_failures == []


def test_a_bad_rule_is_a_parameter_error_and_the_group_keeps_its_rules(pve_driver):
    pve_driver.firewall_group_put("t42-web", WEB)
    bad = [WEB[0], FirewallRule(type="in", action="ACCEPT", dport="80")]  # a port needs a protocol
    with pytest.raises(ProxmoxParameterError) as error:
        pve_driver.firewall_group_put("t42-web", bad)
    assert "proto" in error.value.errors and not error.value.is_transient
    assert _group_rules(pve_driver, "t42-web") == WEB
    with pytest.raises(ProxmoxParameterError):
        pve_driver.firewall_group_put("t42-web", [FirewallRule(type="group", action="other")])


def test_group_delete_empties_then_removes_the_group(pve_driver):
    pve_driver.firewall_group_put("t42-web", WEB)
    assert pve_driver.firewall_group_delete("t42-web") is True
    assert pve_driver.firewall_group_delete("t42-web") is False
    assert pve_driver.request("GET", "cluster/firewall/groups") == []


def test_vm_group_rules_options_ipset_and_state(pvesim, pve_driver):
    _clone(pve_driver)
    assert pve_driver.cluster_firewall_enabled() is False
    pve_driver.request("PUT", "cluster/firewall/options", {"enable": 1})
    assert pve_driver.cluster_firewall_enabled() is True
    pve_driver.firewall_group_put("t42-web", WEB)
    own = FirewallRule(type="in", action="ACCEPT", proto="tcp", dport="8080")
    pve_driver.request("POST", f"nodes/pve1/qemu/{VMID}/firewall/rules", own.params())

    assert pve_driver.vm_firewall_group_rules_set("pve1", VMID, groups=["t42-web", "t42-db"]) is True
    pvesim.clear_requests()
    assert pve_driver.vm_firewall_group_rules_set("pve1", VMID, groups=["t42-web", "t42-db"]) is False
    assert all(r.method == "GET" for r in pvesim.requests)
    assert pve_driver.vm_firewall_group_rules_set("pve1", VMID, groups=["t42-db"]) is True

    assert pve_driver.vm_firewall_ipset_put("pve1", VMID, name="ipfilter-net0", cidrs=["10.42.0.10", "fe80::/10"])
    assert not pve_driver.vm_firewall_ipset_put("pve1", VMID, name="ipfilter-net0", cidrs=["fe80::/10", "10.42.0.10"])
    floating = ["10.42.0.10", "203.0.113.7", "192.168.1.155/24", "!192.168.1.128/25"]
    assert pve_driver.vm_firewall_ipset_put("pve1", VMID, name="ipfilter-net0", cidrs=floating)
    assert not pve_driver.vm_firewall_ipset_put("pve1", VMID, name="ipfilter-net0", cidrs=floating)
    pve_driver.vm_firewall_options_set("pve1", VMID, enable=True, policy_in="DROP", ipfilter=True)
    with pytest.raises(ValueError):
        pve_driver.vm_firewall_options_set("pve1", VMID, enable=True, policy_in="deny")

    state = pve_driver.vm_firewall_state("pve1", VMID)
    assert (state.enable, state.policy_in, state.ipfilter, state.macfilter) == (True, "DROP", True, True)
    assert state.groups == ("t42-db",)
    assert state.rules[-1] == own  # the VM's own rule is kept below the group rules
    assert set(state.ipsets["ipfilter-net0"]) == {"10.42.0.10", "203.0.113.7", "192.168.1.0/24", "!192.168.1.128/25"}
    assert pvesim.validation_failures == []
