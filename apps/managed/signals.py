"""Signals the managed app sends, for apps above it (docs/dev/style.md#boundaries).

``service_state_changed`` is sent once the transaction that changed a service's
state commits (``services.lifecycle._transition`` and ``service_create``, the
only places states change), with ``service_id``, ``before`` ("" at creation)
and ``after`` (``ServiceState`` values). A higher app (``apps.orders``: an
order completes or ends with its service) connects a receiver in its
``AppConfig.ready()``; managed never imports it. ``service_fulfilment_started``
is sent (on commit, once) when staff start delivering a service by hand.
"""

from __future__ import annotations

from django.dispatch import Signal

# Arguments: service_id (int), before (str, a ServiceState or ""), after (str, a ServiceState).
service_state_changed = Signal()

# Arguments: service_id (int). Staff started delivering the service by hand (sent on commit, once).
service_fulfilment_started = Signal()
