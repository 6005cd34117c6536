"""`make run` preparation: the migrated template database and the one-process preparation step."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import sqlite3
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def _dbtemplate():
    spec = importlib.util.spec_from_file_location("dbtemplate", ROOT / "scripts" / "dbtemplate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_template(tmp_path, monkeypatch):
    """A template of one table whose manifest records one migration file of a fake repository."""
    module = _dbtemplate()
    repo = tmp_path / "repo"
    migration = repo / "apps" / "x" / "migrations" / "0001_initial.py"
    migration.parent.mkdir(parents=True)
    migration.write_text("# the migration\n")
    db = tmp_path / "built.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE django_migrations (app TEXT, name TEXT)")
        conn.execute("INSERT INTO django_migrations VALUES ('x', '0001_initial')")
    conn.close()
    data = tmp_path / "data"
    data.mkdir()
    with gzip.open(data / "empty-db.sqlite3.gz", "wb") as out:
        out.write(db.read_bytes())
    sha = hashlib.sha256(migration.read_bytes()).hexdigest()
    entry = {"app": "x", "name": "0001_initial", "file": "repo:apps/x/migrations/0001_initial.py", "sha256": sha}
    (data / "empty-db.json").write_text(json.dumps({"migrations": [entry]}))
    monkeypatch.setattr(module, "ROOT", repo)
    monkeypatch.setattr(module, "TEMPLATE", data / "empty-db.sqlite3.gz")
    monkeypatch.setattr(module, "MANIFEST", data / "empty-db.json")
    return module, migration, tmp_path / "var" / "db.sqlite3"


def test_the_template_becomes_the_first_database(fake_template):
    module, _migration, target = fake_template
    module.restore(target)
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT app, name FROM django_migrations").fetchall() == [("x", "0001_initial")]


def test_a_changed_migration_makes_the_template_unusable(fake_template, capsys):
    module, migration, target = fake_template
    migration.write_text("# edited after the template was built\n")
    module.restore(target)
    assert not target.exists()
    assert "x.0001_initial changed" in capsys.readouterr().out


def test_an_existing_database_is_never_replaced(fake_template):
    module, _migration, target = fake_template
    target.parent.mkdir(parents=True)
    target.write_bytes(b"the user's data")
    module.restore(target)
    assert target.read_bytes() == b"the user's data"


def test_the_committed_template_matches_the_committed_migrations():
    """Else the first make run silently migrates from zero: rebuild with scripts/dbtemplate.py build."""
    module = _dbtemplate()
    manifest = json.loads(module.MANIFEST.read_text())["migrations"]
    assert len(manifest) > 40
    stale = [
        f"{e['app']}.{e['name']}"
        for e in manifest
        if not module._resolve(e["file"]).is_file()
        or hashlib.sha256(module._resolve(e["file"]).read_bytes()).hexdigest() != e["sha256"]
    ]
    assert stale == []


@pytest.mark.django_db
def test_run_prepare_skips_migrate_on_an_up_to_date_database_and_prints_the_logins(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    out = StringIO()
    call_command("run_prepare", stdout=out)
    text = out.getvalue()
    assert "database up to date" in text
    assert "http://127.0.0.1:8123/" in text
    assert "@vmcloud.test" in text
