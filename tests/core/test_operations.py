"""Running the platform as several processes: start order, Celery queues, the file broker's folders."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.core import health
from config.celery import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_wait_for_migrations_returns_at_once_on_a_migrated_database():
    out = StringIO()
    call_command("wait_for_migrations", "--timeout", "5", stdout=out)
    assert "all applied" in out.getvalue()


@pytest.mark.django_db
def test_wait_for_migrations_waits_until_the_migrate_job_is_done(monkeypatch):
    answers = [["billing.0099_new"], ["billing.0099_new"], []]
    monkeypatch.setattr(health, "pending_migrations", lambda: answers.pop(0))
    out = StringIO()
    call_command("wait_for_migrations", "--timeout", "10", "--interval", "0.01", stdout=out)
    assert "1 migrations pending" in out.getvalue()
    assert "all applied" in out.getvalue()
    assert answers == []


@pytest.mark.django_db
def test_wait_for_migrations_gives_up_after_its_timeout(monkeypatch):
    monkeypatch.setattr(health, "pending_migrations", lambda: ["billing.0099_new"])
    with pytest.raises(CommandError, match="gave up"):
        call_command("wait_for_migrations", "--timeout", "0.05", "--interval", "0.01", stdout=StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("instances.provision", "provisioning"),
        ("instances.run_action", "provisioning"),
        ("orders.sync", "provisioning"),
        ("infrastructure.sync_cluster", "provisioning"),
        ("billing.meter", "billing"),
        ("billing.invoices_issue", "billing"),
        ("billing.stripe_event_process", "billing"),
        ("billing.invoice_email", "notifications"),
        ("billing.budget_webhook_send", "notifications"),
        ("core.heartbeat", "default"),
        ("sso.purge_assertions", "default"),
    ],
)
def test_each_kind_of_work_has_its_queue(task, queue):
    app.loader.import_default_modules()
    assert task in app.tasks, "the route names a task that does not exist"
    assert app.amqp.router.route({}, task)["queue"].name == queue


@pytest.mark.django_db
def test_every_registered_task_lands_on_a_declared_queue():
    app.loader.import_default_modules()
    declared = set(app.amqp.queues)
    assert {"default", "provisioning", "billing", "notifications"} <= declared
    for name in app.tasks:
        if name.startswith("celery."):
            continue
        assert app.amqp.router.route({}, name)["queue"].name in declared, name


def test_file_broker_writes_nothing_in_the_working_directory(tmp_path):
    """kombu's file transport defaulted its control folder to ./control (in the repository,
    read-only for the image's user); a broadcast must land under VMCLOUD_VAR_DIR."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL", "DATABASE_URL"}}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "VMCLOUD_VAR_DIR": str(var),
        }
    )
    # What a starting worker does first: declare (and so bind) the queues it consumes.
    code = (
        "import os; from config.celery import app; "
        "os.makedirs(app.conf.broker_transport_options['data_folder_in'], exist_ok=True)\n"
        "with app.connection_for_write() as conn:\n"
        "    for queue in app.amqp.queues.values(): queue.bind(conn.default_channel).declare()"
    )
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, check=True, timeout=60)
    assert list(cwd.iterdir()) == []
    assert (var / "celery" / "control" / "provisioning.exchange").is_file()
