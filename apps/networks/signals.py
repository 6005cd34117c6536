"""Signals the networks app sends, for apps above it (docs/dev/style.md#events).

``server_network_changed`` is sent once the transaction that attached a
server's card to a private network, or detached it, commits
(``services.execution``), with ``instance_id``, ``network_id`` and ``status``
(an ``AttachmentStatus``: ``attached`` or ``detached``). A load balancer whose
VM or target just joined or left a network reaches that target by its new
address at once (``apps.loadbalancers``), rather than at its next sweep.
"""

from __future__ import annotations

from django.dispatch import Signal

# Arguments: instance_id (int), network_id (int), status (str, an AttachmentStatus).
server_network_changed = Signal()
