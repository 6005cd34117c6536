"""Celery tasks of billing: thin interfaces that load ids and call services (one module per area)."""

from apps.billing.tasks import budgets, invoicing, payments  # noqa: F401
