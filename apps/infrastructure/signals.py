"""Signals the infrastructure app sends, for apps above it (docs/dev/style.md#boundaries).

``cluster_synced`` is sent after an inventory sync that asked the cluster itself
(not a fleet-file import), with ``cluster`` and ``driver``. A higher app checks
what it depends on there (``apps.firewalls``: the datacentre firewall switch)
from its ``AppConfig.ready()``; infrastructure never imports it. Sent robustly:
a receiver's failure never fails the sync.
"""

from __future__ import annotations

from django.dispatch import Signal

# Arguments: cluster (Cluster), driver (ProxmoxDriver).
cluster_synced = Signal()
