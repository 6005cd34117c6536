"""The dashboard shows every resource of the organisation: servers, managed services with their set-up
status, and server orders on their way; the services list refreshes itself while something moves."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.managed import services as managed_services
from apps.orders import services as order_services
from apps.orders.choices import OrderState
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_managed_service_shows_with_its_fulfilment_status_and_polls(personas, shop):
    order = place(personas, shop, offer=shop.service, name="shop-hosting")
    assert order.state == OrderState.PROVISIONING

    html = client_for(personas.member).get("/dashboard/").content.decode()

    assert 'id="dashboard-services"' in html
    assert f'data-order="{order.public_id}"' in html and "shop-hosting" in html
    assert 'data-fulfilment="queued"' in html
    assert 'id="service-table"' in html and 'hx-get="/dashboard/services/"' in html
    assert 'hx-trigger="every 5s"' in html
    assert 'class="empty-state"' not in html
    # The costs widget stays the last thing of the page's main content.
    assert html.index('id="dashboard-services"') < html.index('id="dashboard-costs-slot"')


def test_the_partial_follows_staff_progress_and_stops_polling_once_delivered(personas, shop, staff_user):
    order = place(personas, shop, offer=shop.service, name="shop-hosting")
    client = client_for(personas.member)

    order_services.order_fulfilment_start(order=order, actor=staff_user, notes="")
    html = client.get("/dashboard/services/").content.decode()
    assert html.lstrip().startswith('<div id="service-table"')
    assert 'data-fulfilment="in_progress"' in html and 'data-polling="true"' in html

    # Issue 14: staff deliver the service (no more free-text fulfilment of the order); the order follows it.
    managed_services.service_deliver(service=order.service, actor=staff_user, endpoints={}, notes="Your site is live.")
    order_services.orders_sync_provisioning()
    html = client.get("/dashboard/services/").content.decode()
    assert 'data-fulfilment="fulfilled"' in html and 'data-state="completed"' in html
    assert 'data-polling="false"' in html and "hx-get" not in html


def test_a_server_order_awaiting_approval_shows_until_its_server_exists(personas, shop, settings, staff_user):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu, name="train-1")
    assert order.state == OrderState.AWAITING_APPROVAL

    html = client_for(personas.member).get("/dashboard/").content.decode()
    assert f'data-order="{order.public_id}"' in html and 'data-kind="server"' in html
    assert 'data-state="awaiting_approval"' in html and 'data-polling="true"' in html

    order_services.order_cancel(order=order, actor=personas.member)
    html = client_for(personas.member).get("/dashboard/").content.decode()
    assert f'data-order="{order.public_id}"' not in html  # cancelled: not a resource
    assert 'class="empty-state"' in html


def test_other_organisations_services_are_not_shown(personas, shop):
    order = place(personas, shop, offer=shop.service, name="shop-hosting")
    for url in ("/dashboard/", "/dashboard/services/"):
        html = client_for(personas.outsider).get(url).content.decode()
        assert str(order.public_id) not in html and "shop-hosting" not in html


def test_services_partial_needs_login(client):
    response = client.get("/dashboard/services/")
    assert response.status_code == 302
    assert "next=/dashboard/services/" in response["Location"]


def test_services_partial_query_count_does_not_grow(personas, shop, django_assert_max_num_queries):
    client = client_for(personas.member)
    place(personas, shop, offer=shop.service, name="svc-0")
    client.get("/dashboard/services/")
    for n in range(1, 8):
        place(personas, shop, offer=shop.service, name=f"svc-{n}")
    with django_assert_max_num_queries(12):
        html = client.get("/dashboard/services/").content.decode()
    assert html.count("data-order=") == 8
