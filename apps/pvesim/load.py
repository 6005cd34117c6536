"""A test hook of the simulator: pin a VM's reported CPU load (what ``…/qemu/{vmid}/rrddata`` answers).

The simulator draws a gentle sine of 5 to 35 % CPU for every running VM; a test of alert policies
(apps.alerts) needs a VM that is busy for a while, then idle. ``cpu_load_set`` pins the ``cpu``
fraction (0..1) the simulator reports for a VM until it is set back to None. Kept apart from the
state so the simulator's model of Proxmox stays untouched (docs/dev/proxmox-behaviour.md#metrics).
"""

from __future__ import annotations

import weakref
from typing import Any

_PINNED: weakref.WeakKeyDictionary[Any, dict[int, float]] = weakref.WeakKeyDictionary()


def cpu_load_set(cluster: Any, vmid: int, fraction: float | None) -> None:
    """Report ``fraction`` (0..1) as the VM's CPU from now on; None goes back to the simulated curve."""
    pinned = _PINNED.setdefault(cluster, {})
    if fraction is None:
        pinned.pop(int(vmid), None)
    else:
        pinned[int(vmid)] = max(0.0, min(1.0, float(fraction)))


def cpu_load(cluster: Any, vmid: int) -> float | None:
    """The pinned CPU fraction of a VM, or None."""
    return _PINNED.get(cluster, {}).get(int(vmid))
