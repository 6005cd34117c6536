"""The pricing rule: hourly rates, and what N hours in a calendar month cost.

- Monthly-priced offers (VPS, web hosting, PaaS, load balancers, CDN): the
  hourly rate is ``monthly / 730`` kept to 4 decimal places, half up, as
  DigitalOcean and Hetzner publish theirs (730 = 8 760 hours / 12 months).
- GPU offers keep the seed's hourly list price (``HourlyPriceRule.LIST``).
- Block storage is priced per GB per month. Its hourly rate per GB is kept to
  6 decimal places: at 4, 0.10 EUR/GB/month would become 0.0001 EUR/GB/h
  (-27 %) and 0.25 would become 0.0003 (-12 %).
- In every case the monthly price is the cap per calendar month: a resource
  costs ``min(hours x hourly, monthly)`` for one month (times the GB for storage).

Money is ``Decimal`` only; a float never enters these functions.
Docs page: apps/docs/content/pricing-rules.md.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

HOURS_PER_MONTH = Decimal(730)
HOURLY_PLACES = Decimal("0.0001")
HOURLY_PER_GB_PLACES = Decimal("0.000001")
CENT = Decimal("0.01")


def _require_decimal(name: str, value: object) -> Decimal:
    # bool is an int subclass; floats would carry binary rounding into money.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be a Decimal (or int), not {type(value).__name__}")
    dec = Decimal(value)
    if dec < 0:
        raise ValueError(f"{name} must not be negative")
    return dec


def hourly_from_monthly(monthly: Decimal) -> Decimal:
    """Hourly rate of a monthly price: ``monthly / 730`` at 4 decimal places, half up."""
    return (_require_decimal("monthly", monthly) / HOURS_PER_MONTH).quantize(HOURLY_PLACES, rounding=ROUND_HALF_UP)


def hourly_per_gb_from_monthly(monthly_per_gb: Decimal) -> Decimal:
    """Hourly rate per GB of a per-GB monthly price, at 6 decimal places (4 would distort by up to 27 %)."""
    monthly = _require_decimal("monthly_per_gb", monthly_per_gb)
    return (monthly / HOURS_PER_MONTH).quantize(HOURLY_PER_GB_PLACES, rounding=ROUND_HALF_UP)


def derived_hourly(*, monthly: Decimal, per_gb: bool) -> Decimal:
    """The derived hourly rate for an offer's billing unit (per GB for storage)."""
    return hourly_per_gb_from_monthly(monthly) if per_gb else hourly_from_monthly(monthly)


def month_cost(*, hourly: Decimal, monthly: Decimal, hours: int, quantity: int = 1) -> Decimal:
    """What ``hours`` hours of use in one calendar month cost, capped at the monthly price, to the cent.

    ``quantity`` is the number of GB for per-GB offers (storage), else 1.
    A started hour counts as a full hour: pass the number of started hours.
    """
    rate = _require_decimal("hourly", hourly)
    cap = _require_decimal("monthly", monthly)
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise ValueError("hours must be a non-negative int")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValueError("quantity must be a non-negative int")
    cost = min(rate * hours, cap) * quantity
    return cost.quantize(CENT, rounding=ROUND_HALF_UP)
