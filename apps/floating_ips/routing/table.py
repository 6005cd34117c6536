"""The ``table`` routing backend: records each route in ``FloatingIpRoute`` (``make run``, tests, demos).

Nothing leaves the platform: the table is what a router would have been told,
so the portal, the back office and the tests can show where each address
points. An operator replaces it with a backend for their router
(``routing.RoutingBackend``; apps/docs/content/floating-ips.md "For operators").
"""

from __future__ import annotations

from apps.floating_ips.models import FloatingIpRoute


class TableRoutingBackend:
    def announce(self, *, datacentre: str, address: str, next_hop: str) -> None:
        FloatingIpRoute.objects.update_or_create(
            address=address, defaults={"datacentre": datacentre, "next_hop": next_hop}
        )

    def withdraw(self, *, datacentre: str, address: str) -> None:
        FloatingIpRoute.objects.filter(address=address).delete()

    def routes(self, *, datacentre: str) -> dict[str, str]:
        rows = FloatingIpRoute.objects.filter(datacentre=datacentre).values_list("address", "next_hop")
        return dict(rows)
