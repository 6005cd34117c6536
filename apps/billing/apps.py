"""App config for apps.billing."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "apps.billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # Register the tasks in every process so services can enqueue them by name.
        from apps.billing import tasks  # noqa: F401
