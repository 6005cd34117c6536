"""Staff back office of billing, one module per area."""

from apps.billing.admin import budgets, invoices, payments  # noqa: F401
