"""App config for apps.infrastructure."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InfrastructureConfig(AppConfig):
    name = "apps.infrastructure"
    verbose_name = _("Infrastructure")

    def ready(self) -> None:
        # The catalogue (below us) asks "is there capacity?" through a hook
        # instead of importing us: answer it with the ledger's true availability.
        from apps.catalogue.selectors import availability_provider_register
        from apps.infrastructure.selectors.availability import offer_availability

        availability_provider_register(lambda offer, dc: offer_availability(offer=offer, datacentre=dc).available)
        # Register the tasks with Celery in every process (web included), so
        # services can enqueue them by name and eager mode applies in tests.
        from apps.infrastructure import tasks  # noqa: F401
