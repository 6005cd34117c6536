"""Billing periods follow the lifecycle: start at first run, reprice at resize, stop at deletion or loss."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.instances import services
from apps.instances.choices import InstanceStatus
from apps.instances.models import InstancePricePeriod
from tests.instances.conftest import create_instance

pytestmark = pytest.mark.django_db


def periods(instance):
    return list(InstancePricePeriod.objects.filter(instance=instance).order_by("started_at", "id"))


def test_a_server_is_billed_from_its_first_run_at_the_frozen_price(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        instance, _action = create_instance(fleet, personas)
    assert periods(instance) == []  # provisioning is not billed
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = create_instance(fleet, personas, name="web-2")
    instance.refresh_from_db()
    [period] = periods(instance)
    assert period.ended_at is None
    assert (period.offer_id, period.price_hourly, period.price_monthly) == (
        instance.offer_id,
        instance.price_hourly,
        instance.price_monthly,
    )


def test_stop_and_start_keep_one_period_resize_opens_a_new_one_and_delete_closes_it(
    fleet, personas, django_capture_on_commit_callbacks
):
    cap, owner = django_capture_on_commit_callbacks, personas.owner
    with cap(execute=True):
        instance, _action = create_instance(fleet, personas)
    with cap(execute=True):
        services.instance_stop(instance=instance, actor=owner)
    with cap(execute=True):
        services.instance_start(instance=instance, actor=owner)
    assert len(periods(instance)) == 1  # stopped servers keep billing: no new period, no gap

    big = fleet.gpu_offer_big
    asked_price = big.price_hourly
    with cap(execute=True):
        action = services.instance_resize(instance=instance, offer=big, actor=owner)
        # A catalogue price change after the request does not reach this resize.
        type(big).objects.filter(pk=big.pk).update(price_hourly=asked_price + Decimal("1"))
    action.refresh_from_db()
    instance.refresh_from_db()
    first, second = periods(instance)
    assert first.ended_at is not None and first.ended_at == second.started_at
    assert second.ended_at is None and second.offer_id == big.pk
    assert second.price_hourly == asked_price == instance.price_hourly

    with cap(execute=True):
        services.instance_delete(instance=instance, actor=owner)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.DELETED
    assert periods(instance)[-1].ended_at == instance.deleted_at
    assert not InstancePricePeriod.objects.filter(instance=instance, ended_at__isnull=True).exists()
