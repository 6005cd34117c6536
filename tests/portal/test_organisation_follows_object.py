"""The organisation switcher follows the object you open (issue 16, "layout details"): opening another
organisation's server, volume, service… that you are a member of makes it the current organisation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from apps.instances.models import Instance
from apps.teams.choices import Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def server(org, project, shop, name: str) -> Instance:
    return Instance.objects.create(
        organisation=org,
        project=project,
        name=name,
        offer=shop.vps,
        datacentre=shop.dc,
        image=shop.image,
        status="running",
        price_hourly=Decimal("0.0137"),
        price_monthly=Decimal("9.99"),
    )


def dashboard_org(client: Client) -> str:
    html = client.get("/dashboard/").content.decode()
    return "Globex" if "Resources of Globex." in html else "Acme" if "Resources of Acme." in html else "?"


def test_opening_another_organisations_server_switches_to_it(personas, shop):
    MembershipFactory(organisation=personas.other_org, user=personas.member, role=Role.MEMBER)
    theirs = server(personas.other_org, personas.other_project, shop, "globex-web")
    client = Client()
    client.force_login(personas.member)
    assert dashboard_org(client) == "Acme"

    page = client.get(f"/servers/{theirs.public_id}/")

    assert page.status_code == 200 and "globex-web" in page.content.decode()
    assert dashboard_org(client) == "Globex"
    ours = server(personas.org, personas.project, shop, "acme-web")
    client.get(f"/servers/{ours.public_id}/")
    assert dashboard_org(client) == "Acme"


def test_an_object_you_cannot_see_switches_nothing_and_stays_a_404(personas, shop):
    theirs = server(personas.other_org, personas.other_project, shop, "globex-web")
    client = Client()
    client.force_login(personas.member)
    assert client.get(f"/servers/{theirs.public_id}/").status_code == 404
    assert dashboard_org(client) == "Acme"
    assert client.get("/servers/00000000-0000-0000-0000-000000000000/").status_code == 404
