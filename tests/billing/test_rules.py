"""The two rule modules every billing area relies on: the monthly cap (rating) and the VAT decision (vat)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from apps.billing.choices import ResourceType, VatTreatment
from apps.billing.models import UsageRecord, VatRate
from apps.billing.rules import rating, vat
from apps.billing.selectors import usage
from apps.billing.selectors.vat import vat_decision_for, vat_rate_for
from apps.billing.services.vat import vat_id_mark_validated
from apps.core.errors import Unavailable, ValidationFailed
from tests.factories import OrganisationFactory, ProjectFactory, organisation_with_owner

pytestmark = pytest.mark.django_db

NOV = datetime(2026, 11, 1, tzinfo=UTC)


def hours(org, project, *, resource_id, first, count, price, cap, name="web-1", code="VPS-S"):
    """``count`` usage rows from ``first`` (an hour offset in November 2026)."""
    UsageRecord.objects.bulk_create(
        UsageRecord(
            organisation=org,
            project=project,
            resource_type=ResourceType.INSTANCE,
            resource_id=resource_id,
            resource_name=name,
            description=code,
            hour=NOV + timedelta(hours=first + i),
            unit_price=Decimal(price),
            amount=Decimal(price),
            monthly_cap=Decimal(cap) if cap is not None else None,
        )
        for i in range(count)
    )


@pytest.fixture
def org_project():
    org = OrganisationFactory()
    return org, ProjectFactory(organisation=org)


def test_hours_times_price_rounded_once_per_line(org_project):
    org, project = org_project
    server = uuid.uuid4()
    hours(org, project, resource_id=server, first=0, count=10, price="0.0123", cap="9.00")
    [line] = usage.rate_month(organisation_id=org.pk, month=date(2026, 11, 1))
    # 10 h × 0.0123 = 0.123 -> 0.12 (half up, once for the line, not per hour)
    assert (line.quantity, line.amount, line.unit) == (Decimal(10), Decimal("0.12"), "h")
    assert line.period_start == NOV and line.period_end == NOV + timedelta(hours=10)


def test_a_full_month_costs_exactly_the_cap(org_project):
    org, project = org_project
    server = uuid.uuid4()
    hours(org, project, resource_id=server, first=0, count=720, price="0.0411", cap="29.00")
    lines = usage.rate_month(organisation_id=org.pk, month=date(2026, 11, 1))
    # 720 × 0.0411 = 29.592 -> 29.59, above the 29.00 cap: a -0.59 cap line.
    assert [line.amount for line in lines] == [Decimal("29.59"), Decimal("-0.59")]
    assert lines[-1].is_cap_adjustment
    assert rating.lines_total(lines) == Decimal("29.00")


def test_a_resize_uses_the_highest_cap_of_the_month(org_project):
    org, project = org_project
    server = uuid.uuid4()
    hours(org, project, resource_id=server, first=0, count=300, price="0.0411", cap="29.00", code="VPS-S")
    hours(org, project, resource_id=server, first=300, count=420, price="0.0822", cap="59.00", code="VPS-M")
    lines = usage.rate_month(organisation_id=org.pk, month=date(2026, 11, 1))
    # 300 × 0.0411 = 12.33 ; 420 × 0.0822 = 34.524 -> 34.52 ; 46.85 is under the higher cap (59.00): no cap line.
    assert [line.amount for line in lines] == [Decimal("12.33"), Decimal("34.52")]
    assert rating.totals_by_resource(lines) == {(ResourceType.INSTANCE, server): Decimal("46.85")}


def test_other_months_and_projects_are_left_out(org_project):
    org, project = org_project
    other_project = ProjectFactory(organisation=org)
    hours(org, project, resource_id=uuid.uuid4(), first=-5, count=5, price="1", cap=None)  # October
    hours(org, other_project, resource_id=uuid.uuid4(), first=0, count=2, price="1", cap=None)
    assert usage.rate_month(organisation_id=org.pk, month=date(2026, 11, 1), project_id=project.pk) == []
    assert rating.totals_by_project(usage.rate_month(organisation_id=org.pk, month=date(2026, 11, 1))) == {
        other_project.pk: Decimal("2.00")
    }


@pytest.mark.parametrize(
    ("country", "vat_id", "validated", "treatment", "rate"),
    [
        ("EE", "", False, VatTreatment.DOMESTIC, Decimal("24")),
        ("EE", "EE100000001", True, VatTreatment.DOMESTIC, Decimal("24")),  # Estonian businesses pay Estonian VAT
        ("FR", "FR40303265045", True, VatTreatment.REVERSE_CHARGE, Decimal("0")),
        ("FR", "FR40303265045", False, VatTreatment.EU_CONSUMER, Decimal("20")),  # not validated: a consumer
        ("DE", "", False, VatTreatment.EU_CONSUMER, Decimal("19")),
        ("US", "", False, VatTreatment.OUT_OF_SCOPE, Decimal("0")),
        ("", "", False, VatTreatment.DOMESTIC, Decimal("24")),  # no country yet: taxed as domestic
    ],
)
def test_vat_decision(country, vat_id, validated, treatment, rate, staff_user):
    org = organisation_with_owner()
    org.country, org.vat_id = country, vat_id
    org.save()
    if validated:
        vat_id_mark_validated(organisation=org, actor=staff_user)
    decision = vat_decision_for(organisation=org)
    assert (decision.treatment, decision.rate) == (treatment, rate)
    if treatment == VatTreatment.REVERSE_CHARGE:
        assert "Article 196" in decision.note


def test_changing_the_vat_id_drops_the_validation(staff_user):
    org = organisation_with_owner()
    org.country, org.vat_id = "FR", "FR40303265045"
    org.save()
    vat_id_mark_validated(organisation=org, actor=staff_user)
    org.vat_id = "FR83404833048"
    org.save()
    assert vat_decision_for(organisation=org).treatment == VatTreatment.EU_CONSUMER


def test_vat_id_validation_refuses_a_wrong_shape_or_country(staff_user):
    org = organisation_with_owner()
    org.country, org.vat_id = "DE", "FR40303265045"
    org.save()
    with pytest.raises(ValidationFailed) as exc:
        vat_id_mark_validated(organisation=org, actor=staff_user)
    assert "vat_id" in exc.value.fields
    assert vat.vat_id_format_error(vat_id="el 123 456 789", country="GR") is None  # Greece uses EL


def test_vat_rounding_and_a_missing_rate():
    assert vat.vat_amount(Decimal("10.05"), Decimal("24")) == Decimal("2.41")  # 2.412
    assert vat.vat_amount(Decimal("0.05"), Decimal("19")) == Decimal("0.01")  # 0.0095 half up
    VatRate.objects.filter(country="DE").delete()
    with pytest.raises(Unavailable):
        vat_rate_for("DE")
