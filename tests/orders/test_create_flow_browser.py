"""Browser: the order create flow clicked through for a VPS (several at once), a GPU server with a CUDA
image, a managed service, and without JavaScript; disabled choices say why; deep links and the pricing
page's Order buttons preselect; axe-core finds no serious violation, light and dark."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.billing.models import VatRate
from apps.billing.services import vat_rates_seed
from apps.catalogue.choices import DatacentreStatus
from apps.catalogue.models import DatacentreGpuModel, Offer
from apps.instances.services import access as instance_services
from apps.orders.models import Order
from tests.accessibility import axe_report, axe_violations
from tests.catalogue.factories import GpuSoftwareStackFactory
from tests.infrastructure.factories import DatacentreFactory, TemplateFactory
from tests.orders.wizard import wizard_choose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/ordering-shots")


@pytest.fixture(autouse=True)
def _no_provisioning(monkeypatch):
    # Provisioning itself (Celery, Proxmox) is tested with apps.instances; here the task is not sent.
    monkeypatch.setattr(instance_services, "task_enqueue", lambda name, *args: None)


@pytest.fixture
def cuda(shop):
    """A CUDA stack on the shop's image, with the GPU template that builds it in PAR-1."""
    stack = GpuSoftwareStackFactory(
        base_image=shop.image,
        slug="ubuntu-24.04-cuda-12",
        name="Ubuntu 24.04 + CUDA 12.4",
        cuda_version="12.4",
        cudnn_version="9.1",
        tensorrt_version="10.0",
        frameworks=["PyTorch", "JAX"],
    )
    TemplateFactory(cluster=shop.fleet["cluster"], os_image=shop.image, gpu_ready=True, gpu_stack=stack)
    return stack


@pytest.fixture
def fra(shop):
    dc = DatacentreFactory(code="FRA-1", city="Frankfurt", country="DE", status=DatacentreStatus.MAINTENANCE)
    shop.vps.datacentres.add(dc)
    return dc


def test_a_member_creates_two_vps_at_once(personas, shop, login_page, fra):
    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=shop.vps.code, datacentre=shop.dc.code, image=shop.image.slug)
    # FRA-1 is in maintenance: disabled, with the reason on its card.
    assert page.locator("#datacentre-FRA-1").is_disabled()
    assert page.locator("#datacentre-FRA-1-reason").inner_text() == "Maintenance"
    page.fill("#id_name", "web")
    page.fill("#id_quantity", "2")
    page.locator("#id_quantity").dispatch_event("change")
    page.wait_for_selector("#summary-quantity:has-text('2')")
    assert page.locator("#summary-monthly").inner_text() == "€19.98"
    assert page.input_value("#id_name") == "web"  # kept across the refresh
    page.click("#place-order")
    page.wait_for_url(re.compile(r".*/orders/$"))
    assert sorted(Order.objects.values_list("name", flat=True)) == ["web-1", "web-2"]


def test_a_member_creates_a_gpu_server_with_a_cuda_image(personas, shop, login_page, cuda):
    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=shop.gpu.code, datacentre=shop.dc.code, image=shop.image.slug, gpu_stack=cuda.slug)
    assert "CUDA 12.4" in page.locator("#step-gpu-stack").inner_text()
    assert "Ubuntu 24.04 + CUDA 12.4" in page.locator("#summary-image").inner_text()
    page.fill("#id_name", "gpu-1")
    page.click("#place-order")
    page.wait_for_url(re.compile(r".*/orders/[0-9a-f-]{36}/$"))
    order = Order.objects.get()
    assert (order.offer, order.gpu_stack, order.name) == (shop.gpu, cuda, "gpu-1")


def test_a_member_orders_a_managed_service(personas, shop, login_page):
    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=shop.service.code, datacentre=shop.dc.code)
    assert page.locator('input[name="image"], #id_quantity').count() == 0
    page.fill("#id_name", "shop")
    page.fill("#id_service_domain", "shop.example.com")
    page.click("#place-order")
    page.wait_for_url(re.compile(r".*/orders/[0-9a-f-]{36}/$"))
    assert Order.objects.get().offer == shop.service


def test_the_flow_works_without_javascript(personas, shop, browser, live_server, client):
    client.force_login(personas.member)
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=False)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto("/orders/new/")
        page.check(f"#family-{shop.vps.family.slug}")
        page.click("#refresh-choices")
        page.check(f"#datacentre-{shop.dc.code}")
        page.click("#refresh-choices")
        page.check(f'input[name="image"][value="{shop.image.slug}"]')
        page.check(f"#offer-{shop.vps.code}")
        page.fill("#id_name", "nojs")
        page.click("#refresh-choices")
        # The refresh is a GET that re-renders the flow with what was chosen and typed.
        assert page.locator(f"#offer-{shop.vps.code}").is_checked()
        assert page.input_value("#id_name") == "nojs"
        assert page.locator("#summary-monthly").inner_text() == "€9.99"
        page.click("#place-order")
        page.wait_for_url(re.compile(r".*/orders/[0-9a-f-]{36}/$"))
        assert Order.objects.get().name == "nojs"
    finally:
        context.close()


def test_deep_links_and_the_pricing_order_button_preselect(personas, shop, login_page):
    page = login_page(personas.member)
    page.goto(f"/orders/new/?offer={shop.gpu.code}&datacentre={shop.dc.code}&image={shop.image.slug}")
    assert page.locator(f"#offer-{shop.gpu.code}").is_checked()
    assert page.locator(f"#datacentre-{shop.dc.code}").is_checked()
    assert page.locator(f'input[name="image"][value="{shop.image.slug}"]').is_checked()
    page.goto("/pricing/")
    page.click(f'a.order-link[href$="offer={shop.vps.code}"]')
    page.wait_for_url(re.compile(rf".*/orders/new/\?offer={shop.vps.code}$"))
    assert page.locator(f"#offer-{shop.vps.code}").is_checked()
    assert page.locator(f"#family-{shop.vps.family.slug}").is_checked()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_flow_has_no_serious_accessibility_violation(personas, shop, login_page, fra, cuda, theme):
    # Prices with the organisation's VAT and the datacentre's GPU models, as a real catalogue shows them.
    VatRate.objects.get_or_create(country=personas.org.country or "EE", defaults={"rate": Decimal("20.00")})
    DatacentreGpuModel.objects.get_or_create(datacentre=shop.dc, gpu_model=shop.gpu.gpu_model)
    page = login_page(personas.member)
    page.add_init_script(f"window.localStorage.setItem('vmcloud-theme', '{theme}')")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/orders/new/?offer={shop.gpu.code}&datacentre={shop.dc.code}&image={shop.image.slug}")
    violations = axe_violations(page)
    assert not violations, axe_report(violations, label=f"/orders/new/ ({theme})")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"ordering-{theme}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"docs-ordering-{theme}.png"))  # the first screen, for the docs page
    page.goto(f"/orders/new/?offer={shop.vps.code}")
    violations = axe_violations(page)
    assert not violations, axe_report(violations, label=f"/orders/new/?offer=VPS ({theme})")
    page.screenshot(path=str(SHOTS / f"ordering-vps-{theme}.png"), full_page=True)
    # A phone: one column, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/orders/new/?offer={shop.vps.code}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / f"ordering-phone-{theme}.png"), full_page=True)


def test_the_cards_are_keyboard_radios_and_keep_the_focus_across_a_refresh(personas, shop, login_page):
    page = login_page(personas.member)
    page.goto(f"/orders/new/?family={shop.vps.family.slug}")
    page.focus(f"#family-{shop.vps.family.slug}")
    # Arrow keys move within the radio group (and choose); htmx redraws the flow, the focus stays on the card.
    page.keyboard.press("ArrowLeft")
    other = page.evaluate("document.activeElement.value")
    assert other != shop.vps.family.slug
    page.wait_for_selector(f'#order-flow[data-key^="{other}|"]')
    assert page.evaluate("document.activeElement.id") == f"family-{other}"
    assert page.locator(f"#family-{other}").is_checked()


@pytest.mark.slow
def test_the_demo_catalogue_in_the_create_flow(login_page):
    """`make run`'s demo data (the real catalogue and fleet): every family, CUDA stacks, VAT; the docs' screenshots."""
    call_command("demo_setup", verbosity=0)
    vat_rates_seed()  # a data migration's rows, flushed between transactional tests
    page = login_page(User.objects.get(email="demo@vmcloud.test"))
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto("/orders/new/")
    families = page.eval_on_selector_all('input[name="family"]', "els => els.map(e => e.value)")
    assert {"vps", "gpu", "web-hosting", "paas", "load-balancer", "cdn"} <= set(families)
    assert "storage" not in families  # block storage is sold as volumes
    gpu = Offer.objects.filter(family__slug="gpu").order_by("position").first()
    page.goto(f"/orders/new/?offer={gpu.code}")
    wizard_choose(
        page, offer=gpu.code, datacentre=page.locator('input[name="datacentre"]:checked').get_attribute("value")
    )
    page.locator('input[name="image"]:not([disabled])').first.check()
    page.wait_for_selector('#step-gpu-stack input[name="gpu_stack"]')
    stacks = page.locator('#step-gpu-stack input[name="gpu_stack"]:not([disabled])')
    stacks.last.check()
    page.wait_for_selector('#summary-image:has-text("CUDA")')
    assert page.locator("#summary-monthly-vat").count() == 1
    violations = axe_violations(page)
    assert not violations, axe_report(violations, label="/orders/new/ (demo catalogue)")
    SHOTS.mkdir(exist_ok=True)
    for theme in ("light", "dark"):
        page.evaluate(f"document.documentElement.setAttribute('data-theme', '{theme}'); window.scrollTo(0, 0)")
        page.wait_for_timeout(400)  # the theme's colour transitions end before the picture
        page.screenshot(path=str(SHOTS / f"demo-ordering-{theme}.png"))
        page.screenshot(path=str(SHOTS / f"demo-ordering-full-{theme}.png"), full_page=True)
