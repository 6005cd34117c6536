"""App config for apps.firewalls."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FirewallsConfig(AppConfig):
    name = "apps.firewalls"
    verbose_name = _("Firewalls")

    def ready(self) -> None:
        # Tasks are registered in every process so services can enqueue them by name (eager in tests).
        from apps.firewalls import tasks  # noqa: F401
        from apps.firewalls.services import firewalls_server_labels_changed, firewalls_server_status_changed
        from apps.infrastructure.signals import cluster_synced
        from apps.instances.signals import instance_labels_changed, instance_status_changed
        from apps.instances.views import server_tab_register

        # A deleted server is dropped from its firewalls; a new one gets those its labels select.
        instance_status_changed.connect(firewalls_server_status_changed, dispatch_uid="firewalls-server-status")
        # A label edit is matched against the project's selectors at once (the reconciliation is the safety net).
        instance_labels_changed.connect(firewalls_server_labels_changed, dispatch_uid="firewalls-server-labels")
        # Every inventory sync checks that the cluster's datacentre firewall is on (issue 13, "Firewalls").
        cluster_synced.connect(_cluster_synced, dispatch_uid="firewalls-cluster-check")
        server_tab_register(key="firewalls", label=_("Firewalls"), url_name="firewalls:server_firewalls", order=40)

        # What a server's API representation shows of this app (apps.instances.selectors.server_extras).
        from apps.firewalls.selectors import firewalls_by_server
        from apps.instances.selectors.server_extras import server_extra_register, uuid_value

        server_extra_register(field="firewalls", rows=firewalls_by_server, shape=uuid_value)


def _cluster_synced(sender: object, *, cluster: object, driver: object, **kwargs: object) -> None:
    from apps.firewalls.services import cluster_firewall_check

    cluster_firewall_check(cluster=cluster, driver=driver)  # type: ignore[arg-type]
