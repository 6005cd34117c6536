"""The driver's SDN calls against the simulator: pending until applied, a vnet usable by a NIC only once applied
on the VM's node (docs/dev/proxmox-behaviour.md#sdn, #sdn-apply)."""

from __future__ import annotations

import pytest

from apps.infrastructure.proxmox import ProxmoxDriver, ProxmoxParameterError
from apps.infrastructure.proxmox.types import Upid

VMID = 100810
ZONE_OPTIONS = {"peers": "10.0.0.1,10.0.0.2", "mtu": 1450, "ipam": "pve"}


def _clone(driver: ProxmoxDriver, vmid: int = VMID) -> None:
    driver.wait_task("pve1", driver.clone("pve1", 9000, vmid, f"sdn-{vmid}"), timeout=5)


def test_zone_ensure_is_idempotent_and_updates_what_differs(pvesim, pve_driver):
    assert pve_driver.sdn_zone_ensure("tenants", zone_type="vxlan", options=ZONE_OPTIONS) is True
    assert pve_driver.sdn_zone_ensure("tenants", zone_type="vxlan", options=ZONE_OPTIONS) is False
    assert pve_driver.sdn_zone_ensure("tenants", zone_type="vxlan", options={**ZONE_OPTIONS, "mtu": 1400}) is True
    zone = pve_driver.request("GET", "cluster/sdn/zones/tenants")
    assert int(zone["mtu"]) == 1400
    with pytest.raises(ProxmoxParameterError) as error:
        pve_driver.sdn_zone_ensure("tenants", zone_type="simple")
    assert "type" in error.value.errors
    assert pvesim.validation_failures == []
    with pytest.raises(ProxmoxParameterError) as error:
        pve_driver.sdn_zone_ensure("customer42", zone_type="simple")  # ids are at most 8 characters
    assert "zone" in error.value.errors


def test_a_vnet_is_usable_by_a_nic_only_after_apply(pvesim, pve_driver):
    _clone(pve_driver)
    pve_driver.sdn_zone_ensure("tenants", zone_type="vxlan", options=ZONE_OPTIONS)
    pve_driver.sdn_vnet_create("c42", zone="tenants", tag=4242, alias="customer 42")
    pve_driver.sdn_subnet_create(
        "c42", cidr="10.42.0.0/24", gateway="10.42.0.1", dhcp_ranges=[("10.42.0.100", "10.42.0.200")]
    )
    subnet = pve_driver.request("GET", "cluster/sdn/vnets/c42/subnets")[0]
    assert subnet["cidr"] == "10.42.0.0/24" and subnet["gateway"] == "10.42.0.1"
    with pytest.raises(ProxmoxParameterError) as error:
        pve_driver.sdn_subnet_create("c42", cidr="10.43.0.0/24", dhcp_ranges=[("10.43.0.9", "10.43.0.1")])
    assert "dhcp-range" in error.value.errors
    assert pve_driver.sdn_vnet_ready("pve1", "c42") is False
    with pytest.raises(ProxmoxParameterError) as error:
        pve_driver.vm_nic_set("pve1", VMID, index=1, bridge="c42")
    assert "net1" in error.value.errors

    upid = pve_driver.sdn_apply()
    assert Upid.parse(upid).type == "reloadnetworkall"
    pve_driver.wait_task(Upid.parse(upid).node, upid, timeout=5)
    assert pve_driver.sdn_vnet_ready("pve1", "c42") is True

    pve_driver.vm_nic_set("pve1", VMID, index=1, bridge="c42", firewall=True)
    nic = str(pve_driver.config("pve1", VMID).options["net1"])
    assert "bridge=c42" in nic and "firewall=1" in nic
    mac = nic.split(",")[0].partition("=")[2]
    assert mac
    # Changing the NIC keeps its MAC unless one is given.
    pve_driver.vm_nic_set("pve1", VMID, index=1, bridge="c42", firewall=False)
    nic = str(pve_driver.config("pve1", VMID).options["net1"])
    assert nic.startswith(f"virtio={mac},") and "firewall=0" in nic
    pve_driver.vm_nic_set("pve1", VMID, index=1, bridge="c42", macaddr="BC:24:11:00:00:42")
    assert str(pve_driver.config("pve1", VMID).options["net1"]).startswith("virtio=BC:24:11:00:00:42,")

    pve_driver.vm_nic_remove("pve1", VMID, index=1)
    assert "net1" not in pve_driver.config("pve1", VMID).options
    assert pve_driver.sdn_vnet_delete("c42") is True
    assert pve_driver.sdn_vnet_delete("c42") is False
    pve_driver.wait_task("pve1", pve_driver.sdn_apply(), timeout=5)
    assert pve_driver.sdn_vnet_ready("pve1", "c42") is False
    assert [r.path for r in pvesim.validation_failures] == []


def test_an_offline_node_misses_the_vnet_although_the_apply_ends_ok(pvesim, pve_driver):
    pve_driver.sdn_zone_ensure("tenants", zone_type="vxlan", options=ZONE_OPTIONS)
    pve_driver.sdn_vnet_create("c43", zone="tenants", tag=4343)
    pvesim.set_node_online("gpu2", False)
    upid = pve_driver.sdn_apply()
    assert pve_driver.wait_task(Upid.parse(upid).node, upid, timeout=5).exitstatus == "OK"
    assert pve_driver.sdn_vnet_ready("gpu1", "c43") is True
    pvesim.set_node_online("gpu2", True)
    assert pve_driver.sdn_vnet_ready("gpu2", "c43") is False
