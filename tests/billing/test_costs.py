"""Costs: month-to-date from the ledger (caps applied), forecast to month end, per project/resource/day, faces."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.billing.choices import ResourceType
from apps.billing.models import VatRate
from apps.billing.selectors import costs
from apps.billing.selectors.vat import vat_rate_for
from apps.teams.services import project_create
from tests.billing.fixtures_costs import JAN_1, NOW, costs_world, instance_row, usage  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(costs_world):  # noqa: F811
    """web-1: running since Jan 1 at 0.05 €/h, cap 29 €; old-1: deleted after 10 hours at 0.10 €/h (other project)."""
    w = costs_world
    web = instance_row(organisation=w.org, project=w.project, name="web-1")
    usage(
        organisation=w.org, project=w.project, resource_id=web.public_id, name="web-1", start=JAN_1, hours=346,
        unit_price="0.05", cap="29.00",
    )  # fmt: skip
    other_project = project_create(organisation=w.org, name="Research", actor=None)
    old_id = uuid.uuid4()
    usage(
        organisation=w.org, project=other_project, resource_id=old_id, name="old-1", start=JAN_1 + timedelta(days=2),
        hours=10, unit_price="0.10", cap="50.00",
    )  # fmt: skip
    return {"web": web, "old_id": old_id, "research": other_project}


def test_month_to_date_and_forecast_apply_the_monthly_cap(costs_world, ledger):  # noqa: F811
    summary = costs.cost_summary(organisation=costs_world.org, now=NOW)
    # 346 h × 0.05 = 17.30 and 10 h × 0.10 = 1.00
    assert summary.month_to_date == Decimal("18.30")
    web = next(r for r in summary.resources if r.name == "web-1")
    assert web.remaining_hours == 398  # from 10:00 on the 15th to February 1st
    assert web.month_to_date == Decimal("17.30")
    # 17.30 + 398 × 0.05 = 37.20, capped at 29.00
    assert web.forecast == Decimal("29.00")
    old = next(r for r in summary.resources if r.name == "old-1")
    assert (old.billable_now, old.forecast) == (False, Decimal("1.00"))
    assert summary.forecast == Decimal("30.00")
    rate = vat_rate_for("EE")
    assert summary.vat.rate == rate
    assert summary.forecast_vat == (Decimal("30.00") * rate / 100).quantize(Decimal("0.01"))
    assert summary.forecast_incl_vat == summary.forecast + summary.forecast_vat
    by_project = {p.name: (p.month_to_date, p.forecast) for p in summary.projects}
    assert by_project == {
        costs_world.project.name: (Decimal("17.30"), Decimal("29.00")),
        "Research": (Decimal("1.00"), Decimal("1.00")),
    }


def test_daily_spend_adds_up_to_month_to_date(costs_world, ledger):  # noqa: F811
    summary = costs.cost_summary(organisation=costs_world.org, now=NOW)
    assert len(summary.days) == 31
    assert summary.days[0] == costs.DaySpend(date(2026, 1, 1), Decimal("1.20"))
    assert summary.days[2].amount == Decimal("2.20")  # 24 × 0.05 + 10 × 0.10
    assert sum(d.amount for d in summary.days) == summary.month_to_date


def test_daily_spend_stops_at_the_cap(costs_world):  # noqa: F811
    w = costs_world
    rid = uuid.uuid4()
    usage(
        organisation=w.org, project=w.project, resource_id=rid, name="gpu", start=JAN_1, hours=48, unit_price="1.00",
        cap="30.00",
    )  # fmt: skip
    summary = costs.cost_summary(organisation=w.org, now=NOW)
    assert summary.month_to_date == Decimal("30.00")
    assert [d.amount for d in summary.days[:3]] == [Decimal("24.00"), Decimal("6.00"), Decimal("0.00")]


def test_forecast_does_not_count_an_hour_already_metered(costs_world):  # noqa: F811
    w = costs_world
    web = instance_row(organisation=w.org, project=w.project, name="web-2", price_monthly="1000.00")
    # The ledger already holds the current hour (10:00 on the 15th).
    usage(
        organisation=w.org, project=w.project, resource_id=web.public_id, name="web-2", start=JAN_1, hours=347,
        unit_price="0.05", cap="1000.00",
    )  # fmt: skip
    resource = costs.cost_summary(organisation=w.org, now=NOW).resources[0]
    assert resource.remaining_hours == 397
    assert resource.forecast == Decimal("37.20")  # 744 h × 0.05


def test_snapshots_and_services_are_forecast(costs_world, settings):  # noqa: F811
    from apps.instances.models import Snapshot
    from tests.infrastructure.factories import FamilyFactory, OfferFactory
    from tests.managed.factories import service_billed

    w = costs_world
    settings.BILLING_SNAPSHOT_OFFER_CODE = "STORAGE-COSTS"
    OfferFactory(
        code="STORAGE-COSTS", family=FamilyFactory(slug="storage", name="Storage"), price_hourly=Decimal("0.0001"),
        price_monthly=Decimal("0.05"),
    )  # fmt: skip
    web = instance_row(organisation=w.org, project=w.project, name="web-3", billed_from=None, status="stopped")
    Snapshot.objects.create(instance=web, name="s1", proxmox_name="s1", size_gb=100, status="ready")
    svc_offer = OfferFactory(code="SVC-COSTS", price_hourly=Decimal("0.01"), price_monthly=Decimal("5.00"))
    service_billed(
        organisation=w.org, project=w.project, offer=svc_offer, name="site",
        price_hourly=Decimal("0.01"), price_monthly=Decimal("5.00"), started_at=NOW,
    )  # fmt: skip
    summary = costs.cost_summary(organisation=w.org, now=NOW)
    forecasts = {r.resource_type: r.forecast for r in summary.resources}
    assert forecasts[ResourceType.SNAPSHOT] == Decimal("3.98")  # 398 h × 100 GB × 0.0001 (cap 5.00)
    assert forecasts[ResourceType.SERVICE] == Decimal("3.98")  # 398 h × 0.01 (cap 5.00)


def test_volumes_are_forecast_at_their_price_and_cap_until_deleted(costs_world):  # noqa: F811
    from apps.volumes.models import Volume
    from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory

    w = costs_world
    tier = OfferFactory(code="STORAGE-VOLCOST", family=FamilyFactory(slug="storage-vc", name="Storage"))
    dc = DatacentreFactory(code="VOL-1")
    common = {"organisation": w.org, "project": w.project, "tier": tier, "datacentre": dc, "status": "available"}
    data = Volume.objects.create(
        name="data", size_gb=100, volid="ceph:vm-1-disk-1", price_hourly=Decimal("0.01"), price_monthly="5.00", **common
    )
    Volume.objects.create(
        name="old", size_gb=10, volid="ceph:vm-1-disk-2", price_hourly=Decimal("0.001"), price_monthly="0.50",
        deleted_at=NOW - timedelta(hours=2), **{**common, "status": "deleted"},
    )  # fmt: skip
    Volume.objects.update(created_at=NOW - timedelta(days=3))  # the test's clock, not the machine's
    summary = costs.cost_summary(organisation=w.org, now=NOW)
    (row,) = [r for r in summary.resources if r.resource_type == ResourceType.VOLUME]
    assert (row.resource_id, row.name, row.kind) == (data.public_id, "data", "Block storage volume")
    assert row.billable_now and row.forecast == Decimal("3.98")  # 398 h × 0.01 (cap 5.00)


def test_a_past_month_has_no_forecast(costs_world, ledger):  # noqa: F811
    feb = NOW + timedelta(days=31)
    summary = costs.cost_summary(organisation=costs_world.org, month=date(2026, 1, 1), now=feb)
    assert not summary.is_current
    assert summary.forecast == summary.month_to_date == Decimal("18.30")


def test_project_filter(costs_world, ledger):  # noqa: F811
    summary = costs.cost_summary(organisation=costs_world.org, project=ledger["research"], now=NOW)
    assert (summary.month_to_date, summary.forecast) == (Decimal("1.00"), Decimal("1.00"))


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_costs_for_the_billing_role(costs_world, ledger):  # noqa: F811
    body = _client(costs_world.billing).get("/api/v1/billing/costs/").json()
    assert body["organisation_id"] == costs_world.org.pk
    assert body["is_current"] is True
    assert [r["name"] for r in body["resources"]] == ["web-1"]  # still billable this month
    assert Decimal(body["forecast"]) > 0
    assert len(body["days"]) >= 28
    january = _client(costs_world.billing).get("/api/v1/billing/costs/?month=2026-01").json()
    assert (january["month_to_date"], january["forecast"]) == ("18.30", "18.30")
    assert {r["name"] for r in january["resources"]} == {"web-1", "old-1"}
    research = (
        _client(costs_world.billing).get(f"/api/v1/billing/costs/?project={ledger['research'].pk}&month=2026-01").json()
    )
    assert research["projects"][0]["name"] == "Research"


def test_api_costs_refuses_member_outsider_and_foreign_projects(costs_world, ledger):  # noqa: F811
    w = costs_world
    response = _client(w.member).get("/api/v1/billing/costs/")
    assert response.status_code == 403
    response = _client(w.outsider).get(f"/api/v1/billing/costs/?organisation={w.org.pk}")
    assert response.status_code == 404
    foreign = w.other_org.projects.first()
    response = _client(w.owner).get(f"/api/v1/billing/costs/?organisation={w.org.pk}&project={foreign.pk}")
    assert response.status_code == 400
    assert "project" in response.json()["error"]["fields"]
    response = _client(w.owner).get(f"/api/v1/billing/costs/?organisation={w.org.pk}&month=2999-01")
    assert response.status_code == 400
    assert "month" in response.json()["error"]["fields"]
    assert _client(w.owner).get("/api/v1/billing/costs/?month=2020-13").status_code == 400


def test_api_costs_past_month(costs_world, ledger):  # noqa: F811
    body = _client(costs_world.owner).get(f"/api/v1/billing/costs/?organisation={costs_world.org.slug}&month=2025-06")
    assert body.status_code == 200
    assert body.json()["month_to_date"] == "0.00"


# ---------------------------------------------------------------------------
# Portal
# ---------------------------------------------------------------------------
def test_portal_overview_usage_and_csv(client, costs_world, ledger):  # noqa: F811
    client.force_login(costs_world.billing)
    page = client.get("/billing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-chart="daily-spend"' in html and "web-1" in html
    month = costs.month_start(costs.timezone.now())
    usage_page = client.get(f"/billing/usage/?month={month:%Y-%m}")
    assert usage_page.status_code == 200
    csv_response = client.get("/billing/usage/?month=2026-01&format=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    rows = csv_response.content.decode().splitlines()
    assert rows[0].startswith("project,resource_type")
    assert any("web-1" in row for row in rows[1:])


def test_member_gets_403_on_billing_pages(client, costs_world):  # noqa: F811
    client.force_login(costs_world.member)
    for url in ("/billing/", "/billing/usage/", "/billing/budgets/", "/billing/budgets/new/"):
        assert client.get(url).status_code == 403, url


def test_dashboard_fragment_only_for_billing_readers(client, costs_world, ledger):  # noqa: F811
    client.force_login(costs_world.member)
    assert client.get("/billing/dashboard/fragment/").status_code == 204
    client.force_login(costs_world.billing)
    response = client.get("/billing/dashboard/fragment/")
    assert response.status_code == 200
    assert 'id="dashboard-costs"' in response.content.decode()
    dashboard = client.get("/dashboard/")
    assert "/billing/dashboard/fragment/" in dashboard.content.decode()


def test_a_missing_vat_rate_shows_its_reason_instead_of_a_server_error(client, costs_world):  # noqa: F811
    # A service error no portal view handles (here: staff never configured the
    # buyer country's VAT rate) reaches the user with its status and message.
    VatRate.objects.filter(country="EE").delete()
    client.force_login(costs_world.owner)
    fragment = client.get("/billing/dashboard/fragment/", headers={"HX-Request": "true"})
    assert fragment.status_code == 409
    assert "No VAT rate is configured for EE" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    page = client.get("/billing/")
    assert page.status_code == 409
    assert "No VAT rate is configured for EE" in page.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/billing/costs/", "/api/v1/billing/usage/"])
def test_a_month_of_year_zero_is_a_field_error_not_a_server_error(costs_world, path):  # noqa: F811
    # The fuzzer sent month=0000-01, which the pattern allowed and date() refused (a 500).
    response = _client(costs_world.billing).get(path, {"month": "0000-01"})
    assert response.status_code == 400
    assert "month" in response.json()["error"]["fields"]
    assert _client(costs_world.billing).get(path, {"month": "2026-01"}).status_code == 200
