"""Firewall rule validation and the Proxmox rules a firewall becomes (no database)."""

from __future__ import annotations

from apps.firewalls import rules


def _rule(**extra):
    rule = {"direction": "in", "protocol": "tcp", "port": "80", "source_ips": ["0.0.0.0/0"]}
    rule.update(extra)
    return rule


def _errors(*items, **kwargs):
    return rules.rules_clean(list(items), **kwargs)[1]


def test_bad_rules_name_the_field_in_error():
    errors = _errors(
        _rule(),
        _rule(port="0"),
        _rule(port="70000"),
        _rule(port="90-80"),
        _rule(source_ips=["10.0.0.300/8"]),
        _rule(protocol="icmp", port="22"),
        _rule(source_ips=["10.0.0.1/8"]),
        _rule(protocol="sctp"),
        _rule(direction="out", source_ips=["1.2.3.4"]),
    )
    assert set(errors) == {
        "rules[1].port",
        "rules[2].port",
        "rules[3].port",
        "rules[4].source_ips[0]",
        "rules[5].port",
        "rules[6].source_ips[0]",
        "rules[7].protocol",
        "rules[8].source_ips",
        "rules[8].destination_ips",
    }
    assert "80-90" in errors["rules[3].port"]
    assert "10.0.0.0/8" in errors["rules[6].source_ips[0]"]


def test_too_many_rules_is_an_error_on_rules():
    assert _errors(*[_rule()] * (rules.MAX_RULES + 1)) == {"rules": f"at most {rules.MAX_RULES} rules per firewall"}


def test_valid_rules_are_normalised():
    clean, errors = rules.rules_clean(
        [_rule(port=443, source_ips=["192.0.2.7", "2001:db8::/32", "192.0.2.7"]), _rule(protocol="esp", port=None)]
    )
    assert errors == {}
    assert clean[0]["port"] == "443" and clean[0]["source_ips"] == ["192.0.2.7/32", "2001:db8::/32"]
    assert clean[1]["port"] is None


def test_pve_rules_split_families_icmp_and_ranges():
    clean, _ = rules.rules_clean(
        [
            _rule(port="8000-8080", source_ips=["0.0.0.0/0", "::/0"], description="web\nfront"),
            {"direction": "out", "protocol": "icmp", "destination_ips": ["::/0", "10.0.0.0/8"]},
        ]
    )
    out = rules.pve_rules(clean)
    assert [(r["type"], r["proto"], r["dport"], r["source"], r["dest"]) for r in out] == [
        ("in", "tcp", "8000:8080", "0.0.0.0/0", None),
        ("in", "tcp", "8000:8080", "::/0", None),
        ("out", "icmp", None, None, "10.0.0.0/8"),
        ("out", "ipv6-icmp", None, None, "::/0"),
    ]
    assert out[0]["comment"] == "web front" and all(r["action"] == "ACCEPT" for r in out)


def test_long_address_lists_are_split_under_pve_limit():
    ips = [f"2001:db8:{n:x}::/48" for n in range(100)]
    clean, errors = rules.rules_clean([_rule(source_ips=ips)])
    assert errors == {}
    out = rules.pve_rules(clean)
    assert len(out) > 1 and all(len(r["source"]) <= rules.PVE_ADDRESS_LIST_MAX for r in out)
    assert sum(len(r["source"].split(",")) for r in out) == 100


def test_policy_and_group_name():
    assert rules.vm_policy_out([[_rule()], []]) == "ACCEPT"
    assert rules.vm_policy_out([[_rule()], [{"direction": "out"}]]) == "DROP"
    name = rules.group_name("0123456789abcdef0123456789abcdef")
    assert name == "fw0123456789abcdef" and len(name) == 18
