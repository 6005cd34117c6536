"""Template filters for money, numbers and dates in the active language (``apps.core.formats``)."""

from __future__ import annotations

from django import template

from apps.core import formats

register = template.Library()

register.filter("money", formats.money)
register.filter("money_per", formats.money_per)
register.filter("number", formats.number)
register.filter("localdate", formats.localdate)
