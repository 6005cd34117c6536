"""App config for apps.core."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # metrics: connects the Celery and login signal handlers that feed the
        # metrics; checks: the deploy checks (shared cache, explicit encryption
        # key, trusted proxies); api.schema: its OpenAPI field extensions register on import.
        from django.urls import register_converter

        from apps.core import checks, metrics  # noqa: F401
        from apps.core.converters import IdConverter

        # <id:…> in every URL map: ids bounded to a bigint (apps/core/converters.py).
        register_converter(IdConverter, "id")
        from apps.core.api import schema  # noqa: F401
