"""App config for apps.instances."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstancesConfig(AppConfig):
    name = "apps.instances"
    verbose_name = _("Instances")

    def ready(self) -> None:
        # Register the tasks in every process so services can enqueue them by
        # name and eager mode applies in tests.
        from apps.instances import tasks  # noqa: F401
