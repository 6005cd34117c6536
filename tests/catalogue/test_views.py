"""Public pricing page and comparison view (Django test client)."""

from __future__ import annotations

import re

import pytest

from apps.catalogue.models import Offer

pytestmark = pytest.mark.django_db


def offer_codes(html: str) -> list[str]:
    return re.findall(r'<tr class="offer-row" data-offer-code="([A-Z0-9-]+)"', html)


def test_pricing_page_lists_all_36_offers_without_login(client, catalogue):
    response = client.get("/pricing/")
    assert response.status_code == 200
    html = response.content.decode()
    codes = offer_codes(html)
    assert len(codes) == 36
    assert set(codes) == set(Offer.objects.values_list("code", flat=True))
    # Grouped by family, in sections the home page links to.
    for slug in ("vps", "gpu", "web-hosting", "paas", "load-balancer", "storage", "cdn"):
        assert f'id="{slug}"' in html


def test_pricing_page_shows_hourly_and_monthly_prices_and_unlimited_as_text(client, catalogue):
    html = client.get("/pricing/").content.decode()
    nano = re.search(r'data-offer-code="VPS-NANO">(.*?)</tr>', html, re.S).group(1)
    assert "€0.0397" in nano and "€29.00" in nano
    quantum = re.search(r'data-offer-code="VPS-QUANTUM">(.*?)</tr>', html, re.S).group(1)
    assert "Unlimited" in quantum and "5 TB NVMe" in quantum
    web = re.search(r'data-offer-code="WEB-ENTERPRISE">(.*?)</tr>', html, re.S).group(1)
    assert web.count("Unlimited") == 4
    assert "€18,559.00" in html and "€33.60" in html
    assert "1M+" in html and "500K+" in html and "150+" in html and "1 PB" in html


def test_pricing_page_filters_by_gpu_model(client, catalogue):
    html = client.get("/pricing/", {"gpu": "a100-40gb"}).content.decode()
    assert offer_codes(html) == ["GPU-ENTERPRISE", "GPU-QUANTUM", "GPU-CLUSTER"]


def test_pricing_page_filters_by_datacentre(client, catalogue):
    codes = offer_codes(client.get("/pricing/", {"datacentre": "AMS-1"}).content.decode())
    assert len(codes) == 28 and not any(c.startswith("GPU-") for c in codes)
    html = client.get("/pricing/", {"datacentre": "FRA-1"}).content.decode()
    assert offer_codes(html) == []
    assert "No offer matches these filters." in html


def test_unknown_filter_value_is_a_form_error_not_a_crash(client, catalogue):
    response = client.get("/pricing/", {"datacentre": "NOPE"})
    assert response.status_code == 200
    assert "field-error" in response.content.decode()
    assert len(offer_codes(response.content.decode())) == 36


def test_retired_offers_leave_the_pricing_page(client, catalogue):
    Offer.objects.filter(code="VPS-NANO").update(status="retired")
    assert "VPS-NANO" not in offer_codes(client.get("/pricing/").content.decode())


def test_compare_shows_offers_side_by_side(client, catalogue):
    response = client.get("/pricing/compare/", {"offers": "VPS-NANO,GPU-PRO,WEB-ENTERPRISE"})
    assert response.status_code == 200
    html = response.content.decode()
    headers = re.findall(r'<th scope="col" data-offer-code="([A-Z0-9-]+)"', html)
    assert headers == ["VPS-NANO", "GPU-PRO", "WEB-ENTERPRISE"]
    assert "1× GeForce RTX 4090" in html and "AMD EPYC 7003" in html
    assert "€29.00 /month" in html and "€1.50 /hour" in html


def test_compare_accepts_repeated_parameters_as_sent_without_javascript(client, catalogue):
    response = client.get("/pricing/compare/?offers=LB-STARTER&offers=LB-GLOBAL")
    assert re.findall(r'data-offer-code="([A-Z0-9-]+)"', response.content.decode()) == ["LB-STARTER", "LB-GLOBAL"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("offers=VPS-NANO,VPS-STARTER,VPS-ELITE,GPU-PRO,CDN-PRO", "up to 4 offers"),
        ("offers=VPS-NANO", "at least two"),
        ("offers=VPS-NANO,NOPE", "Unknown offer: NOPE"),
    ],
)
def test_compare_refuses_bad_selections_with_a_message(client, catalogue, query, message):
    response = client.get(f"/pricing/compare/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "compare-table" not in html


def test_pricing_page_query_count_does_not_grow_with_offers(client, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        client.get("/pricing/")
