"""Pure rules of private networks: ranges, subnets, addresses, VNet ids."""

from __future__ import annotations

import ipaddress

import pytest

from apps.networks import rules

PLATFORM = ["10.255.0.0/16", "203.0.113.0/24"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("10.0.0.0/16", None),
        ("192.168.10.0/24", None),
        ("172.16.0.0/12", None),
        ("10.0.0.1/16", "malformed"),
        ("nonsense", "malformed"),
        ("2001:db8::/64", "malformed"),
        ("8.8.8.0/24", "not_private"),
        ("172.32.0.0/16", "not_private"),
        ("10.0.0.0/7", "not_private"),
        ("10.0.0.0/25", "prefix"),
        ("10.255.4.0/24", "platform"),
        ("10.0.0.0/8", "platform"),
    ],
)
def test_range_error(text, error):
    assert rules.range_error(text, platform_ranges=PLATFORM) == error


def test_subnets_inside_the_range_without_overlap():
    block = ipaddress.IPv4Network("10.0.0.0/16")
    assert rules.subnet_error("10.0.1.0/24", ip_range=block, others=[]) is None
    assert rules.subnet_error("10.1.0.0/24", ip_range=block, others=[]) == "outside"
    assert rules.subnet_error("10.0.1.0/30", ip_range=block, others=[]) == "prefix"
    assert rules.subnet_error("10.0.1.128/25", ip_range=block, others=["10.0.1.0/24"]) == "overlap"


def test_addresses_skip_network_router_and_broadcast():
    subnet = ipaddress.IPv4Network("10.0.0.0/29")
    assert [str(a) for a in rules.assignable(subnet)] == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    assert rules.capacity(subnet) == 5
    assert rules.first_free(subnet, ["10.0.0.2", "10.0.0.4"]) == "10.0.0.3"
    assert rules.first_free(subnet, [f"10.0.0.{i}" for i in range(2, 7)]) is None
    assert rules.address_error("10.0.0.1", subnet=subnet) == "reserved"
    assert rules.address_error("10.0.0.9", subnet=subnet) == "outside"
    assert rules.address_error("10.0.0.5", subnet=subnet) is None


def test_vnet_ids_fit_eight_characters_and_are_distinct():
    assert rules.vnet_id(0) == "n0"
    assert rules.vnet_id(16_777_215) == "n9zldr"
    assert len(rules.vnet_id(36**7 - 1)) == 8
    assert len({rules.vnet_id(t) for t in range(1, 5000)}) == 4999
