"""The pricing rule: monthly / 730 at 4 decimals (6 per GB for storage), capped at the monthly price."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.catalogue.models import Offer
from apps.catalogue.rules import pricing

D = Decimal


@pytest.mark.parametrize(
    ("monthly", "hourly"),
    [
        ("29", "0.0397"),  # 0.039726...
        ("49", "0.0671"),  # 0.067123...
        ("19", "0.0260"),  # 0.026027...
        ("3199", "4.3822"),  # 4.382191...
        ("0", "0.0000"),
        ("0.73", "0.0010"),  # exactly 0.001
    ],
)
def test_hourly_is_monthly_over_730_at_4_places(monthly, hourly):
    result = pricing.hourly_from_monthly(D(monthly))
    assert result == D(hourly)
    assert result.as_tuple().exponent == -4


def test_hourly_rounds_half_up_not_to_even():
    # Monthly prices chosen so monthly / 730 ends exactly in 5 at the 5th decimal.
    assert pricing.hourly_from_monthly(D("0.0365")) == D("0.0001")  # 0.00005: half-even would give 0.0000
    assert pricing.hourly_from_monthly(D("1.0585")) == D("0.0015")  # 0.00145: half-even would give 0.0014


def test_storage_per_gb_hourly_keeps_6_places_to_avoid_distortion():
    assert pricing.hourly_per_gb_from_monthly(D("0.10")) == D("0.000137")
    assert pricing.hourly_per_gb_from_monthly(D("0.25")) == D("0.000342")
    # At 4 places the 0.10 tier would lose 27% of its price.
    four = (D("0.10") / 730).quantize(D("0.0001"))
    assert (D("0.10") / 730 - four) / (D("0.10") / 730) > D("0.26")
    six = pricing.hourly_per_gb_from_monthly(D("0.10"))
    assert abs(six * 730 - D("0.10")) / D("0.10") < D("0.001")


def test_floats_never_enter_the_money_functions():
    with pytest.raises(TypeError):
        pricing.hourly_from_monthly(29.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pricing.month_cost(hourly=0.04, monthly=D("29"), hours=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        pricing.hourly_from_monthly(D("-1"))


def test_month_cost_is_hours_times_rate_until_the_monthly_cap():
    hourly, monthly = D("0.0397"), D("29")
    assert pricing.month_cost(hourly=hourly, monthly=monthly, hours=0) == D("0.00")
    assert pricing.month_cost(hourly=hourly, monthly=monthly, hours=1) == D("0.04")
    assert pricing.month_cost(hourly=hourly, monthly=monthly, hours=100) == D("3.97")
    # 730 h x 0.0397 = 28.981 < 29: a 730-hour month costs a little under the cap...
    assert pricing.month_cost(hourly=hourly, monthly=monthly, hours=730) == D("28.98")
    # ...and a 31-day month (744 h) is capped at the monthly price.
    assert pricing.month_cost(hourly=hourly, monthly=monthly, hours=744) == D("29.00")


def test_gpu_month_cost_caps_at_the_seed_monthly_price():
    # GPU-STARTER: 0.85 EUR/h list price, 469 EUR/month: the cap is reached after 552 hours.
    assert pricing.month_cost(hourly=D("0.85"), monthly=D("469"), hours=551) == D("468.35")
    assert pricing.month_cost(hourly=D("0.85"), monthly=D("469"), hours=552) == D("469.00")
    assert pricing.month_cost(hourly=D("0.85"), monthly=D("469"), hours=744) == D("469.00")


def test_storage_month_cost_scales_with_gigabytes_and_caps_per_gb():
    hourly = pricing.hourly_per_gb_from_monthly(D("0.10"))
    assert pricing.month_cost(hourly=hourly, monthly=D("0.10"), hours=744, quantity=500) == D("50.00")
    assert pricing.month_cost(hourly=hourly, monthly=D("0.10"), hours=24, quantity=1000) == D("3.29")


def test_month_cost_rejects_bad_hours():
    with pytest.raises(ValueError):
        pricing.month_cost(hourly=D("1"), monthly=D("2"), hours=-1)
    with pytest.raises(ValueError):
        pricing.month_cost(hourly=D("1"), monthly=D("2"), hours=1.5)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_every_derived_offer_follows_the_rule_and_gpu_offers_keep_list_prices(catalogue):
    for offer in Offer.objects.select_related("family"):
        if offer.family.slug == "gpu":
            assert offer.family.hourly_price_rule == "list"
            assert offer.price_hourly * 730 != offer.price_monthly  # a real list price, not derived
        elif offer.family.slug == "storage":
            assert offer.price_hourly == pricing.hourly_per_gb_from_monthly(offer.price_monthly)
        else:
            assert offer.price_hourly == pricing.hourly_from_monthly(offer.price_monthly)
