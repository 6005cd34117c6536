"""App config for apps.managed."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ManagedConfig(AppConfig):
    name = "apps.managed"
    label = "managed"
    verbose_name = _("Managed services")

    def ready(self) -> None:
        # Tasks are registered in every process so services can enqueue them by name (eager in tests).
        from apps.managed import tasks  # noqa: F401
