"""A migrated, empty SQLite database for the first `make run`, so a newcomer does not wait for migrations.

Running every migration from zero costs minutes (one dj-stripe migration alone
removes 514 fields, each a SQLite table rebuild). ``build`` applies the
third-party apps' migrations (and the few project migrations they depend on)
to an empty SQLite file once and stores it gzipped in scripts/data/, with the
SHA-256 of every migration file it applied. ``restore`` copies it to var/db.sqlite3 only
when every one of those files is unchanged (same path, same content), so the
template can never disagree with the code; ``migrate`` then applies only the
migrations added since. Any mismatch: nothing is copied and migrate runs from
zero, as before. Run with the virtualenv's Python:

    .venv/bin/python scripts/dbtemplate.py build     # after adding migrations (optional)
    .venv/bin/python scripts/dbtemplate.py restore   # scripts/run.sh does this
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "scripts" / "data"
TEMPLATE = DATA / "empty-db.sqlite3.gz"
MANIFEST = DATA / "empty-db.json"
SITE = Path(sysconfig.get_paths()["purelib"])
sys.path.insert(0, str(ROOT))  # the project's packages (config, apps) for django.setup()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _migration_files() -> dict[tuple[str, str], Path]:
    """(app_label, migration name) -> file, for every installed app (needs Django set up)."""
    import django
    from django.apps import apps

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    files = {}
    for config in apps.get_app_configs():
        folder = Path(config.path) / "migrations"
        for file in folder.glob("[0-9]*.py"):
            files[(config.label, file.stem)] = file
    return files


def _where(path: Path) -> str:
    """Installed packages relative to site-packages (wherever the virtualenv is), the project's to the repository."""
    try:
        return "site:" + path.relative_to(SITE).as_posix()
    except ValueError:
        return "repo:" + path.relative_to(ROOT).as_posix()


def _resolve(where: str) -> Path:
    kind, rel = where.split(":", 1)
    return (ROOT if kind == "repo" else SITE) / rel


def build() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "VMCLOUD_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
        env.pop("DATABASE_URL", None)
        # Third-party apps only (with the project migrations they depend on: the user and
        # organisation models): they change only with a pinned version, so the template
        # stays valid while the project's own migrations move on.
        code = (
            "import django; django.setup()\n"
            "from pathlib import Path\n"
            "from django.apps import apps\n"
            "from django.core.management import call_command\n"
            f"root = Path({str(ROOT)!r})\n"
            "for config in apps.get_app_configs():\n"
            "    if root / 'apps' not in Path(config.path).parents and (Path(config.path) / 'migrations').is_dir():\n"
            "        call_command('migrate', config.label, interactive=False, verbosity=1)\n"
        )
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        db = Path(tmp) / "db.sqlite3"
        with sqlite3.connect(db) as conn:
            applied = conn.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
            conn.execute("PRAGMA journal_mode=DELETE")
        sqlite3.connect(db).execute("VACUUM").connection.close()
        files = _migration_files()
        entries = []
        for app, name in applied:
            file = files.get((app, name))
            if file is None:  # a squashed or removed migration: recorded but without a file to check
                continue
            entries.append({"app": app, "name": name, "file": _where(file), "sha256": _sha(file)})
        DATA.mkdir(parents=True, exist_ok=True)
        with db.open("rb") as src, gzip.open(TEMPLATE, "wb", compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
    MANIFEST.write_text(json.dumps({"migrations": entries}, indent=1) + "\n")
    print(f"template: {len(entries)} migrations, {TEMPLATE.stat().st_size // 1024} KiB")


def restore(target: Path) -> int:
    if target.exists():
        print("database exists: template not needed")
        return 0
    if not (TEMPLATE.exists() and MANIFEST.exists()):
        print("no template: migrating from zero")
        return 0
    for entry in json.loads(MANIFEST.read_text())["migrations"]:
        path = _resolve(entry["file"])
        if not path.is_file() or _sha(path) != entry["sha256"]:
            print(f"template out of date ({entry['app']}.{entry['name']} changed): migrating from zero")
            return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with gzip.open(TEMPLATE, "rb") as src, partial.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    partial.rename(target)
    print("database created from the migrated template (scripts/data/empty-db.sqlite3.gz)")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "build":
        build()
    elif command == "restore":
        var = Path(os.environ.get("VMCLOUD_VAR_DIR", ROOT / "var"))
        sys.exit(restore(var / "db.sqlite3"))
    else:
        sys.exit(__doc__)
