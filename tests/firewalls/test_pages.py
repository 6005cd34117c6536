"""Portal pages and back office of firewalls render, refuse what the role does not allow, and keep the
rules editor working without JavaScript (add a row, field errors on their row)."""

from __future__ import annotations

import pytest

from apps.firewalls import services
from apps.firewalls.models import ClusterFirewallCheck, Firewall, FirewallQuota, ServerFirewall
from tests.factories import server_row
from tests.firewalls.conftest import WEB

pytestmark = pytest.mark.django_db


def _firewall(personas, **kwargs):
    firewall, _ = services.firewall_create(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        name="web",
        rules_data=[WEB],
        **kwargs,
    )
    return firewall


def test_portal_pages_render_and_the_editor_adds_rows_without_javascript(client, shop, personas):
    server = server_row(personas, shop)
    firewall = _firewall(personas, servers=[server])
    client.force_login(personas.member)
    assert client.get("/firewalls/").status_code == 200
    page = client.get(f"/firewalls/{firewall.public_id}/")
    assert page.status_code == 200 and b"web-1" in page.content
    assert client.get(f"/firewalls/{firewall.public_id}/live/").status_code == 200
    tab = client.get(f"/servers/{server.public_id}/firewalls/")
    assert tab.status_code == 200 and b"server-firewalls" in tab.content
    form = client.get("/firewalls/new/")
    assert form.status_code == 200 and b'name="rule-1-port"' in form.content
    more = client.post("/firewalls/new/", {"rows": "2", "op": "add_row", "name": "x", "rule-0-port": "22"})
    assert more.status_code == 200 and b'name="rule-2-port"' in more.content
    bad = client.post(
        f"/firewalls/{firewall.public_id}/",
        {
            "rows": "1",
            "op": "save",
            "rule-0-direction": "in",
            "rule-0-protocol": "tcp",
            "rule-0-port": "0",
            "rule-0-ips": "0.0.0.0/0",
        },
    )
    assert bad.status_code == 400 and b"port: ports are from 1 to 65535" in bad.content
    saved = client.post(
        f"/firewalls/{firewall.public_id}/",
        {
            "rows": "1",
            "op": "save",
            "rule-0-direction": "in",
            "rule-0-protocol": "udp",
            "rule-0-port": "53",
            "rule-0-ips": "10.0.0.0/8 192.0.2.1",
        },
    )
    assert saved.status_code == 302
    firewall.refresh_from_db()
    assert firewall.rules[0]["source_ips"] == ["10.0.0.0/8", "192.0.2.1/32"] and firewall.generation == 2
    removed = client.post(
        f"/firewalls/{firewall.public_id}/remove/",
        {"servers": str(server.public_id), "next": f"/servers/{server.public_id}/firewalls/"},
    )
    assert removed.status_code == 302 and removed["Location"] == f"/servers/{server.public_id}/firewalls/"
    offsite = client.post(f"/firewalls/{firewall.public_id}/apply/", {"next": "https://evil.test/"})
    assert offsite["Location"] == f"/firewalls/{firewall.public_id}/"


def test_a_viewer_cannot_create_or_change_and_an_outsider_sees_nothing(client, shop, personas):
    firewall = _firewall(personas)
    client.force_login(personas.viewer)
    assert client.get("/firewalls/new/").status_code == 403
    assert client.post(f"/firewalls/{firewall.public_id}/delete/").status_code == 403
    client.force_login(personas.outsider)
    assert client.get(f"/firewalls/{firewall.public_id}/").status_code == 404
    assert Firewall.objects.get().status == "active"


def test_back_office_pages_render(client, shop, personas):
    server = server_row(personas, shop)
    firewall = _firewall(personas, servers=[server])
    ServerFirewall.objects.create(instance=server, groups=[firewall.group], drift=True, drift_detail="groups []")
    ClusterFirewallCheck.objects.create(cluster=shop.fleet["cluster"], enabled=False)
    FirewallQuota.objects.create(organisation=personas.org, max_firewalls=3)
    client.force_login(personas.staff)
    for url in (
        "/admin/firewalls/firewall/",
        f"/admin/firewalls/firewall/{firewall.pk}/change/",
        f"/admin/firewalls/firewall/?groups__cluster__id__exact={shop.fleet['cluster'].pk}",
        "/admin/firewalls/serverfirewall/?drift__exact=1",
        "/admin/firewalls/firewallquota/",
        "/admin/firewalls/clusterfirewallcheck/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"FIREWALL OFF" in client.get("/admin/firewalls/clusterfirewallcheck/").content
    response = client.post(
        "/admin/firewalls/firewall/", {"action": "reapply", "_selected_action": [firewall.pk]}, follow=True
    )
    assert response.status_code == 200
