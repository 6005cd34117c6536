"""App config for apps.core."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Connects the Celery and login signal handlers that feed the metrics.
        from apps.core import metrics  # noqa: F401
