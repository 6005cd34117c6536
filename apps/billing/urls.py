"""Portal routes of billing, under /billing/: one module of views per area.

``/billing/`` itself is the costs overview (``apps.billing.views.costs``).
"""

from apps.billing.views import costs, invoices, payments

app_name = "billing"

urlpatterns = [
    *invoices.urlpatterns,
    *payments.urlpatterns,
    *costs.urlpatterns,
]
