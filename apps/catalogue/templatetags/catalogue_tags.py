"""Template filters for catalogue pages: money as the API and docs write it."""

from __future__ import annotations

from decimal import Decimal

from django import template

from apps.catalogue import specs

register = template.Library()


@register.filter
def money(value: Decimal | None) -> str:
    """EUR with grouped thousands and 2, 4 or 6 decimals: "€1,599.00", "€0.0397"."""
    return "" if value is None else specs.fmt_money(Decimal(value))
