"""Celery tasks of orders: thin interfaces that call services."""

from __future__ import annotations

from celery import shared_task

from apps.orders import services


@shared_task(name="orders.sync", ignore_result=True)
def orders_sync() -> int:
    """Complete or fail provisioning VM orders whose instance is running or failed (beat, every 30 s)."""
    return services.orders_sync_provisioning()
