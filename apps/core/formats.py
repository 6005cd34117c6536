"""Money, numbers and dates for people, in the active language: the one place prices are formatted.

Numbers go through Django's localisation (``django.utils.formats.number_format``
with the active locale's decimal and thousands separators; French groups
thousands with a non-breaking space and writes a decimal comma). Django has no
currency format, so where the euro sign goes is decided here, per language, as
the Unicode CLDR writes it: English "€1,599.00", French "1 599,00 €".
Amounts keep 2, 4 or 6 decimals (hourly prices have 4: "0,0671 €/h").
Templates use the ``money``, ``money_per``, ``number`` and ``localdate``
filters of ``core_formats`` (and ``catalogue_tags``, which re-exports
``money``); Python code calls these functions. Documented in
apps/docs/content/products-and-pricing.md ("How prices are written").
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats
from django.utils.translation import get_language

# Where the currency sign goes, by language (CLDR "standard currency" patterns);
# a narrow no-break space (U+202F) would be CLDR's exact choice for French, the
# no-break space (U+00A0) is what Django's fr locale uses between digit groups.
_CURRENCY_PATTERNS = {"fr": "{amount}\u00a0{sign}"}
_DEFAULT_PATTERN = "{sign}{amount}"
CURRENCY_SIGNS = {"EUR": "€"}


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money_decimals(value: Decimal) -> int:
    """2, 4 or 6 decimals: as many as the amount needs, padded (29 -> 2, 0.0671 -> 4, 0.000137 -> 6)."""
    exponent = value.normalize().as_tuple().exponent
    needed = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return next((w for w in (2, 4, 6) if needed <= w), needed)


def number(value: Any, decimals: int | None = None) -> str:
    """A number in the active language, thousands grouped: en "1,280.5", fr "1 280,5"."""
    amount = _decimal(value)
    if amount is None:
        return ""
    if decimals is None:
        exponent = amount.normalize().as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return formats.number_format(amount, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def money(value: Any, currency: str = "EUR") -> str:
    """An amount of money in the active language: en "€1,599.00" / "€0.0671", fr "1 599,00 €" / "0,0671 €"."""
    amount = _decimal(value)
    if amount is None:
        return ""
    text = number(abs(amount), money_decimals(amount))
    pattern = _CURRENCY_PATTERNS.get((get_language() or "en").split("-")[0], _DEFAULT_PATTERN)
    formatted = pattern.format(amount=text, sign=CURRENCY_SIGNS.get(currency, currency))
    return f"−{formatted}" if amount < 0 else formatted


def money_per(value: Any, unit: Any) -> str:
    """A price per unit: en "€0.0671/h", fr "0,0671 €/h" (``unit`` is already translated)."""
    text = money(value)
    return f"{text}/{unit}" if text else ""


def localdate(value: date | datetime | None, fmt: str = "DATE_FORMAT") -> str:
    """A date (or date and time) in the active language's format: en "Dec. 6, 2026", fr "6 décembre 2026"."""
    if value is None:
        return ""
    return formats.date_format(value, fmt, use_l10n=True)
