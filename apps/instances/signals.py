"""Signals the instances app sends, for apps above it (docs/dev/style.md#boundaries).

``instance_status_changed`` is sent once the transaction that changed an
instance's status commits (``services.instance_transition``, the one place
statuses change), with ``instance_id``, ``before`` and ``after``. A higher app
(``apps.orders``: an order completes or fails with its server) connects a
receiver in its ``AppConfig.ready()``; instances never imports it.

``instance_labels_changed`` is sent once the transaction that changed a
server's labels commits (``services.instance_update``), with ``instance_id``
and ``organisation_id``: firewalls and load balancers that select servers by
label follow at once (``apps.firewalls``, ``apps.loadbalancers``), rather than
at their next sweep.
"""

from __future__ import annotations

from django.dispatch import Signal

# Arguments: instance_id (int), before (str, an InstanceStatus), after (str, an InstanceStatus).
instance_status_changed = Signal()

# Arguments: instance_id (int), organisation_id (int).
instance_labels_changed = Signal()
