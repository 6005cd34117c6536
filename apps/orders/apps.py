"""App config for apps.orders."""

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _instance_status_changed(sender: Any, **kwargs: Any) -> None:
    """An instance's status changed (``apps.instances.signals``): its provisioning order follows."""
    from apps.orders.services import order_sync_on_instance_change

    order_sync_on_instance_change(**kwargs)


def _service_state_changed(sender: Any, **kwargs: Any) -> None:
    """A managed service's state changed (``apps.managed.signals``): its order follows (delivered → completed)."""
    if kwargs.get("after") == kwargs.get("before") or kwargs.get("before") == "":
        return  # created (its order is starting it) or no change: nothing for an order to follow
    from apps.orders.services import order_sync_on_service_change

    order_sync_on_service_change(**kwargs)


def _service_fulfilment_started(sender: Any, **kwargs: Any) -> None:
    """Staff started delivering a managed service by hand (``apps.managed.signals``): its order is in progress."""
    from apps.orders.services import order_sync_on_service_fulfilment

    order_sync_on_service_fulfilment(**kwargs)


class OrdersConfig(AppConfig):
    name = "apps.orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # Instances sits below orders and never imports it: it sends a signal once a status change
        # commits, and orders listens (docs/dev/style.md#boundaries).
        from apps.instances.signals import instance_status_changed

        instance_status_changed.connect(_instance_status_changed, dispatch_uid="orders.order_sync")
        # Managed services likewise (apps.managed.signals.service_state_changed, sent on commit).
        from apps.managed.signals import service_fulfilment_started, service_state_changed

        service_state_changed.connect(_service_state_changed, dispatch_uid="orders.order_sync_service")
        service_fulfilment_started.connect(_service_fulfilment_started, dispatch_uid="orders.fulfilment_started")
        # Register the tasks in every process so eager mode applies and beat finds them.
        from apps.orders import tasks  # noqa: F401
