"""Celery tasks of orders: thin interfaces that call services."""

from __future__ import annotations

from celery import shared_task

from apps.orders import services, task_names


@shared_task(name=task_names.SYNC, ignore_result=True)
def orders_sync() -> int:
    """Safety net: complete or fail provisioning VM orders whose instance left ``provisioning``, and
    managed orders whose service did (beat).

    Orders normally follow their server or service at once (``instance_status_changed``,
    ``service_state_changed``); this finds what a lost signal left behind.
    """
    return services.orders_sync_provisioning() + services.order_options_resume()


@shared_task(name=task_names.APPLY_OPTIONS, ignore_result=True)
def orders_apply_options(order_id: int) -> None:
    """Apply the networks, firewalls and volumes ordered with a server, once it runs (runs once: claimed)."""
    services.order_options_apply(order_id=order_id)
