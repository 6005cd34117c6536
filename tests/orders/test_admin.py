"""The orders back office: pages render, and the approval and fulfilment actions call the services."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.infrastructure import choices as infrastructure_choices
from apps.managed import services as managed_services
from apps.orders import services as order_services
from apps.orders.admin import FulfilmentQueueAdmin, OrderAdmin
from apps.orders.choices import FulfilmentStatus, OrderState
from apps.orders.models import OrganisationQuota
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return staff_user


def _action(client, model: str, action: str, orders, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(o.pk) for o in orders], **extra}
    return client.post(reverse(f"admin:orders_{model}_changelist"), data)


@pytest.mark.parametrize("model", ["order", "approvalqueueorder", "fulfilmentqueueorder"])
def test_changelists_and_change_pages_render(personas, shop, staff, client, settings, model):
    settings.ORDERS_APPROVAL_GPU = True
    orders = [
        place(personas, shop),
        place(personas, shop, offer=shop.gpu, name="gpu-1"),
        place(personas, shop, offer=shop.service, name="s"),
    ]
    response = client.get(reverse(f"admin:orders_{model}_changelist"))
    assert response.status_code == 200
    shown = {o for o in orders if str(o.public_id) in response.content.decode()}
    expected = {
        "order": set(orders),
        "approvalqueueorder": {orders[1]},
        "fulfilmentqueueorder": {orders[2]},
    }[model]
    assert shown == expected
    some = next(iter(expected))
    assert client.get(reverse(f"admin:orders_{model}_change", args=[some.pk])).status_code == 200


def test_orders_cannot_be_added_or_edited_by_hand(personas, shop, staff, client):
    order = place(personas, shop)
    assert client.get(reverse("admin:orders_order_add")).status_code == 403
    response = client.post(reverse("admin:orders_order_change", args=[order.pk]), {"state": "completed"})
    order.refresh_from_db()
    assert order.state == OrderState.PROVISIONING
    assert response.status_code in (200, 302, 403)


def test_staff_approve_from_the_queue(personas, shop, staff, client, settings):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    _action(client, "approvalqueueorder", "approve", [order])
    order.refresh_from_db()
    assert order.state == OrderState.PROVISIONING
    assert order.instance is not None
    assert AuditEvent.objects.filter(action="orders.order.approve", actor_user=staff).exists()


def test_staff_reject_with_a_reason_the_customer_sees(personas, shop, staff, client, settings):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    form = _action(client, "approvalqueueorder", "reject", [order])
    assert form.status_code == 200  # the reason form first
    assert b"Reason (shown to the customer)" in form.content
    _action(client, "approvalqueueorder", "reject", [order], apply="1", reason="Identity not verified.")
    order.refresh_from_db()
    assert (order.state, order.rejection_reason) == (OrderState.REJECTED, "Identity not verified.")
    order.reservation.refresh_from_db()
    assert order.reservation.state == infrastructure_choices.ReservationState.RELEASED


def test_approving_an_order_that_is_not_waiting_shows_an_error_and_changes_nothing(personas, shop, staff, client):
    order = place(personas, shop)
    response = _action(client, "order", "approve", [order])
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.PROVISIONING


def test_staff_start_a_service_order_and_deliver_it_on_the_service(personas, shop, staff, client):
    order = place(personas, shop, offer=shop.service, name="shop.example.com")
    _action(client, "fulfilmentqueueorder", "fulfilment_start", [order])
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.IN_PROGRESS and not order.is_cancellable
    # Issue 14: the order's free-text "fulfil" action is gone: delivery is the service's (apps.managed).
    assert "fulfil" not in FulfilmentQueueAdmin.actions and "fulfil" not in OrderAdmin.actions
    managed_services.service_deliver(
        service=order.service, actor=staff, endpoints={"urls": ["https://cp1.vmcloud.eu"]}, notes="Panel"
    )
    order_services.orders_sync_provisioning()
    order.refresh_from_db()
    assert (order.state, order.fulfilment_status) == (OrderState.COMPLETED, FulfilmentStatus.FULFILLED)


def test_quota_edits_are_audited(personas, staff, client):
    response = client.post(
        reverse("admin:orders_organisationquota_add"),
        {"organisation": personas.org.pk, "max_instances": 3, "max_gpus": "", "notes": "trial"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert OrganisationQuota.objects.get().max_instances == 3
    assert AuditEvent.objects.filter(action="orders.organisationquota.create").exists()
