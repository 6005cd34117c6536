"""Races on volumes against real PostgreSQL: exactly one outcome each, nothing half-done."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.core.errors import ApplicationError
from apps.infrastructure.models import ClusterStorage
from apps.instances.models import Action
from apps.volumes import services
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from tests.volumes.conftest import server_row

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` at once in threads (one connection each); their results or the ApplicationError raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except ApplicationError as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _create(env, name: str, size_gb: int):
    return lambda: services.volume_create(
        actor=env.personas.owner,
        organisation=env.personas.org,
        project=env.personas.project,
        name=name,
        tier=env.tier,
        size_gb=size_gb,
        datacentre=env.shop.dc,
    )


def test_two_creates_racing_for_the_last_capacity_give_one_volume(volumes_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    results = _race(_create(volumes_env, "a", 400), _create(volumes_env, "b", 400))
    won = [r for r in results if not isinstance(r, ApplicationError)]
    lost = [r for r in results if isinstance(r, ApplicationError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "capacity_exhausted"
    assert ClusterStorage.objects.get(pk=volumes_env.storage.pk).reserved_gb == 400
    assert Volume.objects.count() == 1


def test_two_attaches_of_one_volume_give_exactly_one_winner(volumes_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    volume, _action = _create(volumes_env, "data", 50)()
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.AVAILABLE, volid="ceph-nvme:vm-899999-disk-0")
    volume.actions.update(status="success")
    one = server_row(volumes_env, name="one", vmid=100_601)
    two = server_row(volumes_env, name="two", vmid=100_602)
    owner = volumes_env.personas.owner
    results = _race(
        lambda: services.volume_attach(actor=owner, volume=volume, server=one),
        lambda: services.volume_attach(actor=owner, volume=volume, server=two),
    )
    won = [r for r in results if not isinstance(r, ApplicationError)]
    lost = [r for r in results if isinstance(r, ApplicationError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "volume_busy"
    volume.refresh_from_db()
    assert volume.status == VolumeStatus.ATTACHING
    assert volume.server_id == won[0].params["server_id"]
    assert Action.objects.filter(resource_type="volume", resource_id=volume.public_id, type="attach").count() == 1


def _available_volume(env, name: str = "data", size_gb: int = 50) -> Volume:
    volume, _action = _create(env, name, size_gb)()
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.AVAILABLE, volid=f"ceph-nvme:vm-899999-{name}")
    volume.actions.update(status="success")
    volume.refresh_from_db()
    return volume


def test_two_attaches_leave_one_open_action_naming_the_winner_server(volumes_env, monkeypatch):
    """The shared Action table holds exactly one open action for the volume, on the winning server only."""
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    volume = _available_volume(volumes_env)
    servers = [server_row(volumes_env, name=f"s{i}", vmid=100_700 + i) for i in range(4)]
    owner = volumes_env.personas.owner
    results = _race(*(lambda s=s: services.volume_attach(actor=owner, volume=volume, server=s) for s in servers))
    won = [r for r in results if not isinstance(r, ApplicationError)]
    assert len(won) == 1 and all(r.code == "volume_busy" for r in results if isinstance(r, ApplicationError))
    open_actions = list(volume.actions.filter(status__in=["pending", "running"]))
    assert [a.pk for a in open_actions] == [won[0].pk]
    volume.refresh_from_db()
    assert open_actions[0].instance_id == volume.server_id == won[0].params["server_id"]
    others = [s.pk for s in servers if s.pk != volume.server_id]
    assert not Action.objects.filter(instance_id__in=others).exists()


def test_attach_racing_delete_gives_exactly_one_outcome(volumes_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    volume = _available_volume(volumes_env)
    server = server_row(volumes_env, name="one", vmid=100_801)
    owner = volumes_env.personas.owner
    results = _race(
        lambda: services.volume_attach(actor=owner, volume=volume, server=server),
        lambda: services.volume_delete(actor=owner, volume=Volume.objects.get(pk=volume.pk)),
    )
    won = [r for r in results if not isinstance(r, ApplicationError)]
    assert len(won) == 1
    volume.refresh_from_db()
    if won[0].type == "attach":
        assert (volume.status, volume.server_id) == (VolumeStatus.ATTACHING, server.pk)
    else:
        assert (volume.status, volume.server_id) == (VolumeStatus.DELETING, None)
    assert volume.actions.filter(status="pending").count() == 1


def test_two_grows_reserve_the_difference_once(volumes_env, monkeypatch):
    monkeypatch.setattr("apps.instances.services.actions.task_enqueue", lambda *args: None)
    volume = _available_volume(volumes_env, size_gb=50)
    server = server_row(volumes_env, name="one", vmid=100_901)
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.IN_USE, server=server, slot="scsi1")
    volume.refresh_from_db()
    before = ClusterStorage.objects.get(pk=volumes_env.storage.pk).reserved_gb
    owner = volumes_env.personas.owner
    results = _race(
        lambda: services.volume_resize(actor=owner, volume=Volume.objects.get(pk=volume.pk), size_gb=80),
        lambda: services.volume_resize(actor=owner, volume=Volume.objects.get(pk=volume.pk), size_gb=80),
    )
    won = [r for r in results if not isinstance(r, ApplicationError)]
    assert len(won) == 1
    # The loser's reservation rolled back with its transaction: the storage holds the 30 GB once.
    assert ClusterStorage.objects.get(pk=volumes_env.storage.pk).reserved_gb == before + 30
