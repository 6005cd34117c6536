"""App config for apps.loadbalancers."""

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _instance_status_changed(sender: Any, instance_id: int, before: str, after: str, **kwargs: Any) -> None:
    from apps.loadbalancers import services

    services.lb_on_instance_status(instance_id=instance_id, after=after)


def _server_changed(sender: Any, instance_id: int, **kwargs: Any) -> None:
    from apps.loadbalancers import services

    services.lb_on_server_changed(instance_id=instance_id)


def _service_state_changed(sender: Any, service_id: int, before: str, after: str, **kwargs: Any) -> None:
    from apps.loadbalancers import services
    from apps.managed.choices import ServiceFamily
    from apps.managed.models import ManagedService

    if before == "":
        service = ManagedService.objects.filter(pk=service_id, family=ServiceFamily.LOAD_BALANCER).first()
        if service is not None and service.datacentre_id is not None:
            services.lb_ensure(service=service)


class LoadBalancersConfig(AppConfig):
    name = "apps.loadbalancers"
    verbose_name = _("Load balancers")

    def ready(self) -> None:
        from apps.instances.signals import instance_labels_changed, instance_status_changed
        from apps.loadbalancers import tasks  # noqa: F401  (registered in every process: enqueued by name)
        from apps.loadbalancers.services import LoadBalancerBackend
        from apps.managed.backends import backend_register
        from apps.managed.choices import ServiceFamily
        from apps.managed.signals import service_state_changed
        from apps.networks.signals import server_network_changed

        backend_register(ServiceFamily.LOAD_BALANCER, LoadBalancerBackend())
        instance_status_changed.connect(_instance_status_changed, dispatch_uid="loadbalancers.instance_status")
        service_state_changed.connect(_service_state_changed, dispatch_uid="loadbalancers.service_state")
        # Targets follow label edits and private-network cards at once; the beat stays as a safety net.
        instance_labels_changed.connect(_server_changed, dispatch_uid="loadbalancers.server_labels")
        server_network_changed.connect(_server_changed, dispatch_uid="loadbalancers.server_network")
