"""One money type from the catalogue to the invoice (issue 12; apps.core.money, pricing-rules.md).

Every rate any model stores (a price per hour, a unit price) has the rate's precision, and every
amount a customer pays (a monthly price or cap, a total, VAT, a credit, a budget) is in cents, on
every model that copies one: the walk below reads the models, so a new product's price field
joins the check without anyone listing it.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

from apps.core.money import MONEY_MAX_DIGITS, MONEY_PLACES, RATE_MAX_DIGITS, RATE_PLACES

RATE_NAMES = ("price_hourly", "unit_price")
MONEY_NAMES = (
    "price_monthly",
    "monthly_cap",
    "subtotal",
    "promotional_credit",
    "net_total",
    "vat_amount",
    "total",
    "amount_due",
    "amount_credited",
    "net_amount",
    "amount",
)
# A usage record's amount is hours × rate before any rounding: rounded to the cent once, on the
# invoice line (pricing-rules.md, "How a price travels to your invoice"); so it keeps the rate's places.
UNROUNDED = {("billing.UsageRecord", "amount")}


def _decimal_fields() -> list[tuple[str, models.DecimalField]]:
    return [
        (model._meta.label, field)
        for model in apps.get_models()
        if model.__module__.startswith("apps.")
        for field in model._meta.concrete_fields
        if isinstance(field, models.DecimalField)
    ]


def test_every_rate_has_the_rate_precision() -> None:
    rates = [(label, f) for label, f in _decimal_fields() if f.name in RATE_NAMES]
    assert len(rates) >= 10, rates  # offers, orders, servers, price periods, volumes, services, usage, lines
    wrong = {f"{label}.{f.name}": (f.max_digits, f.decimal_places) for label, f in rates}
    wrong = {k: v for k, v in wrong.items() if v != (RATE_MAX_DIGITS, RATE_PLACES)}
    assert wrong == {}, f"use apps.core.money.RateField: {wrong}"


def test_every_amount_is_in_cents() -> None:
    amounts = [
        (label, f) for label, f in _decimal_fields() if f.name in MONEY_NAMES and (label, f.name) not in UNROUNDED
    ]
    assert len(amounts) >= 20, amounts
    wrong = {f"{label}.{f.name}": (f.max_digits, f.decimal_places) for label, f in amounts}
    wrong = {k: v for k, v in wrong.items() if v != (MONEY_MAX_DIGITS, MONEY_PLACES)}
    assert wrong == {}, f"use apps.core.money.MoneyField: {wrong}"


def test_the_unrounded_usage_amount_keeps_the_rate_places() -> None:
    field = apps.get_model("billing", "UsageRecord")._meta.get_field("amount")
    assert field.decimal_places == RATE_PLACES
