"""One money rule from the catalogue to the invoice (docs: ``apps/docs/content/pricing-rules.md``).

* A **rate** (a price per hour, or per GB per hour) is stored with
  ``RATE_PLACES`` (6) decimal places wherever it is copied: offer, order,
  instance, price period, usage record, invoice line. It is never rounded on
  the way; only the catalogue's derivation of a rate from a monthly price
  rounds (``apps.catalogue.rules.pricing``).
* An **amount** a customer pays (a monthly price or cap, an invoice total, VAT,
  a credit, a payment) is in euro cents: ``MONEY_PLACES`` (2) decimal places,
  rounded half up by ``to_cents`` at the one point where a sum of rates becomes
  money (an invoice line, an estimate).
* Money is ``Decimal`` only; a float never enters.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models

RATE_PLACES = 6
RATE_MAX_DIGITS = 12
MONEY_PLACES = 2
MONEY_MAX_DIGITS = 12

RATE_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)  # 0.000001
CENT = Decimal(1).scaleb(-MONEY_PLACES)  # 0.01
ZERO = Decimal(0)


def to_cents(value: Decimal) -> Decimal:
    """Round an amount to the cent, half up (the convention of EU invoicing)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_rate(value: Decimal) -> Decimal:
    """A rate at the stored precision, half up (exact for every rate the catalogue derives)."""
    return value.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def RateField(verbose_name: Any, **options: Any) -> models.DecimalField:
    """A price per hour (or per GB per hour) in EUR, at the platform's one rate precision."""
    options.setdefault("validators", [MinValueValidator(ZERO)])
    return models.DecimalField(verbose_name, max_digits=RATE_MAX_DIGITS, decimal_places=RATE_PLACES, **options)


def MoneyField(verbose_name: Any, **options: Any) -> models.DecimalField:
    """An amount in EUR cents (a monthly price or cap, a total, VAT, a credit)."""
    return models.DecimalField(verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_PLACES, **options)
