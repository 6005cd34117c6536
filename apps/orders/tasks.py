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
    return services.orders_sync_provisioning()
