"""App config for apps.alerts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    verbose_name = _("Monitoring alerts")

    def ready(self) -> None:
        # Tasks are registered in every process so services can enqueue them by name (eager in tests).
        from apps.alerts import tasks  # noqa: F401
        from apps.instances.views import server_tab_register

        server_tab_register(key="alerts", label=_("Alerts"), url_name="alerts:server_alerts", order=60)
