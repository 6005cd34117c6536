"""The routing backend: how a floating IP's traffic reaches the server it is assigned to.

Proxmox has no floating-IP object (docs/dev/proxmox-behaviour.md#ipfilter): the
platform allows the address in the VM's anti-spoofing IP set, and the
operator's router must send the address to the server. This module is the
contract with that router; the backend is chosen by the
``FLOATING_IPS_ROUTING_BACKEND`` setting (a dotted path to a class).

Contract (apps/docs/content/floating-ips.md, "For operators"):

* ``announce(datacentre=, address=, next_hop=)``: from now on, packets for
  ``address`` (a host route, /32) go to ``next_hop``, the server's primary
  IPv4, reachable on the datacentre's server network. Announcing an address
  that already points elsewhere moves it (a static route replaced, or a BGP
  announcement with the new next hop). Idempotent.
* ``withdraw(datacentre=, address=)``: stop routing ``address`` anywhere.
  Withdrawing an address that is not routed is a success. Idempotent.
* ``routes(datacentre=)``: ``{address: next_hop}`` as the backend knows them
  (empty when it cannot tell).
* A transient failure (router unreachable, timeout) raises ``RoutingError``:
  the action's task retries it with backoff. Any other exception fails the
  action for staff to look at.

Calls happen in the action's Celery task, outside any database transaction,
and may be repeated (a retried or redelivered task): they must be idempotent.
"""

from __future__ import annotations

from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class RoutingError(Exception):
    """A transient routing failure: the task retries."""


class RoutingBackend(Protocol):
    def announce(self, *, datacentre: str, address: str, next_hop: str) -> None: ...

    def withdraw(self, *, datacentre: str, address: str) -> None: ...

    def routes(self, *, datacentre: str) -> dict[str, str]: ...


@cache
def _backend_class(path: str) -> type[RoutingBackend]:
    return import_string(path)  # type: ignore[no-any-return]


def routing_backend() -> RoutingBackend:
    """The configured backend (``FLOATING_IPS_ROUTING_BACKEND``), a fresh instance per call."""
    return _backend_class(settings.FLOATING_IPS_ROUTING_BACKEND)()
