"""Expiry of placement reservations nobody holds (``services.expiry`` and its beat task)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

import pytest
from django.conf import settings
from django.utils import timezone

from apps.catalogue.models import Offer
from apps.core.models import AuditEvent
from apps.infrastructure import choices, services, tasks
from apps.infrastructure.models import GpuDevice, IpAllocation, Node, Reservation, Storage, VmidAllocation
from apps.orders.choices import OrderState
from config.celery import app as celery_app
from tests.infrastructure.factories import OfferFactory, envelopes, fleet
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db


def _age(reservation: Reservation, hours: float) -> None:
    Reservation.objects.filter(pk=reservation.pk).update(created_at=timezone.now() - dt.timedelta(hours=hours))


@pytest.fixture
def small_fleet():
    envelopes()
    return fleet(nodes=1)


def _reserve(f, **kw) -> Reservation:
    offer = cast(Offer, OfferFactory(vcpu=4, ram_gb=8, disk_gb=100))
    return services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"], **kw)


def test_unheld_reservation_past_the_deadline_is_released_with_everything_it_held(small_fleet):
    r = _reserve(small_fleet, holder_ref=uuid.uuid4())
    _age(r, 2)

    released = tasks.release_expired_reservations()

    assert released == 1
    r.refresh_from_db()
    assert r.state == choices.ReservationState.RELEASED and r.released_at is not None
    node = Node.objects.get(pk=r.node_id)
    assert (node.allocated_vcpu, node.allocated_ram_gb) == (0, 0)
    assert Storage.objects.get(pk=r.storage_id or 0).allocated_gb == 0
    assert not VmidAllocation.objects.filter(reservation=r).exists()
    assert not IpAllocation.objects.filter(reservation=r).exists()
    event = AuditEvent.objects.get(action="infrastructure.reservation.expire", target_id=str(r.pk))
    assert event.changes["vmid"] == r.vmid and int(str(event.changes["age_seconds"])) >= 7200
    assert AuditEvent.objects.filter(action="infrastructure.reservation.release", target_id=str(r.pk)).exists()
    # Idempotent: a second run finds nothing.
    assert tasks.release_expired_reservations() == 0


def test_young_reservations_are_kept(small_fleet):
    r = _reserve(small_fleet)
    _age(r, 0.5)
    assert services.placement_release_expired() == []
    r.refresh_from_db()
    assert r.state == choices.ReservationState.RESERVED


def test_committed_reservations_are_never_expired(small_fleet):
    r = _reserve(small_fleet)
    services.placement_commit(reservation=r)
    _age(r, 48)
    assert services.placement_release_expired() == []
    assert Reservation.objects.get(pk=r.pk).state == choices.ReservationState.COMMITTED


def test_ttl_is_a_parameter(small_fleet):
    r = _reserve(small_fleet)
    _age(r, 0.5)
    assert services.placement_release_expired(ttl=dt.timedelta(minutes=10)) == [r.pk]


def test_gpus_of_an_expired_reservation_are_free_again():
    from tests.infrastructure.factories import GpuModelFactory

    model = GpuModelFactory()
    f = fleet(nodes=1, gpus_per_node=2, gpu_model=model)
    envelopes(gpu={model: "1"})
    offer = cast(Offer, OfferFactory(vcpu=8, ram_gb=32, gpu_model=model, gpu_count=2))
    r = services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"])
    assert GpuDevice.objects.filter(reservation=r, state=choices.GpuState.RESERVED).count() == 2
    _age(r, 2)
    services.placement_release_expired()
    assert GpuDevice.objects.filter(state=choices.GpuState.FREE, reservation=None).count() == 2


def test_holders_are_found_in_the_apps_above_without_importing_them():
    holders = {(model._meta.label, column) for model, column in services.reservation_holder_fields()}
    assert ("orders.Order", "reservation_id") in holders
    assert ("instances.Instance", "reservation_id") in holders
    # The ledger's own rows are not holders.
    assert not any(label.startswith("infrastructure.") for label, _column in holders)


def test_an_order_awaiting_approval_keeps_its_reservation(settings, personas, shop):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    assert order.state == OrderState.AWAITING_APPROVAL
    _age(order.reservation, 24 * 7)

    assert services.placement_release_expired() == []
    assert Reservation.objects.get(pk=order.reservation_id).state == choices.ReservationState.RESERVED
    assert services.reservations_expired() == []


def test_a_reservation_whose_order_was_deleted_is_released(settings, personas, shop):
    settings.ORDERS_APPROVAL_GPU = True
    order = place(personas, shop, offer=shop.gpu)
    reservation = order.reservation
    type(order)._base_manager.filter(pk=order.pk).delete()  # by hand (shell, admin): its holder is gone
    _age(reservation, 2)

    assert services.placement_release_expired() == [reservation.pk]
    assert Reservation.objects.get(pk=reservation.pk).state == choices.ReservationState.RELEASED


def test_the_sweep_is_a_beat_task():
    entry = settings.CELERY_BEAT_SCHEDULE["infrastructure-expire-reservations"]
    assert entry["task"] == "infrastructure.release_expired_reservations"
    assert float(str(entry["schedule"])) <= 3600
    assert "infrastructure.release_expired_reservations" in celery_app.tasks


def test_admin_filter_lists_what_the_next_run_releases(small_fleet, admin_client):
    old = _reserve(small_fleet)
    young = _reserve(small_fleet)
    _age(old, 2)
    html = admin_client.get("/admin/infrastructure/reservation/", {"expired": "yes"}).content.decode()
    assert str(old.pk) in html and str(young.pk) not in html
