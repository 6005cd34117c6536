"""Estimates before ordering: hourly and monthly, with the organisation's VAT; API and the wizard fragment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.billing.selectors import estimates
from apps.billing.selectors.vat import vat_rate_for
from apps.billing.services.vat import vat_id_mark_validated
from tests.billing.fixtures_costs import costs_world  # noqa: F401
from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(db):
    par = DatacentreFactory(code="PAR-1")
    DatacentreFactory(code="AMS-1")
    return OfferFactory(
        code="VPS-EST",
        family=FamilyFactory(slug="vps", name="VPS"),
        price_hourly=Decimal("0.0397"),
        price_monthly=Decimal("29.00"),
        datacentres=[par],
    )


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_estimate_for_an_estonian_organisation(costs_world, offer):  # noqa: F811
    estimate = estimates.estimate_build(organisation=costs_world.org, offer=offer, hours=100)
    rate = vat_rate_for("EE")
    assert estimate.vat.treatment == "domestic"
    assert estimate.price_monthly == Decimal("29.00")
    assert estimate.vat_monthly == (Decimal("29.00") * rate / 100).quantize(Decimal("0.01"))
    assert estimate.total_monthly == Decimal("29.00") + estimate.vat_monthly
    assert estimate.vat_hourly == (Decimal("0.0397") * rate / 100).quantize(Decimal("0.000001"))
    assert estimate.hours_cost == Decimal("3.97")
    capped = estimates.estimate_build(organisation=costs_world.org, offer=offer, hours=744)
    assert capped.hours_cost == Decimal("29.00")  # 744 × 0.0397 = 29.54, capped


def test_reverse_charge_and_out_of_scope_have_no_vat(costs_world, offer):  # noqa: F811
    org = costs_world.org
    org.country, org.vat_id = "FR", "FR12345678901"
    org.save(update_fields=["country", "vat_id"])
    vat_id_mark_validated(organisation=org, actor=None)
    estimate = estimates.estimate_build(organisation=org, offer=offer)
    assert (estimate.vat.treatment, estimate.vat_monthly, estimate.total_monthly) == (
        "reverse_charge",
        Decimal("0.00"),
        Decimal("29.00"),
    )
    org.country = "US"
    org.save(update_fields=["country"])
    assert estimates.estimate_build(organisation=org, offer=offer).vat.treatment == "out_of_scope"


def test_api_estimate(costs_world, offer):  # noqa: F811
    client = _client(costs_world.member)  # members order, so they see estimates
    body = client.get("/api/v1/billing/estimate/?offer=VPS-EST&datacentre=PAR-1&hours=10").json()
    assert body["offer"] == "VPS-EST" and body["datacentre"] == "PAR-1"
    assert body["price_monthly"] == "29.00"
    assert body["vat"]["treatment"] == "domestic"
    assert body["hours_cost"] == "0.40"
    assert Decimal(body["total_monthly"]) == Decimal("29.00") + Decimal(body["vat_monthly"])


def test_api_estimate_errors_name_the_field(costs_world, offer):  # noqa: F811
    client = _client(costs_world.owner)
    response = client.get("/api/v1/billing/estimate/?offer=NOPE")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"offer": ["Unknown offer."]}
    response = client.get("/api/v1/billing/estimate/?offer=VPS-EST&datacentre=AMS-1")
    assert response.status_code == 400
    assert "datacentre" in response.json()["error"]["fields"]
    response = client.get("/api/v1/billing/estimate/")
    assert response.status_code == 400
    assert "offer" in response.json()["error"]["fields"]
    response = client.get("/api/v1/billing/estimate/?offer=VPS-EST&hours=0")
    assert response.status_code == 400


def test_api_estimate_anonymous_and_foreign_organisation(costs_world, offer):  # noqa: F811
    assert APIClient().get("/api/v1/billing/estimate/?offer=VPS-EST").status_code in (401, 403)
    response = _client(costs_world.outsider).get(
        f"/api/v1/billing/estimate/?offer=VPS-EST&organisation={costs_world.org.pk}"
    )
    assert response.status_code == 404


def test_wizard_fragment_and_include(client, costs_world, offer):  # noqa: F811
    client.force_login(costs_world.owner)
    html = client.get("/billing/estimate/fragment/?offer=VPS-EST&datacentre=PAR-1").content.decode()
    assert 'id="estimate-monthly-total"' in html
    assert "Estonian VAT" in html
    assert "Unknown offer." in client.get("/billing/estimate/fragment/?offer=NOPE").content.decode()
    # The order create flow's summary shows the same VAT (billing's billing_vat template tags).
    wizard = client.get("/orders/new/?offer=VPS-EST&datacentre=PAR-1").content.decode()
    assert 'id="summary-monthly-vat"' in wizard and "Estonian VAT" in wizard
