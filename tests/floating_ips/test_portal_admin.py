"""Portal pages (without a browser), the task's retry and failure paths, and the back office of floating IPs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.floating_ips import services
from apps.floating_ips.choices import FloatingIpStatus as S
from apps.floating_ips.models import FloatingIp, FloatingIpOffer, FloatingIpRoute
from apps.floating_ips.routing import RoutingError
from apps.instances.models import Action
from tests.floating_ips.conftest import create, server_row

pytestmark = pytest.mark.django_db


def test_portal_pages_render_and_write(fip_env, client, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    fip, _ = create(fip_env, name="web-vip")
    server = server_row(fip_env)
    client.force_login(fip_env.personas.owner)
    listing = client.get("/floating-ips/")
    assert listing.status_code == 200 and fip.address in listing.content.decode()
    assert client.get(f"/floating-ips/{fip.public_id}/").status_code == 200
    assert client.get(f"/floating-ips/{fip.public_id}/status/").status_code == 200
    tab = client.get(f"/servers/{server.public_id}/floating-ips/")
    assert tab.status_code == 200 and fip.address in tab.content.decode()  # offered as a spare address
    response = client.post(f"/servers/{server.public_id}/floating-ips/assign/", {"floating_ip": str(fip.public_id)})
    assert response.status_code == 302
    fip.refresh_from_db()
    assert (fip.status, fip.server_id) == (S.ASSIGNING, server.pk)
    # Busy: the page says so instead of failing.
    busy = client.post(f"/floating-ips/{fip.public_id}/unassign/", follow=True)
    assert "busy" in busy.content.decode()
    created = client.post("/floating-ips/new/", {"name": "second", "datacentre": fip_env.shop.dc.code, "server": ""})
    assert created.status_code == 302 and FloatingIp.objects.filter(name="second").exists()


def test_viewers_read_but_cannot_write_in_the_portal(fip_env, client):
    fip, _ = create(fip_env)
    client.force_login(fip_env.personas.viewer)
    assert client.get(f"/floating-ips/{fip.public_id}/").status_code == 200
    assert client.post(f"/floating-ips/{fip.public_id}/delete/").status_code == 403
    client.force_login(fip_env.personas.outsider)
    assert client.get(f"/floating-ips/{fip.public_id}/").status_code == 404


def test_a_routing_error_is_retried_and_a_permanent_one_ends_in_error(fip_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    monkeypatch.setattr("apps.floating_ips.services.execution._ipset_sync", lambda server: None)
    server = server_row(fip_env)
    fip, _ = create(fip_env)
    action = services.floating_ip_assign(actor=fip_env.personas.owner, floating_ip=fip, server=server)

    def down(self, **kwargs):
        raise RoutingError("router unreachable")

    monkeypatch.setattr("apps.floating_ips.routing.table.TableRoutingBackend.announce", down)
    claimed = services.floating_ip_action_claim(action_id=action.pk, task_id="t-1")
    with pytest.raises(RoutingError):  # transient: the task retries it
        services.floating_ip_action_execute(action=claimed)
    action.refresh_from_db()
    assert action.status == "running"

    def broken(self, **kwargs):
        raise services.FloatingIpOperationFailed("router_refused", "The route was refused.")

    monkeypatch.setattr("apps.floating_ips.routing.table.TableRoutingBackend.announce", broken)
    services.floating_ip_action_execute(action=claimed)
    action.refresh_from_db()
    fip.refresh_from_db()
    assert (action.status, action.error_code) == ("error", "router_refused")
    assert fip.status == S.ERROR and fip.error_message == "The route was refused."
    # An errored floating IP can be unassigned again (withdrawing whatever was announced).
    again = services.floating_ip_unassign(actor=fip_env.personas.owner, floating_ip=fip)
    assert again.type == "unassign"


def test_back_office_pages(fip_env, client):
    fip, _ = create(fip_env)
    FloatingIpRoute.objects.create(datacentre="PAR-1", address=fip.address, next_hop="198.51.100.9")
    client.force_login(fip_env.personas.staff)
    offer = FloatingIpOffer.objects.get(code="FLOATING-IPV4")
    for url in (
        "/admin/floating_ips/floatingip/",
        f"/admin/floating_ips/floatingip/{fip.pk}/change/",
        "/admin/floating_ips/floatingiproute/",
        "/admin/floating_ips/floatingipquota/add/",
        "/admin/floating_ips/floatingipoffer/",
        f"/admin/floating_ips/floatingipoffer/{offer.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url
    assert "Placeholder price" in client.get("/admin/floating_ips/floatingipoffer/").content.decode()
    response = client.post(
        f"/admin/floating_ips/floatingipoffer/{offer.pk}/change/",
        {"price_monthly": "3.65", "description": "Set by finance."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    offer.refresh_from_db()
    assert (offer.price_monthly, offer.price_hourly) == (Decimal("3.65"), Decimal("0.005000"))
    assert Action.objects.count() == 0
