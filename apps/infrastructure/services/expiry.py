"""Expiry of placement reservations nobody holds: the safety net behind ``placement_release``.

``placement_reserve`` is called inside the transaction that also records its
holder (``apps.orders`` places an order and stores ``order.reservation`` in
one transaction; the instance created from the order points at the same
reservation). Every holder gives the reservation back itself: an order that is
cancelled, rejected or fails releases it, a deleted instance releases it, and
the instances reconcile task releases the reservation of an instance stuck
past its deadline. A reservation can therefore only be left ``reserved``
forever by something outside that flow: a holder row deleted by hand (admin,
shell), a script or test that reserved and crashed, a future caller that
reserves in one transaction and attaches in another.

What counts as *unused*, decided here:

* state ``reserved`` (never committed: no VM was ever delivered on it), and
* created more than ``RESERVATION_TTL`` ago, and
* **no row of any other app references it.** This app cannot import the apps
  above it, so it asks Django's model registry for every foreign key or
  one-to-one field that points at ``Reservation`` outside this app (today
  ``orders.Order.reservation`` and ``instances.Instance.reservation``) and
  treats any referencing row as a holder, whatever its state.

So an order **awaiting staff approval keeps its capacity for as long as the
approval takes**: approving delivers on it, rejecting releases it (the admin
queue shows the order's age, and staff are expected to decide). A provisioning
or failed instance keeps it too: the reconcile task and the order's own
transitions decide its fate, not this sweep. Committed reservations are never
touched: their VM exists, and only its deletion frees them.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable

from django.apps import apps as django_apps
from django.db import models, transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.services import audit_record
from apps.infrastructure import choices
from apps.infrastructure.models import Reservation
from apps.infrastructure.services.placement import placement_release

logger = logging.getLogger(__name__)

# How long an unreferenced reservation may stay ``reserved``. Holders attach in
# the reserving transaction, so any delay is safe for today's callers; an hour
# leaves room for a caller that attaches later, and frees a leak within the hour.
RESERVATION_TTL = dt.timedelta(hours=1)
# Reservations examined per run (oldest first); the next run takes the rest.
SWEEP_BATCH = 500


def reservation_holder_fields() -> list[tuple[type[models.Model], str]]:
    """(model, column) of every relation to ``Reservation`` from another app: who can hold one."""
    found: list[tuple[type[models.Model], str]] = []
    for model in django_apps.get_models():
        if model._meta.app_label == Reservation._meta.app_label:
            continue  # our own ledger rows (GPUs, VMIDs, addresses) belong to the reservation
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Reservation:
                found.append((model, field.attname))
    return found


def _held(ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    ids = list(ids)
    held: set[uuid.UUID] = set()
    if not ids:
        return held
    for model, column in reservation_holder_fields():
        # _base_manager: a custom default manager must not hide a holder.
        held.update(model._base_manager.filter(**{f"{column}__in": ids}).values_list(column, flat=True))
    return held


def reservations_expired(*, now: dt.datetime | None = None, ttl: dt.timedelta = RESERVATION_TTL) -> list[uuid.UUID]:
    """Ids of reservations the sweep would release now (oldest first, at most ``SWEEP_BATCH``)."""
    cutoff = (now or timezone.now()) - ttl
    candidates = list(
        Reservation.objects.filter(state=choices.ReservationState.RESERVED, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    held = _held(candidates)
    return [pk for pk in candidates if pk not in held]


def placement_release_expired(
    *, now: dt.datetime | None = None, ttl: dt.timedelta = RESERVATION_TTL, actor: Actor = None
) -> list[uuid.UUID]:
    """Release every reservation left ``reserved`` past ``ttl`` that nothing holds; returns their ids.

    Each one is re-checked under its row lock (still ``reserved``, still
    unreferenced) and released through ``placement_release`` (node share,
    GPUs, VMID and addresses back to the pools), with an
    ``infrastructure.reservation.expire`` audit event in the same transaction.
    """
    released: list[uuid.UUID] = []
    for pk in reservations_expired(now=now, ttl=ttl):
        with transaction.atomic():
            locked = Reservation.objects.select_for_update(no_key=True).filter(pk=pk).first()
            if locked is None or locked.state != choices.ReservationState.RESERVED or _held([pk]):
                continue
            age = (now or timezone.now()) - locked.created_at
            placement_release(reservation=locked, actor=actor)
            audit_record(
                actor=actor,
                action="infrastructure.reservation.expire",
                target=locked,
                changes={
                    "vmid": locked.vmid,
                    "node_id": locked.node_id,
                    "holder_ref": str(locked.holder_ref) if locked.holder_ref else None,
                    "age_seconds": int(age.total_seconds()),
                },
            )
        released.append(pk)
    if released:
        logger.warning("released %d unused placement reservation(s) older than %s", len(released), ttl)
    return released
