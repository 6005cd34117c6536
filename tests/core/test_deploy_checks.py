"""Production refuses to start without Redis and an explicit field encryption key; check --deploy says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import Error
from django.test.utils import override_settings

from apps.core import checks

ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "x3Rk3V1aZbq0oG1J6R5m8f0p4cQm2s9uYw7tL1nB3dE="


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "FIELD_ENCRYPTION", "DJANGO_SET"))}
    env.update({"SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "portal.vmcloud.example", **extra})
    return env


def _import_production(**extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import config.settings.production"],
        cwd=ROOT,
        env=_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_redis_or_an_encryption_key():
    neither = _import_production()
    assert neither.returncode != 0
    assert "ImproperlyConfigured" in neither.stderr
    assert "REDIS_URL and FIELD_ENCRYPTION_KEY" in neither.stderr
    no_key = _import_production(REDIS_URL="redis://127.0.0.1:6379/15")
    assert no_key.returncode != 0
    assert "Production needs FIELD_ENCRYPTION_KEY" in no_key.stderr
    no_redis = _import_production(FIELD_ENCRYPTION_KEY=FERNET_KEY)
    assert no_redis.returncode != 0
    assert "Production needs REDIS_URL" in no_redis.stderr
    both = _import_production(REDIS_URL="redis://127.0.0.1:6379/15", FIELD_ENCRYPTION_KEY=FERNET_KEY)
    assert both.returncode == 0, both.stderr


def test_check_deploy_reports_the_missing_cache_and_key(tmp_path):
    # `make run`'s settings start without them (development), but check --deploy names both. Its SQLite
    # file goes to a temporary var/: an empty var/db.sqlite3 left in the checkout would make the next
    # `make run` skip the migrated template and run every migration.
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_env(DJANGO_SETTINGS_MODULE="config.settings.local", VMCLOUD_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "vmcloud.E001" in output
    assert "vmcloud.E002" in output


@override_settings(REDIS_URL="", CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_shared_cache_check_fails_without_redis():
    assert [e.id for e in checks.shared_cache_check()] == ["vmcloud.E001"]


def test_shared_cache_check_passes_with_redis():
    assert checks.shared_cache_check() == []  # the test settings use Redis


@pytest.mark.parametrize(("key", "ids"), [("", ["vmcloud.E002"]), (FERNET_KEY, [])])
def test_field_encryption_key_check(settings, key, ids):
    settings.FIELD_ENCRYPTION_KEY = key
    assert [e.id for e in checks.field_encryption_key_check()] == ids


def test_a_proxy_without_trusted_proxies_is_a_warning(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = []
    assert [w.id for w in checks.trusted_proxies_deploy_check()] == ["vmcloud.W003"]
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert checks.trusted_proxies_deploy_check() == []


def test_a_malformed_trusted_proxy_is_an_error(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "not-a-network"]
    found = checks.trusted_proxies_check()
    assert [e.id for e in found] == ["vmcloud.E004"]
    assert isinstance(found[0], Error)
