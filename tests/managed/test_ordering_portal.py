"""Portal: the order form per family, the Services list and a service's page (reveal once, change tier, cancel)."""

from __future__ import annotations

import pytest

from apps.catalogue.services import seed_data as seed
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


# ---------------------------------------------------------------------------
# The other families through the same form
# ---------------------------------------------------------------------------
def _family_offer(slug: str, code: str, **specs):
    from apps.catalogue.choices import FamilyKind
    from tests.infrastructure.factories import FamilyFactory, OfferFactory

    family = FamilyFactory(slug=slug, name=slug, kind=FamilyKind.MANAGED_SERVICE)
    return OfferFactory(family=family, code=code, vcpu=None, ram_gb=None, disk_gb=None, **specs)


def _post(client, personas, shop, offer, **fields):
    data = {
        "offer": offer.code,
        "datacentre": shop.dc.code,
        "project": personas.project.pk,
        "name": "svc",
        "idempotency_key": f"key-{offer.code}",
        **fields,
    }
    return client.post("/orders/new/", data)


def test_paas_from_the_portal_keeps_the_variables_secret(personas, shop, client):
    offer = _family_offer("paas", "PAAS-T", paas_containers=5, paas_ram_per_container_gb=4)
    client.force_login(personas.member)
    html = client.get(f"/orders/new/?offer={offer.code}").content.decode()
    assert 'name="service_repository"' in html and 'name="service_env"' in html and 'name="user_data"' not in html
    response = _post(
        client,
        personas,
        shop,
        offer,
        service_source_kind="git",
        service_repository="git@github.com:acme/api.git",
        service_branch="release/2",
        service_environment="staging",
        service_env="DATABASE_URL=postgres://u:p@db/x?sslmode=require\r\n\r\nDEBUG=\r\n",
        service_containers="5",
        service_ram_gb="2",
    )
    assert response.status_code == 302, response.context["form"].errors
    service = ManagedService.objects.get()
    assert service.config == {
        "source": {"kind": "git", "url": "git@github.com:acme/api.git", "branch": "release/2"},
        "environment": "staging",
        "env": ["DATABASE_URL", "DEBUG"],
        "containers": 5,
        "ram_gb": 2,
    }
    assert ServiceSecret.objects.filter(service=service).count() == 2


def test_paas_form_errors_name_the_line(personas, shop, client):
    offer = _family_offer("paas", "PAAS-T", paas_containers=5, paas_ram_per_container_gb=4)
    client.force_login(personas.member)
    response = _post(
        client,
        personas,
        shop,
        offer,
        service_source_kind="image",
        service_image="Not An Image",
        service_environment="prod",
        service_env="OK=1\n1BAD=2",
        service_containers="1",
        service_ram_gb="4",
    )
    errors = response.context["form"].errors
    assert "service_image" in errors and errors["service_env"][0].startswith("Line 2: ")
    assert not ManagedService.objects.exists()


def test_cdn_from_the_portal_with_one_of_my_servers_as_origin(personas, shop, client):
    from tests.orders.conftest import place

    server = place(personas, shop, name="origin-1").instance
    offer = _family_offer("cdn", "CDN-T", cdn_waf="advanced", cdn_pops=10)
    client.force_login(personas.member)
    html = client.get(f"/orders/new/?offer={offer.code}").content.decode()
    assert f'value="{server.public_id}"' in html and 'value="custom_rules"' not in html
    response = _post(
        client,
        personas,
        shop,
        offer,
        service_origin_kind="server",
        service_origin_id=str(server.public_id),
        service_hostnames="cdn.example.com\nstatic.example.com",
        service_cache_rules="/static/* 86400\n/ 0",
        service_waf="basic",
    )
    assert response.status_code == 302, response.context["form"].errors
    config = ManagedService.objects.get(family="cdn").config
    assert config["origin"]["name"] == "origin-1"
    assert config["cache_rules"] == [{"path": "/static/*", "ttl": 86400}, {"path": "/", "ttl": 0}]
    assert (config["hostnames"], config["waf"]) == (["cdn.example.com", "static.example.com"], "basic")


def test_load_balancer_from_the_portal(personas, shop, client):
    offer = _family_offer("load-balancer", "LB-T", lb_backends=5, lb_protocols=["HTTP", "HTTPS"])
    client.force_login(personas.member)
    response = _post(
        client, personas, shop, offer, service_rules="HTTPS 443 -> HTTP 8080\nTCP 22 TCP 22", service_targets="role=web"
    )
    assert "service_rules" in response.context["form"].errors  # TCP is not in this tier
    response = _post(client, personas, shop, offer, service_rules="HTTPS 443 -> HTTP 8080", service_targets="role=web")
    assert response.status_code == 302, response.context["form"].errors
    config = ManagedService.objects.get().config
    assert config["rules"] == [{"protocol": "HTTPS", "port": 443, "target_protocol": "HTTP", "target_port": 8080}]
    assert config["targets"] == [{"kind": "label_selector", "label_selector": "role=web"}]


def test_the_dashboards_monthly_cap_counts_live_services(personas, shop, client):
    from decimal import Decimal

    live = service_row(personas, shop, name="site-1")
    ended = service_row(personas, shop, name="site-2")
    from apps.managed import services as managed_services

    managed_services.service_cancel(service=ended, actor=personas.member, confirm_name="site-2")
    client.force_login(personas.member)
    response = client.get("/dashboard/")
    assert response.context["monthly_cap"] == live.price_monthly == Decimal("4.99")
