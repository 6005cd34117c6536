"""App config for apps.billing."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "apps.billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # Register the tasks in every process so services can enqueue them by name.
        from apps.billing import tasks  # noqa: F401

        # The orders app's GPU risk policy asks whether an organisation can pay (apps/orders/selectors/gpu_risk.py).
        from apps.billing.selectors import payment_method_list
        from apps.orders.selectors.gpu_risk import payment_method_provider_register

        payment_method_provider_register(lambda organisation: bool(payment_method_list(organisation=organisation)))
