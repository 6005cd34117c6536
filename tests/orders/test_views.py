"""Portal pages of orders: wizard (live price, field errors, double submit), list, detail, cancel."""

from __future__ import annotations

import pytest

from apps.orders.choices import OrderState
from apps.orders.models import Order
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db


def _form(personas, shop, **overrides):
    data = {
        "offer": shop.vps.code,
        "datacentre": shop.dc.code,
        "image": shop.image.slug,
        "project": personas.project.pk,
        "name": "web-1",
        "user_data": "",
        "idempotency_key": "form-key-1",
    }
    data.update(overrides)
    return data


def test_member_places_an_order_from_the_wizard(personas, shop, client):
    client.force_login(personas.member)
    assert client.get("/orders/new/").status_code == 200
    response = client.post("/orders/new/", _form(personas, shop))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.public_id}/"
    assert order.state == OrderState.PROVISIONING
    page = client.get(response["Location"]).content.decode()
    assert "VPS-TEST" in page and "Provisioning" in page


def test_submitting_the_same_form_twice_places_one_order(personas, shop, client):
    client.force_login(personas.member)
    first = client.post("/orders/new/", _form(personas, shop))
    second = client.post("/orders/new/", _form(personas, shop))
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1


def test_wizard_shows_the_services_field_errors(personas, shop, client):
    client.force_login(personas.member)
    response = client.post("/orders/new/", _form(personas, shop, name="Bad_Name"))
    assert response.status_code == 200
    assert "lower-case letters" in response.content.decode()
    assert Order.objects.count() == 0


def test_viewer_cannot_order_from_the_portal(personas, shop, client):
    client.force_login(personas.viewer)
    assert "New order" not in client.get("/orders/").content.decode()
    assert client.get("/orders/new/").status_code == 403
    response = client.post("/orders/new/", _form(personas, shop))
    assert response.status_code == 403
    assert "Your role does not allow this action." in response.content.decode()
    assert Order.objects.count() == 0


def test_live_price_partial(personas, shop, client):
    client.force_login(personas.member)
    response = client.get("/orders/new/choices/", {"offer": shop.gpu.code, "datacentre": shop.dc.code})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="summary-monthly">€80.00<' in html and 'id="summary-hourly">€0.39<' in html


def test_order_page_of_another_organisation_is_404(personas, shop, client):
    order = place(personas, shop)
    client.force_login(personas.outsider)
    assert client.get(f"/orders/{order.public_id}/").status_code == 404
    assert client.post(f"/orders/{order.public_id}/cancel/").status_code == 404


def test_member_cancels_from_the_order_page(personas, shop, client, settings):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    client.force_login(personas.member)
    assert "cancel-order" in client.get(f"/orders/{order.public_id}/").content.decode()
    client.post(f"/orders/{order.public_id}/cancel/")
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED


def test_list_shows_the_organisations_orders(personas, shop, client):
    mine = place(personas, shop)
    place(
        personas,
        shop,
        actor=personas.outsider,
        organisation=personas.other_org,
        project=personas.other_project,
        name="theirs",
    )
    client.force_login(personas.member)
    html = client.get("/orders/").content.decode()
    assert str(mine.public_id) in html
    assert "theirs" not in html


def test_open_orders_refresh_themselves_and_final_ones_do_not(personas, shop, client, settings):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    client.force_login(personas.member)
    assert 'hx-trigger="every 5s"' in client.get(f"/orders/{order.public_id}/").content.decode()
    client.post(f"/orders/{order.public_id}/cancel/")
    assert 'hx-trigger="every 5s"' not in client.get(f"/orders/{order.public_id}/").content.decode()


def test_order_list_page_query_count_does_not_grow(personas, shop, client, django_assert_max_num_queries):
    client.force_login(personas.member)
    place(personas, shop, offer=shop.service, name="svc-0")
    with django_assert_max_num_queries(100) as one:
        client.get("/orders/")
    for i in range(1, 10):
        place(personas, shop, offer=shop.service, name=f"svc-{i}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get("/orders/").content.decode().count("data-state=") == 10
