"""An order follows its server when the server's status changes (``instance_status_changed``), not by polling.

The beat task ``orders.sync`` (``orders_sync_provisioning``) stays as a safety
net for a lost signal: in the normal case it finds nothing, and when it does
find orders it reads them in batches, leaving none behind.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.orders import services
from apps.orders.choices import OrderState
from apps.orders.models import Order
from apps.orders.services import fulfilment
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db


def _no_poll(*args, **kwargs):
    raise AssertionError("the orders.sync poll ran")


def _move(instance_id: int, to: str, **fields) -> None:
    """What the worker does when provisioning ends: one transaction through ``instance_transition``."""
    with transaction.atomic():
        instance = Instance.objects.select_for_update().get(pk=instance_id)
        instance_services.instance_transition(instance=instance, to=to, **fields)


def test_an_order_completes_when_its_server_runs_without_the_poll(
    personas, shop, monkeypatch, django_capture_on_commit_callbacks
):
    order = place(personas, shop)
    assert order.state == OrderState.PROVISIONING
    monkeypatch.setattr(fulfilment, "orders_sync_provisioning", _no_poll)
    monkeypatch.setattr(services, "orders_sync_provisioning", _no_poll)

    with django_capture_on_commit_callbacks(execute=True):
        _move(order.instance_id, InstanceStatus.RUNNING)

    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED
    assert order.transitions.last().reason == "The server is ready."


def test_an_order_fails_with_its_servers_message_without_the_poll(
    personas, shop, monkeypatch, django_capture_on_commit_callbacks
):
    order = place(personas, shop)
    monkeypatch.setattr(fulfilment, "orders_sync_provisioning", _no_poll)

    with django_capture_on_commit_callbacks(execute=True):
        _move(order.instance_id, InstanceStatus.ERROR, error_message="The image could not be cloned.")

    order.refresh_from_db()
    assert (order.state, order.error_message) == (OrderState.FAILED, "The image could not be cloned.")


def test_the_order_is_told_only_once_the_transition_commits(personas, shop, django_capture_on_commit_callbacks):
    order = place(personas, shop)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _move(order.instance_id, InstanceStatus.RUNNING)
    order.refresh_from_db()
    assert order.state == OrderState.PROVISIONING  # not yet committed: nothing told
    for callback in callbacks:
        callback()
    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED


def test_the_safety_net_finds_nothing_when_orders_were_told(personas, shop, django_capture_on_commit_callbacks):
    order = place(personas, shop)
    with django_capture_on_commit_callbacks(execute=True):
        _move(order.instance_id, InstanceStatus.RUNNING)
    assert services.orders_sync_provisioning() == 0


def test_the_safety_net_reads_every_order_in_batches(personas, shop, monkeypatch):
    monkeypatch.setattr(fulfilment, "SYNC_BATCH", 2)
    orders = [place(personas, shop, name=f"web-{n}") for n in range(5)]
    # Statuses changed behind the services' back (a lost signal): only the poll can see it.
    Instance.objects.filter(pk__in=[o.instance_id for o in orders]).update(status=InstanceStatus.RUNNING)
    assert services.orders_sync_provisioning() == 5
    assert set(Order.objects.values_list("state", flat=True)) == {OrderState.COMPLETED}
