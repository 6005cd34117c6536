"""The firewall in the simulator, driven through proxmoxer (docs/dev/proxmox-behaviour.md#firewall)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.pvesim.client import clone, connect, refused

VMID = 100900


@pytest.fixture
def pve(pvesim):
    pve = connect(pvesim)
    clone(pve, VMID, name="fw-a")
    return pve


def _fw(pve):
    return pve.nodes("pve1").qemu(VMID).firewall


def test_three_switches_are_plain_synchronous_writes(pve):
    assert pve.cluster.firewall.options.put(enable=1) is None
    assert pve.cluster.firewall.options.get()["enable"] == 1
    bad = refused(pve.cluster.firewall.options.put, enable="yes")
    assert bad.errors == {"enable": "type check ('integer') failed - got 'yes'"}
    _fw(pve).options.put(enable=1, policy_in="DROP", policy_out="ACCEPT", ipfilter=1, macfilter=1)
    options = _fw(pve).options.get()
    assert options["enable"] == 1 and options["policy_in"] == "DROP" and len(options["digest"]) == 40
    stale = refused(_fw(pve).options.put, enable=0, digest="0" * 40)
    assert (stale.status_code, stale.content) == (
        500,
        "detected modified configuration - file changed by other user? Try again.",
    )
    pve.nodes("pve1").qemu(VMID).config.put(net0="virtio,bridge=vmbr0,firewall=1")
    bad_policy = refused(_fw(pve).options.put, policy_in="ALLOW")
    assert bad_policy.status_code == 400 and "policy_in" in bad_policy.errors


def test_post_inserts_at_position_zero_and_enable_defaults_to_off(pve):
    rules = _fw(pve).rules
    rules.post(type="in", action="ACCEPT", proto="tcp", dport="22", pos=5)
    rules.post(type="in", action="ACCEPT", proto="tcp", dport="80,443", enable=1)
    listed = rules.get()
    assert [r["dport"] for r in listed] == ["80,443", "22"] and [r["pos"] for r in listed] == [0, 1]
    assert listed[1]["enable"] == 0 and listed[0]["enable"] == 1
    # To append: move the new rule to the end.
    rules(0).put(moveto=1)
    assert [r["dport"] for r in rules.get()] == ["22", "80,443"]
    digest = rules.get()[0]["digest"]
    rules(1).put(comment="web", digest=digest)
    stale = refused(rules(1).delete, digest=digest)
    assert stale.content == "detected modified configuration - file changed by other user? Try again."
    missing = refused(rules(7).put, comment="x")
    assert (missing.status_code, missing.content) == (500, "no rule at position 7")
    rules(1).delete()
    assert len(rules.get()) == 1


IN = {"type": "in", "action": "ACCEPT"}
TCP = {**IN, "proto": "tcp"}
FMT = "invalid format - "
MANY_PORTS = "1:2,3:4,5:6,7:8,9:10,11:12,13:14,15,16"
MIXED = "10.0.0.1,2001:db8::1"


@pytest.mark.parametrize(
    ("rule", "errors"),
    [
        ({**IN, "type": "forward"}, {"type": "invalid rule type 'forward' for rule_env 'vm'"}),
        ({**IN, "action": "ALLOW"}, {"action": "unknown action 'ALLOW'"}),
        ({**IN, "dport": "22"}, {"proto": "missing property - 'dport' requires this property"}),
        ({**IN, "proto": "icmp", "sport": "22"}, {"sport": "protocol 'icmp' does not support ports"}),
        ({**TCP, "dport": "90:80"}, {"dport": f"{FMT}backwards range '90:80' not allowed, did you mean '80:90'?\n"}),
        ({**TCP, "dport": MANY_PORTS}, {"dport": f"{FMT}too many entries in port list (> 15 numbers)\n"}),
        ({**TCP, "dport": "70000"}, {"dport": f"{FMT}invalid port '70000'\n"}),
        ({**IN, "proto": "tcpx"}, {"proto": f"{FMT}unknown protocol 'tcpx'\n"}),
        ({**IN, "source": MIXED}, {"source": f"{FMT}detected mixed ipv4/ipv6 addresses in address list '{MIXED}'\n"}),
        ({**IN, "source": "10.0.0.1-10.0.0.9,10.0.1.1"}, {"source": f"{FMT}you can't use a range in a list\n"}),
        ({**IN, "source": "+admins"}, {"source": "no such ipset 'admins'"}),
        ({**IN, "dest": "dc/office"}, {"dest": "no such alias 'office'"}),
        ({**IN, "macro": "Gopher"}, {"macro": "unknown macro 'Gopher'"}),
        ({**IN, "iface": "eth0"}, {"iface": "value does not match the regex pattern 'net\\d+'"}),
    ],
)
def test_vm_rules_are_verified_like_pve_firewall(pve, rule, errors):
    error = refused(_fw(pve).rules.post, **rule)
    assert error.status_code == 400 and error.errors == errors
    assert _fw(pve).rules.get() == []


def test_valid_rule_shapes(pve):
    pve.cluster.firewall.ipset.post(name="t42-admins")
    pve.cluster.firewall.ipset("t42-admins").post(cidr="192.168.1.155/24")  # host bits are cleared first
    pve.cluster.firewall.aliases.post(name="office", cidr="198.51.100.0/24")
    _fw(pve).ipset.post(name="ipfilter-net0")
    rules = _fw(pve).rules
    for rule in (
        {"type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "ssh,80:90,443", "source": "+dc/t42-admins"},
        {"type": "in", "action": "ACCEPT", "proto": "udp", "sport": "53", "source": "10.0.0.0/8,192.168.0.0/16"},
        {"type": "in", "action": "ACCEPT", "macro": "ssh", "source": "office", "iface": "net0"},
        {"type": "out", "action": "REJECT", "dest": "10.0.0.1-10.0.0.9", "log": "info"},
        {"type": "in", "action": "ACCEPT", "proto": "icmp", "icmp-type": "echo-request"},
        {"type": "in", "action": "DROP", "source": "+ipfilter-net0"},
    ):
        rules.post(enable=1, **rule)
    assert rules.get()[3]["macro"] == "SSH"  # the macro's preferred spelling


def test_security_groups_and_group_rules(pve):
    groups = pve.cluster.firewall.groups
    groups.post(group="t42-web", comment="tenant 42")
    assert refused(groups.post, group="t42-web").content == "Security group 't42-web' already exists"
    groups("t42-web").post(type="in", action="ACCEPT", proto="tcp", dport="22,80,443", enable=1)
    nested = refused(groups("t42-web").post, type="group", action="other")
    assert nested.errors == {"type": "security groups not allowed"}
    with_iface = refused(groups("t42-web").post, type="in", action="ACCEPT", iface="net0")
    assert with_iface.errors == {"type": "parameter -i not allowed for this rule type"}
    # A VM rule may name a group, checked only when the firewall compiles (a missing one is not an error here).
    _fw(pve).rules.post(type="group", action="t42-web", iface="net0", enable=1)
    _fw(pve).rules.post(type="group", action="t99-none", enable=1)
    assert [r["action"] for r in _fw(pve).rules.get()] == ["t99-none", "t42-web"]
    full = refused(groups("t42-web").delete)
    assert (full.status_code, full.content) == (500, "Security group 't42-web' is not empty")
    groups("t42-web")(0).delete()
    groups("t42-web").delete()
    assert groups.get() == []
    assert refused(groups("t42-web").get).content == "no such security group 't42-web'"


def test_ip_sets_and_aliases(pve):
    ipset = _fw(pve).ipset
    ipset.post(name="ipfilter-net0", comment="anti-spoofing")
    ipset("ipfilter-net0").post(cidr="10.42.0.10")
    ipset("ipfilter-net0").post(cidr="fe80::/10", nomatch=1)
    assert refused(ipset("ipfilter-net0").post, cidr="10.42.0.10").content == "address '10.42.0.10' already exists"
    bad = refused(ipset("ipfilter-net0").post, cidr="10.42.0.300")
    assert bad.status_code == 400
    unknown = refused(ipset("ipfilter-net0").post, cidr="gateway")
    assert unknown.errors == {"cidr": "no such alias 'gateway'"}
    entries = ipset("ipfilter-net0").get()
    assert [(e["cidr"], e.get("nomatch")) for e in entries] == [("10.42.0.10", None), ("fe80::/10", 1)]
    # A CIDR in the path is percent-encoded.
    ipset("ipfilter-net0")(quote("fe80::/10", safe="")).put(comment="link-local")
    assert ipset("ipfilter-net0")(quote("fe80::/10", safe="")).get()["comment"] == "link-local"
    not_empty = refused(ipset("ipfilter-net0").delete)
    assert not_empty.content == "IPSet 'ipfilter-net0' is not empty"
    ipset("ipfilter-net0").delete(force=1)
    assert ipset.get() == []
    aliases = _fw(pve).aliases
    aliases.post(name="Gateway", cidr="10.42.0.1")
    assert refused(aliases.post, name="gateway", cidr="10.42.0.2").content == "alias 'gateway' already exists"
    aliases("gateway").put(cidr="10.42.0.254", rename="gw")
    assert [(a["name"], a["cidr"]) for a in aliases.get()] == [("gw", "10.42.0.254")]
    assert refused(aliases.post, name="net", cidr="not-an-ip").status_code == 400


def test_firewall_writes_take_no_vm_lock(pve, pvesim):
    """docs/dev/proxmox-behaviour.md#lock-placement: a backup lock or a busy config flock does not stop them."""
    pvesim.set_vm_lock(VMID, "backup", seconds=30)
    pvesim.hold_lock(VMID, seconds=30)
    _fw(pve).options.put(enable=1)
    _fw(pve).rules.post(type="in", action="ACCEPT", proto="tcp", dport="22", enable=1)
    _fw(pve).ipset.post(name="ipfilter-net0")
    assert len(_fw(pve).rules.get()) == 1
    locked = refused(pve.nodes("pve1").qemu(VMID).config.put, cores=2)
    assert locked.status_code == 500


def test_destroy_removes_the_vm_firewall(pve):
    _fw(pve).rules.post(type="in", action="ACCEPT", proto="tcp", dport="22", enable=1)
    pve.nodes("pve1").qemu(VMID).delete()
    clone(pve, VMID)
    assert _fw(pve).rules.get() == []


def test_macros_are_listed(pve):
    names = {m["macro"] for m in pve.cluster.firewall.macros.get()}
    assert {"SSH", "HTTP", "HTTPS", "DNS", "Ping"} <= names


def test_a_clone_copies_the_firewall_config(pve):
    _fw(pve).options.put(enable=1, policy_in="DROP")
    _fw(pve).rules.post(type="in", action="ACCEPT", proto="tcp", dport="22", enable=1)
    clone(pve, 100901, template=VMID)
    copy = pve.nodes("pve1").qemu(100901).firewall
    assert copy.options.get()["policy_in"] == "DROP" and [r["dport"] for r in copy.rules.get()] == ["22"]
    copy.rules(0).delete()
    assert len(_fw(pve).rules.get()) == 1  # a copy, not shared


def test_cluster_rules_and_refs(pve):
    pve.cluster.firewall.rules.post(type="forward", action="ACCEPT", proto="tcp", dport="443", enable=1)
    pve.cluster.firewall.rules.post(type="in", action="ACCEPT", macro="SSH", iface="vmbr0", enable=1)
    assert [r["type"] for r in pve.cluster.firewall.rules.get()] == ["in", "forward"]
    pve.cluster.firewall.ipset.post(name="t42-admins", comment="admins")
    _fw(pve).aliases.post(name="gw", cidr="10.42.0.1")
    refs = _fw(pve).refs.get()
    assert {(r["type"], r["ref"], r["scope"]) for r in refs} == {
        ("ipset", "+dc/t42-admins", "dc"),
        ("alias", "guest/gw", "guest"),
    }
    assert [r["name"] for r in _fw(pve).refs.get(type="alias")] == ["gw"]
