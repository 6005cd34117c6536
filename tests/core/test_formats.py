"""French formats (issue 11, item 14): money, numbers and dates through Django's localisation, one helper
(apps.core.formats, and the ``money`` / ``money_per`` filters), on the pages where prices show."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from apps.core import formats

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("en", "1599", "€1,599.00"),
        ("en", "0.0671", "€0.0671"),
        ("en", "0.000137", "€0.000137"),
        ("fr", "1599", f"1{NBSP}599,00{NBSP}€"),
        ("fr", "29", f"29,00{NBSP}€"),
        ("fr", "0.067100", f"0,0671{NBSP}€"),
        ("fr", "0", f"0,00{NBSP}€"),
    ],
)
def test_money_in_each_language(language, value, expected):
    with translation.override(language):
        assert formats.money(Decimal(value)) == expected


def test_money_per_unit_number_and_date_in_french():
    with translation.override("fr"):
        assert formats.money_per(Decimal("0.0671"), "h") == f"0,0671{NBSP}€/h"
        assert formats.number(Decimal("1280.5")) == f"1{NBSP}280,5"
        assert formats.localdate(date(2026, 12, 6)) == "6 décembre 2026"
    with translation.override("en"):
        assert formats.money_per(Decimal("29"), "month") == "€29.00/month"


def test_template_filters_are_the_same_helper():
    template = Template('{% load core_formats %}{{ v|money }} {{ v|money_per:"h" }}')
    with translation.override("fr"):
        assert template.render(Context({"v": Decimal("0.0671")})) == f"0,0671{NBSP}€ 0,0671{NBSP}€/h"


@pytest.mark.django_db
def test_a_french_pricing_page_shows_french_prices(client):
    from apps.catalogue.services import catalogue_load_seed

    catalogue_load_seed(actor=None)
    html = client.get("/pricing/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"29,00{NBSP}€" in html  # VPS-NANO per month
    assert f"0,0397{NBSP}€" in html  # its hourly price, 29 / 730
    assert "€29.00" not in html
    html = client.get("/pricing/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "€29.00" in html


@pytest.mark.django_db
def test_the_order_quote_in_french(client, personas, shop):
    client.force_login(personas.member)
    query = {"offer": shop.vps.code, "datacentre": shop.dc.code, "image": shop.image.slug}
    html = client.get("/orders/new/", query, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"9,99{NBSP}€" in html and f"0,0137{NBSP}€" in html
