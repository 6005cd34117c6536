"""Pure rules of alert policies: a metric's value from Proxmox ``rrddata`` points, and whether it fires.

Units (apps/docs/content/alerts.md, "Metrics and units"): cpu is ``cpu`` (a fraction of the VM's vCPUs)
× 100; memory is ``mem / maxmem`` × 100; disk is ``disk / maxdisk`` × 100 (Proxmox reports a VM's disk
usage only through the guest agent, else 0); network_in and network_out are ``netin`` / ``netout`` in
bytes per second (https://pve.proxmox.com/pve-docs/api-viewer/#/nodes/{node}/qemu/{vmid}/rrddata).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

PERCENT_MAX = Decimal(100)
NETWORK_MAX = Decimal(10) ** 12  # 1 TB/s: well above any NIC, below the column's bounds


def point_value(point: Any, metric: str) -> float | None:
    """One point's value of ``metric`` in its unit, or None when Proxmox left it out (stopped VM)."""
    if metric == "cpu":
        return None if point.cpu is None else float(point.cpu) * 100
    if metric == "memory":
        return None if point.mem is None or not point.maxmem else float(point.mem) / float(point.maxmem) * 100
    if metric == "disk":
        return None if point.disk is None or not point.maxdisk else float(point.disk) / float(point.maxdisk) * 100
    if metric == "network_in":
        return None if point.netin is None else float(point.netin)
    if metric == "network_out":
        return None if point.netout is None else float(point.netout)
    raise ValueError(f"unknown metric {metric!r}")


def window_average(points: Iterable[Any], *, metric: str, minutes: int, now: float) -> Decimal | None:
    """The average of ``metric`` over the points of the last ``minutes`` before ``now`` (unix time).

    None when fewer than half the window's minutes have a value (a server just started, or stopped):
    an alert fires on a sustained condition, never on a lone point.
    """
    start = now - minutes * 60
    values = [v for p in points if start < p.time <= now and (v := point_value(p, metric)) is not None]
    if len(values) < max(1, minutes // 2):
        return None
    return Decimal(str(sum(values) / len(values))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fires(*, value: Decimal, comparison: str, threshold: Decimal) -> bool:
    """Whether ``value`` breaches the policy: strictly above (``gt``) or below (``lt``) the threshold."""
    return value > threshold if comparison == "gt" else value < threshold


def worse(a: Decimal, b: Decimal, *, comparison: str) -> Decimal:
    """The peak of an incident: the higher value for ``gt``, the lower for ``lt``."""
    return max(a, b) if comparison == "gt" else min(a, b)
