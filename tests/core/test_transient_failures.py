"""What a transient failure leaves behind: a broker that is down, a deadlock PostgreSQL broke."""

from __future__ import annotations

import logging
import threading

import pytest
from celery import current_app
from django.db import OperationalError, connection, transaction
from kombu.exceptions import OperationalError as BrokerUnreachable

from apps.core.api.exceptions import api_exception_handler
from apps.core.models import UnsentTask
from apps.core.services import task_enqueue, unsent_tasks_resend


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_a_deadlock_the_database_broke_is_a_503_to_retry_not_a_500():
    error = OperationalError("deadlock detected")
    error.__cause__ = _Deadlock("deadlock detected")
    response = api_exception_handler(error, {})
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.data["error"]["code"] == "try_again"


def test_any_other_database_error_stays_a_500():
    response = api_exception_handler(OperationalError("disk full"), {})
    assert response.status_code == 500 and response.data["error"]["code"] == "server_error"


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_while_the_broker_is_down_is_logged_not_raised(monkeypatch, caplog):
    task = current_app.tasks["instances.run_action"]

    def refuse(*args, **kwargs):
        raise BrokerUnreachable("[Errno 111] Connection refused")

    monkeypatch.setattr(task, "delay", refuse)
    with caplog.at_level(logging.ERROR, logger="apps.core.services"):
        task_enqueue("instances.run_action", 42)  # outside a transaction: sent at once
    assert "instances.run_action(42,) not sent, the broker is unreachable" in caplog.text
    kept = UnsentTask.objects.get()
    assert (kept.task_name, kept.args, kept.attempts) == ("instances.run_action", [42], 1)
    assert "Connection refused" in kept.error


@pytest.mark.django_db(transaction=True)
def test_tasks_the_broker_refused_are_sent_again_once_it_is_back_and_only_once(monkeypatch):
    task = current_app.tasks["instances.run_action"]
    broker_up = False
    sent: list[tuple[int, ...]] = []

    def publish(*args):
        if not broker_up:
            raise BrokerUnreachable("[Errno 111] Connection refused")
        sent.append(args)

    monkeypatch.setattr(task, "delay", publish)
    with transaction.atomic():
        task_enqueue("instances.run_action", 1)
        task_enqueue("instances.run_action", 2)
    task_enqueue("instances.run_action", 3)
    assert sent == [] and UnsentTask.objects.count() == 3
    # Still down: the run stops at the first refusal and counts the attempt.
    assert unsent_tasks_resend() == (0, 3)
    assert UnsentTask.objects.order_by("id").first().attempts == 2
    broker_up = True
    # Two beat runs at once (two beat processes by mistake): every task is sent exactly once.
    results: list[tuple[int, int]] = []

    def run() -> None:
        try:
            results.append(unsent_tasks_resend())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sent) == [(1,), (2,), (3,)]
    assert sum(s for s, _w in results) == 3 and not UnsentTask.objects.exists()
    assert unsent_tasks_resend() == (0, 0)


@pytest.mark.django_db
def test_beat_sends_again_what_the_broker_refused_every_30_seconds(settings, monkeypatch):
    from apps.core import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["core-resend-unsent-tasks"]
    assert entry == {"task": tasks.resend_unsent_tasks.name, "schedule": 30.0}
    sent: list[tuple[int, ...]] = []
    monkeypatch.setattr(current_app.tasks["instances.run_action"], "delay", lambda *args: sent.append(args))
    UnsentTask.objects.create(task_name="instances.run_action", args=[7])
    assert tasks.resend_unsent_tasks() == 1 and sent == [(7,)]


@pytest.mark.django_db
def test_a_server_action_remembers_its_task_so_a_lost_message_is_sent_again(personas, shop, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from apps.instances import services
    from apps.instances.choices import ActionType
    from apps.instances.models import Action, Instance
    from apps.instances.services import actions as actions_module
    from apps.instances.services.access import action_open

    server = Instance.objects.create(
        organisation=personas.org,
        project=personas.project,
        name="web-1",
        offer=shop.vps,
        datacentre=shop.dc,
        image=shop.image,
        status="running",
        price_hourly="0.0137",
        price_monthly="9.99",
    )
    stop = action_open(instance=server, type=ActionType.STOP, actor=personas.member)
    assert stop.task_name == "instances.run_action"
    Action.objects.filter(pk=stop.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(actions_module, "task_enqueue", lambda name, pk: sent.append((name, pk)))
    assert services.resource_actions_resume() == [stop.pk]
    assert sent == [("instances.run_action", stop.pk)]
