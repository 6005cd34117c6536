"""Portal: the order form per family, the Services list and a service's page (reveal once, change tier, cancel)."""

from __future__ import annotations

import pytest

from apps.catalogue import seed
from apps.core.models import AuditEvent
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService, ServiceSecret
from apps.orders.models import Order
from tests.managed.factories import service_row, tier_offer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def web_stack(shop):
    family = shop.service.family
    family.features = next(f for f in seed.FAMILIES if f["slug"] == "web-hosting")["features"]
    family.save(update_fields=["features"])


def _order_form(personas, shop, **overrides):
    data = {
        "offer": shop.service.code,
        "datacentre": shop.dc.code,
        "project": personas.project.pk,
        "name": "shop",
        "service_domain": "shop.example.com",
        "service_runtime": "php:8.3",
        "service_app": "wordpress",
        "idempotency_key": "form-key-svc",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# The order form per family
# ---------------------------------------------------------------------------
def test_a_managed_plan_asks_for_its_family_fields_only(personas, shop, client):
    client.force_login(personas.member)
    html = client.get(f"/orders/new/?offer={shop.service.code}").content.decode()
    assert 'name="service_domain"' in html and 'name="service_runtime"' in html and 'name="service_app"' in html
    assert 'data-family="web_hosting"' in html
    assert 'name="ssh_keys"' not in html and 'name="user_data"' not in html and 'name="image"' not in html
    assert "WordPress" in html and "PHP 7.4" in html and ".NET 8.0" in html


def test_a_server_plan_keeps_its_wizard(personas, shop, client):
    client.force_login(personas.member)
    html = client.get(f"/orders/new/?offer={shop.vps.code}&datacentre={shop.dc.code}").content.decode()
    assert 'name="user_data"' in html and 'name="image"' in html
    assert 'name="service_domain"' not in html and 'id="service-fields"' not in html


def test_the_choices_partial_redraws_the_family_fields_and_keeps_what_was_typed(personas, shop, client):
    client.force_login(personas.member)
    html = client.get(
        f"/orders/new/choices/?offer={shop.service.code}&service_domain=typed.example.com"
    ).content.decode()
    assert 'value="typed.example.com"' in html and 'name="ssh_keys"' not in html


def test_ordering_web_hosting_from_the_portal_creates_the_service(personas, shop, client):
    client.force_login(personas.member)
    response = client.post("/orders/new/", _order_form(personas, shop))
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    service = ManagedService.objects.get()
    assert order.service == service
    assert service.config["domain"] == "shop.example.com"
    assert (service.config["runtime"], service.config["version"], service.config["app"]) == ("php", "8.3", "wordpress")
    page = client.get(f"/orders/{order.public_id}/").content.decode()
    assert f"/services/{service.public_id}/" in page


def test_service_errors_land_on_their_form_fields(personas, shop, client):
    client.force_login(personas.member)
    response = client.post("/orders/new/", _order_form(personas, shop, service_domain="not a domain"))
    assert response.status_code == 200
    form = response.context["form"]
    assert "service_domain" in form.errors
    assert not ManagedService.objects.exists()


# ---------------------------------------------------------------------------
# Services list and page
# ---------------------------------------------------------------------------
def test_services_list_shows_the_organisations_services_only(personas, shop, client):
    mine = service_row(personas, shop, name="site-1")
    client.force_login(personas.viewer)
    html = client.get("/services/").content.decode()
    assert f'data-service="{mine.public_id}"' in html and "WEB-TEST" in html
    client.force_login(personas.outsider)
    assert str(mine.public_id) not in client.get("/services/").content.decode()
    assert client.get(f"/services/{mine.public_id}/").status_code == 404


def test_service_page_shows_endpoints_notes_and_history(personas, shop, client):
    service = service_row(personas, shop, name="site-1")
    client.force_login(personas.member)
    html = client.get(f"/services/{service.public_id}/").content.decode()
    assert 'data-endpoint="https://example.com"' in html
    assert "SFTP at sftp.example.com" in html
    assert 'data-to="provisioning"' in html and 'data-to="active"' in html
    assert "s3cret" not in html and 'id="reveal-credentials"' in html


def test_credentials_are_revealed_once_and_audited(personas, shop, client):
    service = service_row(personas, shop, name="site-1")
    client.force_login(personas.member)
    response = client.post(f"/services/{service.public_id}/credentials/")
    assert response.status_code == 200
    assert "s3cret" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert ServiceSecret.objects.get(service=service).revealed_at is not None
    assert AuditEvent.objects.filter(action="managed.service.credentials_reveal").count() == 1
    again = client.post(f"/services/{service.public_id}/credentials/", follow=True)
    assert "s3cret" not in again.content.decode()
    assert "already shown" in again.content.decode()


def test_a_viewer_cannot_reveal_nor_cancel(personas, shop, client):
    service = service_row(personas, shop, name="site-1")
    client.force_login(personas.viewer)
    assert 'id="reveal-credentials"' not in client.get(f"/services/{service.public_id}/").content.decode()
    assert client.post(f"/services/{service.public_id}/credentials/").status_code == 403
    assert client.post(f"/services/{service.public_id}/cancel/", {"confirm": "site-1"}).status_code == 403
    service.refresh_from_db()
    assert service.state == ServiceState.ACTIVE
    assert ServiceSecret.objects.get(service=service).revealed_at is None


def test_cancel_needs_the_typed_name(personas, shop, client):
    service = service_row(personas, shop, name="site-1")
    client.force_login(personas.member)
    response = client.post(f"/services/{service.public_id}/cancel/", {"confirm": "site-2"}, follow=True)
    assert "Type the service" in response.content.decode()
    service.refresh_from_db()
    assert service.state == ServiceState.ACTIVE
    client.post(f"/services/{service.public_id}/cancel/", {"confirm": "site-1", "reason": "Moving away"})
    service.refresh_from_db()
    assert service.state == ServiceState.CANCELLED and service.ended_at is not None


def test_change_tier_within_the_family(personas, shop, client):
    service = service_row(personas, shop, name="site-1")
    pro = tier_offer(shop)
    client.force_login(personas.member)
    html = client.get(f"/services/{service.public_id}/").content.decode()
    assert 'id="change-tier"' in html and pro.code in html and shop.vps.code not in html
    client.post(f"/services/{service.public_id}/tier/", {"offer": pro.code})
    service.refresh_from_db()
    assert (service.offer, service.state) == (pro, ServiceState.CHANGING)
    # A tier of another family is not a choice.
    response = client.post(f"/services/{service.public_id}/tier/", {"offer": shop.vps.code}, follow=True)
    service.refresh_from_db()
    assert service.offer == pro and response.status_code == 200
