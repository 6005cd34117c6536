"""Browser: a member orders one service of each family through the order form (PaaS, CDN, load balancer and web
hosting, each asking only for its own fields), staff deliver the staff-backed ones in the back office's delivery
form (the load balancer has its own automated backend and never reaches that queue), the member sees each
delivered service's page with its endpoints, and cancels each with its typed name: billing stops then."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import formats, timezone, translation

from apps.billing.models import VatRate
from apps.billing.services.metering import hour_floor, meter_hour
from apps.catalogue.choices import FamilyKind
from apps.catalogue.services import seed_data as seed
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService, ServicePricePeriod
from tests.infrastructure.factories import FamilyFactory, OfferFactory
from tests.orders.wizard import wizard_choose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def families(shop):
    """One tier of each other family, with the seed's limits, sold in the shop's datacentre."""
    web = shop.service.family
    web.features = next(f for f in seed.FAMILIES if f["slug"] == "web-hosting")["features"]
    web.save(update_fields=["features"])

    def offer(slug: str, code: str, **specs):
        family = FamilyFactory(slug=slug, name=slug.upper(), kind=FamilyKind.MANAGED_SERVICE)
        return OfferFactory(
            family=family,
            code=code,
            vcpu=None,
            ram_gb=None,
            disk_gb=None,
            price_monthly=Decimal("59.00"),
            price_hourly=Decimal("0.0808"),
            datacentres=[shop.dc],
            **specs,
        )

    return {
        "paas": offer("paas", "PAAS-BUSINESS", paas_containers=5, paas_ram_per_container_gb=4),
        "cdn": offer("cdn", "CDN-PRO", cdn_pops=25, cdn_waf="basic", cdn_traffic_tb=10),
        "lb": offer("load-balancer", "LB-BUSINESS", lb_backends=20, lb_protocols=["HTTP", "HTTPS", "TCP", "UDP"]),
    }


def _order(page, offer_code: str, name: str, fill) -> None:
    page.goto("/orders/new/")
    wizard_choose(page, offer=offer_code, datacentre="PAR-1")
    page.wait_for_selector("#service-fields")
    assert page.locator("#id_ssh_keys, #id_user_data, #id_image").count() == 0
    page.fill("#id_name", name)
    fill(page)
    page.click("#place-order")
    page.wait_for_url(re.compile(r".*/orders/[0-9a-f-]{36}/$"))


def test_one_service_of_each_family_ordered_delivered_and_cancelled(
    personas, shop, families, login_page, browser, live_server
):
    page = login_page(personas.member)

    _order(
        page,
        "PAAS-BUSINESS",
        "api",
        lambda p: (
            p.check("input[name=service_source_kind][value=image]"),
            p.fill("#id_service_image", "ghcr.io/acme/api:2.1"),
            p.fill("#id_service_env", "DATABASE_URL=postgres://app:pw@db/app"),
            p.fill("#id_service_containers", "3"),
        ),
    )
    _order(
        page,
        "CDN-PRO",
        "cdn",
        lambda p: (
            p.fill("#id_service_origin_url", "https://origin.example.com"),
            p.fill("#id_service_hostnames", "cdn.example.com"),
            p.fill("#id_service_cache_rules", "/static/* 86400"),
        ),
    )
    _order(
        page,
        "LB-BUSINESS",
        "front",
        lambda p: (
            p.fill("#id_service_rules", "HTTPS 443 HTTP 8080\nTCP 5432 TCP 5432"),
            p.fill("#id_service_targets", "role=web"),
        ),
    )
    _order(page, shop.service.code, "site", lambda p: p.fill("#id_service_domain", "site.example.com"))

    services = {s.name: s for s in ManagedService.objects.all()}
    assert set(services) == {"api", "cdn", "front", "site"}
    assert {s.state for s in services.values()} == {ServiceState.PROVISIONING}
    assert services["api"].config["source"] == {"kind": "image", "image": "ghcr.io/acme/api:2.1"}
    assert services["cdn"].config["waf"] == "basic"
    assert services["front"].config["rules"][1] == {
        "protocol": "TCP",
        "port": 5432,
        "target_protocol": "TCP",
        "target_port": 5432,
    }

    # Staff deliver each in the back office, in their own browser.
    staff_client = Client()  # its own session: the member's browser keeps theirs
    staff_client.force_login(personas.staff)
    staff_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    staff_context.set_default_timeout(30_000)
    staff_context.add_cookies(
        [{"name": "sessionid", "value": staff_client.cookies["sessionid"].value, "url": live_server.url}]
    )
    staff = staff_context.new_page()
    staff_backed = {name: s for name, s in services.items() if name != "front"}
    try:
        # The load balancer is built by the platform (apps.loadbalancers): not in the staff queue.
        response = staff.goto(f"/admin/managed/fulfilmentqueueservice/{services['front'].pk}/deliver/")
        assert response is not None and response.status == 404
        for name, service in staff_backed.items():
            staff.goto(f"/admin/managed/fulfilmentqueueservice/{service.pk}/deliver/")
            staff.fill("#id_urls", f"https://{name}.delivered.example")
            staff.fill("#id_notes", f"{name} is live.")
            staff.click("input[type=submit], button[type=submit] >> nth=-1")
            staff.wait_for_url(re.compile(r".*/admin/managed/fulfilmentqueueservice/$"))
    finally:
        staff_context.close()

    for name, service in staff_backed.items():
        service.refresh_from_db()
        assert service.state == ServiceState.ACTIVE, name
        page.goto(f"/services/{service.public_id}/")
        assert page.locator(f'[data-endpoint="https://{name}.delivered.example"]').is_visible()
        assert f"{name} is live." in page.locator("#delivery-notes").inner_text()

    # The member cancels each with its typed name; billing stops at that moment.
    for name, service in services.items():
        page.goto(f"/services/{service.public_id}/")
        page.fill("#id_confirm", name)
        before = timezone.now()
        page.click("#cancel-service-submit")
        page.wait_for_selector("#service-state[data-state=cancelled]")
        if name not in staff_backed:
            # Never delivered (no load-balancer VM can be built in this shop): never billed.
            assert not ServicePricePeriod.objects.filter(service=service).exists()
            continue
        period = ServicePricePeriod.objects.get(service=service)
        assert period.ended_at is not None and before <= period.ended_at <= timezone.now()
    page.goto("/services/")
    assert page.locator("tr[data-state=cancelled]").count() == 4

    # The hourly meter runs (as the beat does once each hour closes): the costs page shows each delivered service
    # billed up to the hour it ended and no longer billed; the never-delivered load balancer is not there.
    ended = {name: ManagedService.objects.get(pk=s.pk).ended_at for name, s in staff_backed.items()}
    for hour in sorted({hour_floor(at) for at in ended.values() if at is not None}):
        meter_hour(hour=hour)
    # Estonia's rate: an organisation without a country is taxed as a domestic supply (apps/billing/rules/vat.py).
    VatRate.objects.get_or_create(country="EE", defaults={"rate": Decimal("22.00")})
    page = login_page(personas.billing)  # costs need billing.read: the member has none
    page.goto("/billing/")
    page.screenshot(path="/tmp/lb-costs-stopped.png", full_page=True)
    table = page.locator("#costs-resources")
    for name, at in ended.items():
        assert at is not None
        row = table.locator("tr", has_text=name).filter(has=page.locator("[data-billing-stopped]")).first
        stopped = row.locator("[data-billing-stopped]")
        assert "no longer billed" in stopped.inner_text() and "last billed hour" in stopped.inner_text(), name
        shown = datetime.fromisoformat(stopped.get_attribute("data-billing-stopped") or "")
        assert shown == hour_floor(at), (name, shown, at)
        # The hour as the customer reads it (the page's language is the default: English).
        with translation.override("en"):
            text = formats.date_format(timezone.localtime(hour_floor(at)), "SHORT_DATETIME_FORMAT")
        assert f"last billed hour: {text}" in stopped.inner_text(), (stopped.inner_text(), text)
    assert table.locator("tr", has_text="front").count() == 0
