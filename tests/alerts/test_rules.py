"""The pure rules: a metric's value from rrddata points, the window average, the comparison."""

from __future__ import annotations

from decimal import Decimal

from apps.alerts import rules
from apps.infrastructure.proxmox.types import RrdPoint


def test_units_of_each_metric():
    p = RrdPoint(time=0, cpu=0.5, mem=1.0, maxmem=4.0, disk=3.0, maxdisk=12.0, netin=100.0, netout=50.0)
    assert rules.point_value(p, "cpu") == 50.0
    assert rules.point_value(p, "memory") == 25.0
    assert rules.point_value(p, "disk") == 25.0
    assert rules.point_value(p, "network_in") == 100.0
    assert rules.point_value(p, "network_out") == 50.0
    assert rules.point_value(RrdPoint(time=0), "cpu") is None


def test_window_average_takes_only_the_last_minutes_and_needs_half_of_them():
    now = 6000
    rows = [RrdPoint(time=now - 60 * i, cpu=0.9 if i < 5 else 0.1) for i in range(20)]
    assert rules.window_average(rows, metric="cpu", minutes=5, now=now) == Decimal(
        "90.00"
    )  # the 5 points of (now-5 min, now]
    assert rules.window_average(rows[:1], metric="cpu", minutes=10, now=now) is None
    stopped = [RrdPoint(time=now - 60 * i) for i in range(10)]
    assert rules.window_average(stopped, metric="cpu", minutes=5, now=now) is None


def test_fires_strictly_and_peak_follows_the_comparison():
    assert rules.fires(value=Decimal("80.01"), comparison="gt", threshold=Decimal("80"))
    assert not rules.fires(value=Decimal("80"), comparison="gt", threshold=Decimal("80"))
    assert rules.fires(value=Decimal("1"), comparison="lt", threshold=Decimal("5"))
    assert rules.worse(Decimal("3"), Decimal("1"), comparison="lt") == Decimal("1")
    assert rules.worse(Decimal("3"), Decimal("1"), comparison="gt") == Decimal("3")
