"""The order create flow's form and page (apps/orders/forms/, views.py): cards with their live state,
reasons for what cannot be ordered, deep links, quantity, the inline SSH key, crafted posts refused with a
form error, and a query count that does not grow with the offers and keys."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.billing.models import VatRate
from apps.catalogue.choices import DatacentreStatus, FamilyKind
from apps.core.errors import Unavailable
from apps.instances.models import SshKey
from apps.orders import services
from apps.orders.models import Order
from tests.catalogue.factories import GpuSoftwareStackFactory
from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory, TemplateFactory

pytestmark = pytest.mark.django_db

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"


def _post(personas, shop, **extra):
    data = {
        "family": shop.vps.family.slug,
        "offer": shop.vps.code,
        "datacentre": shop.dc.code,
        "image": shop.image.slug,
        "project": personas.project.pk,
        "name": "web",
        "quantity": "1",
        "idempotency_key": "k" * 32,
    }
    data.update(extra)
    return data


def _radio(html: str, name: str, value: str) -> str:
    """The <input> tag of one radio card."""
    match = re.search(rf'<input type="radio"[^>]*name="{name}" value="{re.escape(value)}"[^>]*>', html)
    assert match, f"no {name}={value} radio"
    return match.group(0)


@pytest.fixture
def fra(shop):
    """FRA-1, in maintenance, sells the VPS: shown, disabled, with the reason."""
    dc = DatacentreFactory(code="FRA-1", city="Frankfurt", country="DE", status=DatacentreStatus.MAINTENANCE)
    shop.vps.datacentres.add(dc)
    return dc


def test_the_flow_shows_families_datacentres_images_and_plans(personas, shop, client):
    client.force_login(personas.member)
    html = client.get("/orders/new/?family=vps").content.decode()
    assert 'name="family" value="vps"' in html and 'name="family" value="web-hosting"' in html
    assert "checked" in _radio(html, "family", "vps")
    assert "disabled" not in _radio(html, "datacentre", shop.dc.code)
    assert "disabled" not in _radio(html, "offer", shop.vps.code)
    # Only the chosen family's plans; the managed one is in its own family.
    assert 'value="WEB-TEST"' not in html and 'value="GPU-TEST"' not in html
    assert "disabled" not in _radio(html, "image", shop.image.slug)
    # Plan cards: specs and prices, with the organisation's VAT when a rate is known.
    assert "€9.99" in html and "€0.0137" in html


def test_a_datacentre_in_maintenance_is_shown_disabled_with_its_reason(personas, shop, client, fra):
    client.force_login(personas.member)
    html = client.get(f"/orders/new/?offer={shop.vps.code}").content.decode()
    tag = _radio(html, "datacentre", "FRA-1")
    assert "disabled" in tag and 'aria-describedby="datacentre-FRA-1-reason"' in tag
    assert re.search(r'id="datacentre-FRA-1-reason">Maintenance<', html)
    # The only open datacentre is chosen for the customer.
    assert "checked" in _radio(html, "datacentre", shop.dc.code)


def test_a_plan_without_capacity_is_shown_disabled_with_its_reason(personas, shop, client):
    big = OfferFactory(
        family=shop.gpu.family, code="GPU-HUGE", gpu_model=shop.gpu.gpu_model, gpu_count=3, datacentres=[shop.dc]
    )
    client.force_login(personas.member)
    html = client.get(f"/orders/new/?family={big.family.slug}&datacentre={shop.dc.code}").content.decode()
    assert "disabled" in _radio(html, "offer", big.code)
    assert re.search(r'id="offer-GPU-HUGE-reason">No capacity for this plan right now<', html)
    assert "disabled" not in _radio(html, "offer", shop.gpu.code)


def test_a_crafted_post_of_a_disabled_choice_is_a_form_error_not_a_500(personas, shop, client, fra):
    client.force_login(personas.member)
    response = client.post("/orders/new/", _post(personas, shop, datacentre="FRA-1"))
    assert response.status_code == 200
    assert "Maintenance" in response.content.decode() and 'class="field-error"' in response.content.decode()
    response = client.post("/orders/new/", _post(personas, shop, datacentre="NOPE-9", offer="NOPE"))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Order.objects.count() == 0


def test_deep_links_preselect_the_plan_datacentre_and_image(personas, shop, client):
    client.force_login(personas.member)
    url = f"/orders/new/?offer={shop.gpu.code}&datacentre={shop.dc.code}&image={shop.image.slug}"
    html = client.get(url).content.decode()
    assert "checked" in _radio(html, "family", shop.gpu.family.slug)
    assert "checked" in _radio(html, "offer", shop.gpu.code)
    assert "checked" in _radio(html, "datacentre", shop.dc.code)
    assert "checked" in _radio(html, "image", shop.image.slug)
    assert 'id="summary-plan">GPU-TEST<' in html and "€80.00" in html


def test_gpu_plans_offer_the_cuda_stacks_built_on_the_image(personas, shop, client):
    stack = GpuSoftwareStackFactory(base_image=shop.image, slug="ubuntu-cuda-12", name="Ubuntu + CUDA 12.4")
    stack.cuda_version = "12.4"
    stack.save()
    TemplateFactory(cluster=shop.fleet["cluster"], os_image=shop.image, gpu_ready=True, gpu_stack=stack)
    client.force_login(personas.member)
    html = client.get(
        f"/orders/new/?offer={shop.gpu.code}&datacentre={shop.dc.code}&image={shop.image.slug}"
    ).content.decode()
    assert "disabled" not in _radio(html, "gpu_stack", stack.slug) and "CUDA 12.4" in html
    response = client.post(
        "/orders/new/",
        _post(personas, shop, family=shop.gpu.family.slug, offer=shop.gpu.code, name="gpu", gpu_stack=stack.slug),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Order.objects.get().gpu_stack == stack


def test_several_servers_are_several_orders_with_numbered_names_once(personas, shop, client):
    client.force_login(personas.member)
    response = client.post("/orders/new/", _post(personas, shop, quantity="3"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert sorted(Order.objects.values_list("name", flat=True)) == ["web-1", "web-2", "web-3"]
    # The same form submitted again (a double click) places nothing more.
    client.post("/orders/new/", _post(personas, shop, quantity="3"))
    assert Order.objects.count() == 3


def test_quantity_is_bounded(personas, shop, client):
    client.force_login(personas.member)
    response = client.post("/orders/new/", _post(personas, shop, quantity="11"))
    assert response.status_code == 200 and 'class="field-error"' in response.content.decode()
    response = client.post("/orders/new/", _post(personas, shop, quantity="x"))
    assert response.status_code == 200 and Order.objects.count() == 0


def test_an_ssh_key_added_inline_is_saved_and_put_on_the_server(personas, shop, client):
    client.force_login(personas.member)
    response = client.post("/orders/new/", _post(personas, shop, new_ssh_key_name="laptop", new_ssh_key=KEY))
    assert response.status_code == 302, response.content.decode()[:3000]
    key = SshKey.objects.get(organisation=personas.org, name="laptop")
    assert str(key.public_id) in [str(k) for k in Order.objects.get().ssh_key_ids]


def test_a_bad_inline_ssh_key_is_a_field_error_and_nothing_is_created(personas, shop, client):
    client.force_login(personas.member)
    response = client.post("/orders/new/", _post(personas, shop, new_ssh_key_name="laptop", new_ssh_key="nope"))
    assert response.status_code == 200 and 'class="field-error"' in response.content.decode()
    assert Order.objects.count() == 0 and not SshKey.objects.filter(name="laptop").exists()


def test_a_managed_service_is_ordered_through_its_family(personas, shop, client):
    client.force_login(personas.member)
    html = client.get(f"/orders/new/?family={shop.service.family.slug}").content.decode()
    assert 'name="image"' not in html and 'name="quantity"' not in html
    data = _post(personas, shop, family=shop.service.family.slug, offer=shop.service.code, name="shop")
    data.update({"service_domain": "shop.example.com", "service_runtime": "php:8.3", "image": ""})
    response = client.post("/orders/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Order.objects.get().offer == shop.service


def test_the_page_has_a_constant_query_count_in_offers_and_keys(personas, shop, client):
    client.force_login(personas.member)
    url = f"/orders/new/?offer={shop.vps.code}&datacentre={shop.dc.code}&image={shop.image.slug}"
    client.get(url)  # warm the session and caches

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(6):
        OfferFactory(family=shop.vps.family, code=f"VPS-X{i}", datacentres=[shop.dc])
        SshKey.objects.create(
            organisation=personas.org, name=f"key-{i}", public_key=f"{KEY[:-12]}{i}", fingerprint=f"SHA256:{i}"
        )
    other = FamilyFactory(slug="paas", name="PaaS", kind=FamilyKind.MANAGED_SERVICE)
    OfferFactory(family=other, code="PAAS-X", vcpu=None, ram_gb=None, disk_gb=None, datacentres=[shop.dc])
    assert count() == before


def test_the_pricing_page_links_each_plan_to_the_create_flow(shop, client):
    html = client.get("/pricing/").content.decode()
    assert f'href="/orders/new/?offer={shop.vps.code}"' in html
    assert f'href="/orders/new/?offer={shop.gpu.code}"' in html


def test_the_order_page_names_the_plan_once(personas, shop, client):
    client.force_login(personas.member)
    client.post("/orders/new/", _post(personas, shop))
    html = client.get(f"/orders/{Order.objects.get().public_id}/").content.decode()
    assert "VPS-TEST — VPS-TEST" not in html and "VPS-TEST" in html


def test_plan_cards_and_the_summary_show_prices_with_the_organisations_vat(personas, shop, client):
    VatRate.objects.update_or_create(country=personas.org.country or "EE", defaults={"rate": Decimal("20.00")})
    client.force_login(personas.member)
    html = client.get(f"/orders/new/?offer={shop.vps.code}&quantity=2").content.decode()
    # 9.99 + 20 % = 11.99 a month; 0.0137 + 20 % = 0.01644 an hour; two servers in the summary.
    assert re.search(r'data-price="monthly-vat">€11.99<', html)
    assert re.search(r'data-price="hourly-vat">€0.016440<', html)  # money pads rates to 2, 4 or 6 decimals
    assert 'id="summary-monthly-vat">€23.98<' in html and 'id="summary-monthly">€19.98<' in html


def test_a_plan_of_another_product_than_the_chosen_one_is_a_form_error(personas, shop, client):
    client.force_login(personas.member)
    response = client.post("/orders/new/", _post(personas, shop, offer=shop.service.code))
    assert response.status_code == 200 and "Choose a plan of the chosen product." in response.content.decode()
    assert Order.objects.count() == 0


def test_several_servers_are_placed_all_or_none(personas, shop, client, monkeypatch):
    real = services.order_place
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 2:
            raise Unavailable("No capacity left for this offer here right now.", code="no_capacity")
        return real(**kwargs)

    monkeypatch.setattr(services, "order_place", second_fails)
    client.force_login(personas.member)
    response = client.post("/orders/new/", _post(personas, shop, quantity="3"))
    assert response.status_code == 200 and "No capacity left" in response.content.decode()
    assert calls == ["web-1", "web-2"] and Order.objects.count() == 0  # web-1 rolled back with the rest
