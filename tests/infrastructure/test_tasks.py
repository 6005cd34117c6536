"""The periodic sync task: fan-out per cluster, retries on transient driver errors only."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry

from apps.infrastructure import choices, services, tasks
from apps.infrastructure.proxmox import ProxmoxAuthError, ProxmoxTransientError
from tests.infrastructure.factories import ClusterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(services, "inventory_sync", lambda **kw: seen.append(kw["cluster"].pk))
    return seen


def test_sync_inventory_queues_every_active_cluster(calls, django_capture_on_commit_callbacks):
    active = [ClusterFactory(), ClusterFactory()]
    ClusterFactory(status=choices.ClusterStatus.DISABLED)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sync_inventory.delay()
    assert sorted(calls) == sorted(c.pk for c in active)


def test_sync_cluster_ignores_a_gone_or_disabled_cluster(calls):
    tasks.sync_cluster.delay(123456)
    tasks.sync_cluster.delay(ClusterFactory(status=choices.ClusterStatus.DISABLED).pk)
    assert calls == []


def test_transient_errors_are_retried_with_backoff(monkeypatch):
    def failing(**kw):
        raise ProxmoxTransientError("595 no route to host")

    monkeypatch.setattr(services, "inventory_sync", failing)
    # Eager mode surfaces the scheduled retry as celery's Retry exception.
    with pytest.raises(Retry) as exc:
        tasks.sync_cluster.delay(ClusterFactory().pk)
    assert isinstance(exc.value.exc, ProxmoxTransientError)
    assert 15 <= float(exc.value.when) <= 30  # first retry: 30 s with jitter


def test_permanent_errors_are_not_retried(monkeypatch):
    attempts = []

    def failing(**kw):
        attempts.append(1)
        raise ProxmoxAuthError("authentication failure", status_code=401)

    monkeypatch.setattr(services, "inventory_sync", failing)
    tasks.sync_cluster.delay(ClusterFactory().pk)
    assert len(attempts) == 1
