"""Catalogue rules: pure functions of an offer's fields, no database (``docs/dev/style.md#app-shape``).

* ``pricing``: the pricing rule (hourly rates from monthly prices, what N hours in a month cost);
* ``specs``: how offer specs and prices read to people, and the columns of each family's table.

The public names are re-exported here; callers that use several write
``from apps.catalogue.rules import pricing, specs`` then ``specs.spec_table(...)``.
"""

from apps.catalogue.rules.pricing import (
    HOURS_PER_MONTH,
    derived_hourly,
    hourly_from_monthly,
    hourly_per_gb_from_monthly,
    month_cost,
)
from apps.catalogue.rules.specs import (
    COLUMNS,
    Column,
    SpecTable,
    columns_for,
    fmt_compact,
    fmt_decimal,
    fmt_decimal_money,
    fmt_int,
    fmt_money,
    fmt_quantity,
    fmt_ram_gb,
    fmt_size_gb,
    fmt_traffic_tb,
    price_hourly_display,
    price_monthly_display,
    spec_table,
)

__all__ = [
    "COLUMNS",
    "HOURS_PER_MONTH",
    "Column",
    "SpecTable",
    "columns_for",
    "derived_hourly",
    "fmt_compact",
    "fmt_decimal",
    "fmt_decimal_money",
    "fmt_int",
    "fmt_money",
    "fmt_quantity",
    "fmt_ram_gb",
    "fmt_size_gb",
    "fmt_traffic_tb",
    "hourly_from_monthly",
    "hourly_per_gb_from_monthly",
    "month_cost",
    "price_hourly_display",
    "price_monthly_display",
    "spec_table",
]
