"""Restore drill: back up a platform with organisations, servers, invoices and the ledger
(scripts/backup.sh), restore it into a fresh database (scripts/restore.sh) and check the
restored platform (manage.py consistency_check). Docs: apps/docs/content/runbook-restore.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from apps.billing.models import Invoice, UsageRecord
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.portal.selectors import platform_consistency
from tests.billing.fixtures_invoices import buyer, issued_invoice, move, offers, server, utc  # noqa: F401
from tests.infrastructure.factories import ClusterFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _admin(sql: str) -> None:
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def fresh_database():
    name = f"{connection.settings_dict['NAME']}_restored"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _platform(offers):  # noqa: F811
    """Three organisations, five servers with their VMs, a month of ledger and three issued invoices."""
    from apps.billing.services import vat_rates_seed

    vat_rates_seed()  # transactional tests flush data migrations' rows (tests/billing/conftest.py)
    cluster = ClusterFactory()
    for index, name in enumerate(["Tamm", "Dupont", "Smith"]):
        org = buyer(name, country="EE")
        for n in range(2 if index < 2 else 1):
            instance = server(org, offers, "small", f"{name.lower()}-{n}")
            move(instance, InstanceStatus.RUNNING, utc(2026, 1, 3, 10, 0))
            Instance.objects.filter(pk=instance.pk).update(cluster=cluster, node_name="pve1", vmid=100 + index * 10 + n)
        issued_invoice(org, hours=50 + index, price="0.25")


def _run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", f"scripts/{script}", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_backup_restores_into_a_fresh_database_that_passes_the_consistency_checks(
    offers,  # noqa: F811
    fresh_database,
    tmp_path,
):
    _platform(offers)
    before = platform_consistency()
    assert before.ok, before.problems
    assert before.checked == {
        "invoice numbers": 3,
        "credit_note numbers": 0,
        "issued invoices": 3,
        "live instances": 5,
    }
    ledger_rows = UsageRecord.objects.count()
    numbers = sorted(Invoice.objects.values_list("number", flat=True))

    env = {
        **os.environ,
        "PYTHON_BIN": sys.executable,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _url(connection.settings_dict["NAME"]),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "SECRET_KEY": "drill-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "FIELD_ENCRYPTION_KEY": "drill-field-key",
    }
    backup = _run("backup.sh", env=env)
    assert backup.returncode == 0, backup.stdout + backup.stderr
    folder = Path(backup.stdout.strip().splitlines()[-1])
    assert (folder / "db.dump").stat().st_size > 0
    keys = (folder / "keys.env").read_text()
    assert "SECRET_KEY=drill-secret-key" in keys and "FIELD_ENCRYPTION_KEY=drill-field-key" in keys
    assert oct(folder.stat().st_mode & 0o777) == "0o700"

    restored = {**env, "DATABASE_URL": _url(fresh_database)}
    result = _run("restore.sh", str(folder), env=restored)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked 3 issued invoices" in result.stdout
    assert "checked 5 live instances" in result.stdout
    assert "consistency: ok" in result.stdout

    with psycopg.connect(_url(fresh_database)) as conn:
        assert conn.execute("select count(*) from billing_usagerecord").fetchone()[0] == ledger_rows
        assert sorted(r[0] for r in conn.execute("select number from billing_invoice")) == numbers

    # Restoring over a database that has data is refused.
    again = _run("restore.sh", str(folder), env=restored)
    assert again.returncode != 0
    assert "restore into an empty database" in again.stderr


def test_the_consistency_check_finds_a_gap_a_ledger_mismatch_and_an_unknown_vm(offers):  # noqa: F811
    _platform(offers)
    first = Invoice.objects.order_by("number").first()
    Invoice.objects.filter(pk=first.pk).update(subtotal=first.subtotal + 1)
    last = Invoice.objects.order_by("number").last()
    Invoice.objects.filter(pk=last.pk).update(number=last.number[:-6] + "000009")
    Instance.objects.filter(pk=Instance.objects.order_by("pk").first().pk).update(vmid=None)
    report = platform_consistency()
    text = "\n".join(report.problems)
    assert "invoice numbers of" in text and "missing [3]" in text
    assert f"invoice {first.number}: ledger re-rated" in text
    assert "has no cluster/node/VMID" in text
