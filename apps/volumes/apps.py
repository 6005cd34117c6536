"""App config for apps.volumes."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolumesConfig(AppConfig):
    name = "apps.volumes"
    verbose_name = _("Volumes")

    def ready(self) -> None:
        # Tasks are registered in every process so services can enqueue them by name (eager in tests).
        from apps.instances.signals import instance_status_changed
        from apps.volumes import tasks  # noqa: F401
        from apps.volumes.services import volumes_server_status_changed

        # A deleted server leaves its volumes detached and kept (issue 13, "For every resource above").
        instance_status_changed.connect(volumes_server_status_changed, dispatch_uid="volumes-server-status")

        from apps.instances.views import server_tab_register

        server_tab_register(key="volumes", label=_("Volumes"), url_name="volumes:server_volumes", order=20)
        # What a server's API representation shows of this app (apps.instances.selectors.server_extras).
        from apps.instances.selectors.server_extras import server_extra_register, uuid_value
        from apps.volumes.selectors import volumes_by_server

        server_extra_register(field="volumes", rows=volumes_by_server, shape=uuid_value)
