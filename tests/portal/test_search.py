"""The global search (issue 16): the current organisation's servers, volumes, networks, services and invoices,
and the docs pages; never another organisation's; invoices only for billing readers; no JavaScript needed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from apps.billing.models import Invoice
from apps.instances.models import Instance
from apps.portal.selectors import search
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def server(org, project, shop, name: str, ipv4: str | None = None) -> Instance:
    return Instance.objects.create(
        organisation=org,
        project=project,
        name=name,
        offer=shop.vps,
        datacentre=shop.dc,
        image=shop.image,
        status="running",
        ipv4=ipv4,
        price_hourly=Decimal("0.0137"),
        price_monthly=Decimal("9.99"),
    )


def invoice(org, number: str) -> Invoice:
    return Invoice.objects.create(
        organisation=org,
        number=number,
        status="open",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
    )


def test_finds_the_organisations_server_by_name_and_by_address(personas, shop):
    mine = server(personas.org, personas.project, shop, "web-frontend", ipv4="203.0.113.7")
    by_name = search(actor=personas.member, organisation=personas.org, query="FRONT")
    assert [h.title for h in by_name.hits["server"]] == ["web-frontend"]
    assert by_name.hits["server"][0].url == f"/servers/{mine.public_id}/"
    by_address = search(actor=personas.member, organisation=personas.org, query="203.0.113")
    assert [h.title for h in by_address.hits["server"]] == ["web-frontend"]
    by_id = search(actor=personas.member, organisation=personas.org, query=str(mine.public_id))
    assert [h.title for h in by_id.hits["server"]] == ["web-frontend"]


def test_another_organisations_resources_are_never_found(personas, shop):
    server(personas.other_org, personas.other_project, shop, "globex-web")
    invoice(personas.other_org, "GLX-2026-0001")
    found = search(actor=personas.owner, organisation=personas.org, query="globex")
    assert "server" not in found.hits
    # Even naming the other organisation: the search stays in organisations the actor belongs to.
    found = search(actor=personas.owner, organisation=personas.other_org, query="globex")
    assert "server" not in found.hits and "invoice" not in found.hits
    html = client_for(personas.owner).get("/search/", {"q": "GLX"}).content.decode()
    assert "GLX-2026-0001" not in html and "globex-web" not in html


def test_services_and_invoices_are_found_invoices_only_by_billing_readers(personas, shop):
    place(personas, shop, offer=shop.service, name="shop-hosting")
    invoice(personas.org, "VMC-2026-0042")
    found = search(actor=personas.billing, organisation=personas.org, query="0042")
    assert [h.title for h in found.hits["invoice"]] == ["VMC-2026-0042"]
    assert "invoice" not in search(actor=personas.member, organisation=personas.org, query="0042").hits
    assert [
        h.title for h in search(actor=personas.member, organisation=personas.org, query="shop").hits["service"]
    ] == ["shop-hosting"]


def test_docs_pages_are_found_by_their_words(personas):
    found = search(actor=personas.member, organisation=personas.org, query="floating ip")
    assert found.hits["doc"] and all(hit.url.startswith("/docs/") for hit in found.hits["doc"])
    assert search(actor=personas.member, organisation=personas.org, query="zzqqxxnothing").total == 0


def test_the_page_works_without_javascript_and_the_overlay_gets_the_results_alone(personas, shop):
    server(personas.org, personas.project, shop, "db-primary")
    client = client_for(personas.member)
    page = client.get("/search/", {"q": "primary"})
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert 'id="search-page-q"' in html and 'value="primary"' in html and "db-primary" in html
    partial = client.get("/search/", {"q": "primary", "partial": "1"}).content.decode()
    assert partial.lstrip().startswith('<div id="search-results"') and "db-primary" in partial
    assert "<html" not in partial


@pytest.mark.parametrize("query", ["", "   ", "x" * 5000, "'; drop table--", "%", "::", "1.2.3.4.5", "\x00"])
def test_odd_queries_answer_a_page_never_an_error(personas, query):
    response = client_for(personas.member).get("/search/", {"q": query})
    assert response.status_code == 200


def test_search_needs_login(client):
    response = client.get("/search/?q=web")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_every_console_page_has_the_search_form_and_the_shortcut_dialog(personas):
    html = client_for(personas.member).get("/dashboard/").content.decode()
    assert 'action="/search/"' in html and 'role="search"' in html
    assert 'id="search-dialog"' in html and 'aria-keyshortcuts="/ Control+K"' in html


def test_a_user_without_organisation_searches_the_docs(user):
    client = Client()
    client.force_login(user)
    user.organisations.clear()
    response = client.get("/search/", {"q": "floating"})
    assert response.status_code == 200 and 'data-kind="doc"' in response.content.decode()
