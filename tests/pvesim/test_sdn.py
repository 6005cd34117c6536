"""SDN zones, vnets and subnets in the simulator, pending until applied, driven through proxmoxer
(docs/dev/proxmox-behaviour.md#sdn and the decisions in #simulator-wave2)."""

from __future__ import annotations

import pytest

from tests.pvesim.client import clone, connect, exitstatus, refused, task_log

VMID = 100800


@pytest.fixture
def pve(pvesim):
    pve = connect(pvesim)
    clone(pve, VMID, name="sdn-a")
    return pve


def _apply(pve) -> str:
    upid = pve.cluster.sdn.put()
    assert exitstatus(pve, upid) == "OK"
    return upid


def _network(pve, customer: str = "c42", tag: int = 4242, **vnet: object) -> None:
    pve.cluster.sdn.zones.post(zone="tenants", type="vxlan", peers="10.0.0.1,10.0.0.2", mtu=1450, ipam="pve")
    pve.cluster.sdn.vnets.post(vnet=customer, zone="tenants", tag=tag, **vnet)


def test_writes_are_pending_until_applied(pve, pvesim):
    _network(pve)
    assert [z["zone"] for z in pve.cluster.sdn.zones.get()] == ["tenants"]
    assert pve.cluster.sdn.zones.get(running=1) == []
    assert pve.cluster.sdn.vnets.get(pending=1)[0]["state"] == "new"
    upid = _apply(pve)
    assert upid.split(":")[5:8] == ["reloadnetworkall", "", "portal@pve!celery"]
    assert [v["vnet"] for v in pve.cluster.sdn.vnets.get(running=1)] == ["c42"]
    assert "state" not in pve.cluster.sdn.vnets.get(pending=1)[0]
    reloads = [t for t in pvesim.cluster.tasks.values() if t.type == "srvreload"]
    assert sorted(t.node for t in reloads) == ["gpu1", "gpu2", "pve1"] and {t.id for t in reloads} == {"networking"}
    assert {"iface": "c42", "type": "vnet", "active": 1} in pve.nodes("pve1").network.get()
    sdn_rows = pve.cluster.resources.get(type="sdn")
    assert {"id": "sdn/pve1/tenants", "type": "sdn", "sdn": "tenants", "node": "pve1", "status": "ok"} in sdn_rows
    # A change is pending again, with the changed keys under "pending".
    pve.cluster.sdn.vnets("c42").put(alias="customer 42")
    row = pve.cluster.sdn.vnets.get(pending=1)[0]
    assert row["state"] == "changed" and row["pending"] == {"alias": "customer 42"}


def test_an_offline_node_misses_the_reload_but_the_task_ends_ok(pve, pvesim):
    _network(pve)
    pvesim.set_node_online("gpu2", False)
    upid = _apply(pve)
    assert any("gpu2" in line for line in task_log(pve, upid))
    assert pvesim.cluster.sdn.running_vnet("c42", "gpu2") is None
    assert pvesim.cluster.sdn.running_vnet("c42", "gpu1") is not None


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("customer42", "invalid format - zone ID 'customer42' can't be more length than 8 characters\n"),
        ("c-42", "invalid format - zone ID 'c-42' contains illegal characters\n"),
    ],
)
def test_zone_ids_are_short_interface_names(pve, zone, message):
    error = refused(pve.cluster.sdn.zones.post, zone=zone, type="simple")
    assert error.status_code == 400 and error.errors == {"zone": message}


def test_zone_options_follow_the_zone_type(pve):
    missing = refused(pve.cluster.sdn.zones.post, zone="vx", type="vxlan")
    assert missing.errors == {"peers": "property is missing and it is not optional"}
    unexpected = refused(pve.cluster.sdn.zones.post, zone="s1", type="simple", peers="10.0.0.1")
    assert unexpected.errors == {"peers": "unexpected property 'peers'"}
    pve.cluster.sdn.zones.post(zone="s1", type="simple")
    again = refused(pve.cluster.sdn.zones.post, zone="s1", type="simple")
    assert again.status_code == 500 and again.content == "sdn zone object ID 's1' already defined"


def test_vnet_tags_are_checked_per_zone_type_and_unique(pve):
    _network(pve)
    pve.cluster.sdn.zones.post(zone="local", type="simple")
    pve.cluster.sdn.zones.post(zone="v1", type="vlan", bridge="vmbr0")
    pve.cluster.sdn.zones.post(zone="v2", type="vlan", bridge="vmbr0")
    cases: list[tuple[dict[str, object], str]] = [
        ({"vnet": "s1", "zone": "local", "tag": 5}, "vlan tag is not allowed on simple zone"),
        ({"vnet": "x1", "zone": "tenants"}, "missing vxlan tag"),
        ({"vnet": "x2", "zone": "tenants", "tag": 4242}, "tag 4242 already exist in vnet c42"),
        ({"vnet": "l1", "zone": "v1"}, "missing vlan tag"),
        ({"vnet": "l1", "zone": "v1", "tag": 5000}, "vlan tag must be between 1 and 4094"),
    ]
    for params, message in cases:
        assert refused(pve.cluster.sdn.vnets.post, **params).errors == {"tag": message}, params
    pve.cluster.sdn.vnets.post(vnet="l1", zone="v1", tag=100)
    pve.cluster.sdn.vnets.post(vnet="l2", zone="v2", tag=100)  # another VLAN zone: its own tag space
    clash = refused(pve.cluster.sdn.vnets.post, vnet="l3", zone="v1", tag=100)
    assert clash.errors == {"tag": "tag 100 already exist in vnet l1"}
    long_name = refused(pve.cluster.sdn.vnets.post, vnet="customer42", zone="v1", tag=7)
    assert long_name.errors == {
        "vnet": "invalid format - vnet ID 'customer42' can't be more length than 8 characters\n"
    }


def test_subnets_and_their_dhcp_ranges(pve):
    _network(pve)
    subnets = pve.cluster.sdn.vnets("c42").subnets
    subnets.post(subnet="10.42.0.0/24", type="subnet", gateway="10.42.0.1")
    row = subnets.get()[0]
    assert row["subnet"] == "tenants-10.42.0.0-24" and row["cidr"] == "10.42.0.0/24"
    assert subnets("tenants-10.42.0.0-24").get()["gateway"] == "10.42.0.1"
    outside = refused(subnets.post, subnet="10.43.0.0/24", type="subnet", gateway="10.42.0.1")
    assert outside.errors == {"gateway": "gateway 10.42.0.1 is not in subnet 10.43.0.0/24"}
    rng = refused(
        subnets.post,
        subnet="10.44.0.0/24",
        type="subnet",
        **{"dhcp-range": ["start-address=10.44.0.100,end-address=10.44.0.50"]},
    )
    assert rng.errors == {"dhcp-range": "start-address 10.44.0.100 must be smaller than end-address 10.44.0.50"}
    overlap = refused(
        subnets.post,
        subnet="10.45.0.0/24",
        type="subnet",
        **{
            "dhcp-range": [
                "start-address=10.45.0.10,end-address=10.45.0.50",
                "start-address=10.45.0.40,end-address=10.45.0.60",
            ]
        },
    )
    assert overlap.errors == {"dhcp-range": "dhcp ranges must not overlap"}
    no_type = refused(subnets.post, subnet="10.46.0.0/24")
    assert no_type.errors == {"type": "property is missing and it is not optional"}
    busy = refused(pve.cluster.sdn.vnets("c42").delete)
    assert busy.errors == {"vnet": "Can't delete vnet if subnets exists"}
    in_use = refused(pve.cluster.sdn.zones("tenants").delete)
    assert (in_use.status_code, in_use.content) == (500, "zone tenants is used by vnet c42")


def test_digest_guards_concurrent_edits(pve):
    _network(pve)
    digest = pve.cluster.sdn.zones("tenants").get()["digest"]
    pve.cluster.sdn.zones("tenants").put(mtu=1400, digest=digest)
    stale = refused(pve.cluster.sdn.zones("tenants").put, mtu=1300, digest=digest)
    assert stale.content == "detected modified configuration - file changed by other user? Try again."


def test_a_nic_may_only_use_an_applied_vnet(pve):
    _network(pve)
    config = pve.nodes("pve1").qemu(VMID).config
    for call in (config.put, config.post):
        error = refused(call, net1="virtio,bridge=c42,firewall=1")
        assert error.status_code == 400 and error.errors == {"net1": "bridge 'c42' does not exist"}
    _apply(pve)
    config.put(net1="virtio,bridge=c42,firewall=1")
    assert "bridge=c42" in config.get()["net1"]
    tagged = refused(config.put, net2="virtio,bridge=c42,tag=5")
    assert tagged.errors == {"net2": "vm vlans are not allowed on vnet c42"}
    assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).status.start.post()) == "OK"


def test_a_vlan_aware_vnet_takes_guest_tags(pve):
    _network(pve, vlanaware=1)
    _apply(pve)
    pve.nodes("pve1").qemu(VMID).config.put(net1="virtio,bridge=c42,tag=5")


def test_starting_a_vm_whose_vnet_was_removed_fails(pve):
    _network(pve)
    _apply(pve)
    pve.nodes("pve1").qemu(VMID).config.put(net1="virtio,bridge=c42,firewall=1")
    pve.cluster.sdn.vnets("c42").delete()
    _apply(pve)
    start = pve.nodes("pve1").qemu(VMID).status.start.post()
    assert exitstatus(pve, start) == "bridge 'c42' does not exist"


def test_a_dhcp_zone_gives_each_nic_an_address_and_destroy_returns_it(pve):
    pve.cluster.sdn.zones.post(zone="dhcp1", type="simple", dhcp="dnsmasq", ipam="pve")
    pve.cluster.sdn.vnets.post(vnet="lan1", zone="dhcp1")
    pve.cluster.sdn.vnets("lan1").subnets.post(
        subnet="10.50.0.0/24",
        type="subnet",
        gateway="10.50.0.1",
        snat=1,
        **{"dhcp-range": ["start-address=10.50.0.100,end-address=10.50.0.101"]},
    )
    _apply(pve)
    pve.nodes("pve1").qemu(VMID).config.put(net1="virtio=BC:24:11:00:00:0A,bridge=lan1,firewall=1")
    status = pve.cluster.sdn.ipams("pve").status.get()
    assert status == [
        {
            "zone": "dhcp1",
            "vnet": "lan1",
            "subnet": "10.50.0.0/24",
            "ip": "10.50.0.100",
            "mac": "BC:24:11:00:00:0A",
            "vmid": VMID,
        }
    ]
    # Manual entries: POST (no vmid), duplicates refused.
    ips = pve.cluster.sdn.vnets("lan1").ips
    ips.post(zone="dhcp1", ip="10.50.0.101", mac="BC:24:11:00:00:0B")
    assert refused(ips.post, zone="dhcp1", ip="10.50.0.101").content == "IP '10.50.0.101' already exist"
    assert refused(ips.post, zone="dhcp1", ip="10.60.0.1").content == "ip 10.60.0.1 is not in a subnet of vnet lan1"
    # The range is now full: the next NIC cannot get an address.
    full = pve.nodes("pve1").qemu(VMID).config.post(net2="virtio=BC:24:11:00:00:0C,bridge=lan1")
    assert exitstatus(pve, full) == "can't find free ip in subnets of vnet lan1"
    assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).delete()) == "OK"
    assert [e["ip"] for e in pve.cluster.sdn.ipams("pve").status.get()] == ["10.50.0.101"]
