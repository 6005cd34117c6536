"""A real Celery worker SIGKILLed in the middle of provisioning: the instance converges with exactly one VM.

What runs for real: a ``celery -A config worker`` subprocess (prefork, one
child) on a Redis broker (its own database, 9), connected to this test's
PostgreSQL database (``DATABASE_URL``; ``transaction=True`` so what the test
writes is committed and visible to it), talking over HTTPS to the Proxmox
simulator this test runs in a thread, with tasks that take a few seconds.

The test orders an instance, waits until the clone's UPID is persisted (the
clone is running in the simulator), SIGKILLs the worker's whole process group
(main process and pool child: nothing can ack or reject the message), starts a
new worker, and waits. The message was never acknowledged (``acks_late``), so
kombu's Redis transport restores it once its visibility timeout has passed
(docs/dev/dependencies.md#celery-redis-redelivery: lowered here to seconds, and the restore sweep to
every second, through ``CELERY_BROKER_TRANSPORT_OPTIONS``). The redelivered
task claims its own Action again (same Celery task id), finds ``clone_upid``,
waits for that clone instead of cloning again, and finishes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import current_app
from django.db import connection

from apps.instances.choices import ActionStatus, InstanceStatus, ProvisionStep
from apps.instances.models import Action, Instance
from tests.instances.conftest import create_instance, sim_vms

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BROKER_URL = "redis://127.0.0.1:6379/9"  # a Redis database no other suite uses
# Every key under a prefix of this run, so parallel runs (other TEST_DB_SUFFIX) never share queues.
KEY_PREFIX = f"vmcloud-killtest{os.environ.get('TEST_DB_SUFFIX', '')}-{os.getpid()}:"
# Restore a dead worker's unacked message 6 s after its delivery, checked every second. The
# visibility timeout must stay above the time one delivery runs before being killed (~2-4 s here).
TRANSPORT_OPTIONS = {
    "visibility_timeout": 6,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "global_keyprefix": KEY_PREFIX,
}
SIM_TASK_SECONDS = 3.0
CONVERGE_SECONDS = 90
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """One ``celery worker`` process group; ``kill()`` is SIGKILL to the whole group."""

    def __init__(self, name: str, log: Path) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(TRANSPORT_OPTIONS),
        }
        self.log = log
        self._file = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--prefetch-multiplier=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
                f"--hostname={name}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches the pool child too
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"worker did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._file.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._file.close()


@pytest.fixture
def redis_broker() -> Iterator[None]:
    """Send this test's tasks to the Redis broker instead of running them eagerly, then restore the app."""
    client = redis.Redis.from_url(BROKER_URL)

    def clean() -> None:
        keys = list(client.scan_iter(match=f"{KEY_PREFIX}*"))
        if keys:
            client.delete(*keys)

    clean()
    conf = current_app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.broker_transport_options)
    conf.task_always_eager, conf.broker_url, conf.broker_transport_options = False, BROKER_URL, TRANSPORT_OPTIONS
    current_app._pool = None  # type: ignore[attr-defined]  # connection pools are built lazily from the URL
    current_app.amqp._producer_pool = None
    try:
        yield
    finally:
        current_app.pool.force_close_all()
        conf.task_always_eager, conf.broker_url, conf.broker_transport_options = saved
        current_app._pool = None  # type: ignore[attr-defined]
        current_app.amqp._producer_pool = None
        clean()
        client.close()


def _wait(predicate, timeout: float, what: str, logs: list[Path]):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(f"--- {log.name}\n{log.read_text()[-4000:]}" for log in logs if log.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def test_sigkilled_worker_mid_clone_converges_to_one_running_vm(fleet, personas, redis_broker, tmp_path):
    fleet.sim.set_task_seconds(SIM_TASK_SECONDS)
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    first = Worker("kill1", logs[0])
    second: Worker | None = None
    try:
        first.wait_ready()
        instance, action = create_instance(fleet, personas, offer=fleet.vps_offer, name="survivor")

        # The clone's identity is committed before the worker waits on it: kill it right then.
        _wait(
            lambda: Instance.objects.filter(pk=instance.pk).exclude(clone_upid="").exists(),
            30,
            "the clone UPID",
            logs,
        )
        first.kill()
        killed = Instance.objects.get(pk=instance.pk)
        assert killed.status == InstanceStatus.PROVISIONING
        assert killed.provision_step == ProvisionStep.CLONE
        assert Action.objects.get(pk=action.pk).status == ActionStatus.RUNNING
        assert len(sim_vms(fleet.sim)) == 1  # the clone in flight

        second = Worker("kill2", logs[1])
        second.wait_ready()
        _wait(
            lambda: (
                Instance.objects.filter(pk=instance.pk, status=InstanceStatus.RUNNING).exists()
                or Instance.objects.filter(pk=instance.pk, status=InstanceStatus.ERROR).exists()
            ),
            CONVERGE_SECONDS,
            "the instance to converge",
            logs,
        )
    finally:
        first.kill()
        if second is not None:
            second.stop()

    instance.refresh_from_db()
    action.refresh_from_db()
    assert (instance.status, instance.error_detail) == (InstanceStatus.RUNNING, "")
    assert instance.provision_step == ProvisionStep.DONE
    assert action.status == ActionStatus.SUCCESS
    assert action.attempts == 2  # the killed delivery, then the redelivered one
    vms = sim_vms(fleet.sim)
    assert list(vms) == [instance.vmid]  # exactly one VM: the resumed task waited for the clone
    assert vms[instance.vmid].config["name"] == "survivor"
    assert vms[instance.vmid].running
