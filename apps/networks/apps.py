"""App config for apps.networks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworksConfig(AppConfig):
    name = "apps.networks"
    verbose_name = _("Networks")

    def ready(self) -> None:
        # Tasks are registered in every process so services can enqueue them by name (eager in tests).
        from apps.instances.signals import instance_status_changed
        from apps.instances.views import server_tab_register
        from apps.networks import tasks  # noqa: F401
        from apps.networks.services import networks_server_status_changed

        # A deleted server leaves its networks, its addresses freed (issue 13, "For every resource above").
        instance_status_changed.connect(networks_server_status_changed, dispatch_uid="networks-server-status")
        server_tab_register(key="networks", label=_("Networks"), url_name="networks:server_networks", order=30)
        # Every inventory sync compares the platform's cards with the VMs (drift flagged, issue 13).
        from apps.infrastructure.signals import cluster_synced

        cluster_synced.connect(_cluster_synced, dispatch_uid="networks-card-check")
        # What a server's API representation shows of this app (apps.instances.selectors.server_extras).
        from apps.instances.selectors.server_extras import server_extra_register, uuid_value
        from apps.networks.selectors import private_networks_by_server

        server_extra_register(
            field="private_networks",
            rows=private_networks_by_server,
            shape=lambda a, b: {"network_id": uuid_value(a, b), "ip": b},
        )


def _cluster_synced(sender: object, *, cluster: object, driver: object, **kwargs: object) -> None:
    from apps.networks.services import network_cards_check

    network_cards_check(cluster=cluster, driver=driver)  # type: ignore[arg-type]
