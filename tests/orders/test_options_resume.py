"""The safety net of order options (``order_options_resume``, run by the beat task ``orders.sync``): options
left ``pending`` (a task lost with the broker) are sent again, options left ``applying`` by a lost worker go
back to ``pending`` after ``OPTIONS_STALE``; fresh ones are left alone. Staff apply failed options again from the
back office."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.orders import services
from apps.orders.choices import OptionsStatus
from apps.orders.models import Order
from apps.orders.services import fulfilment
from apps.orders.task_names import APPLY_OPTIONS
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db


def test_lost_and_stale_options_are_sent_again_and_fresh_ones_left_alone(personas, shop, monkeypatch):
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(fulfilment, "task_enqueue", lambda name, *args: sent.append((name, args)))
    lost, stale, fresh, applied = (place(personas, shop, name=f"web-{i}") for i in range(1, 5))
    now = timezone.now()
    Order.objects.filter(pk=lost.pk).update(options_status=OptionsStatus.PENDING, updated_at=now - timedelta(minutes=5))
    Order.objects.filter(pk=stale.pk).update(
        options_status=OptionsStatus.APPLYING, updated_at=now - fulfilment.OPTIONS_STALE - timedelta(minutes=1)
    )
    Order.objects.filter(pk=fresh.pk).update(options_status=OptionsStatus.APPLYING, updated_at=now)
    Order.objects.filter(pk=applied.pk).update(options_status=OptionsStatus.APPLIED, updated_at=now - timedelta(days=1))

    assert services.order_options_resume(now=now + timedelta(minutes=2)) == 2
    assert sorted(args[0] for _name, args in sent) == sorted([lost.pk, stale.pk])
    assert {name for name, _args in sent} == {APPLY_OPTIONS}
    statuses = dict(Order.objects.values_list("pk", "options_status"))
    assert statuses[stale.pk] == OptionsStatus.PENDING and statuses[fresh.pk] == OptionsStatus.APPLYING
    assert statuses[applied.pk] == OptionsStatus.APPLIED


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return staff_user


def test_staff_apply_failed_options_again_from_the_back_office(personas, shop, staff, client, monkeypatch):
    sent: list[tuple] = []
    monkeypatch.setattr(fulfilment, "task_enqueue", lambda name, *args: sent.append((name, args)))
    failed, applied = place(personas, shop, name="web-1"), place(personas, shop, name="web-2")
    Order.objects.filter(pk=failed.pk).update(options_status=OptionsStatus.FAILED, options_errors=["Network x: gone"])
    Order.objects.filter(pk=applied.pk).update(options_status=OptionsStatus.APPLIED)
    page = client.get(reverse("admin:orders_order_change", args=[failed.pk]))
    assert page.status_code == 200 and "Network x: gone" in page.content.decode()
    data = {"action": "options_retry", helpers.ACTION_CHECKBOX_NAME: [str(failed.pk), str(applied.pk)]}
    assert client.post(reverse("admin:orders_order_changelist"), data).status_code == 302
    statuses = dict(Order.objects.values_list("pk", "options_status"))
    assert statuses == {failed.pk: OptionsStatus.PENDING, applied.pk: OptionsStatus.APPLIED}
    assert sent == [(APPLY_OPTIONS, (failed.pk,))]
    assert Order.objects.get(pk=failed.pk).options_errors == []
    assert AuditEvent.objects.filter(action="orders.order.options_retry", actor_user=staff).count() == 1
