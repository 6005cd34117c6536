"""Template filters for catalogue pages: money in the active language (``apps.core.formats``)."""

from __future__ import annotations

from django import template

from apps.core import formats

register = template.Library()

# The same helper as the ``core_formats`` library, so templates that load either agree.
register.filter("money", formats.money)
register.filter("money_per", formats.money_per)
