"""Billing API routes under /api/v1/billing/."""

from apps.billing.api import costs, invoices, payments

urlpatterns = [
    *invoices.urlpatterns,
    *payments.urlpatterns,
    *costs.urlpatterns,
]
