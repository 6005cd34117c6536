"""Probes: /healthz answers without touching any service, /readyz names what is down."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from apps.core import health


@pytest.fixture(autouse=True)
def _fresh_migration_state():
    health.forget_migrations_state()
    yield
    health.forget_migrations_state()


@pytest.mark.django_db
def test_healthz_answers_without_a_database_query(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(queries) == 0
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_while_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_is_ok_when_every_dependency_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "migrations"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:1//")
def test_readyz_is_503_when_the_broker_is_unreachable(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"
    # The reason is logged, not shown to anonymous callers (it may name internal hosts).
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
)
def test_readyz_is_503_when_the_cache_is_unreachable(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["status"] == "fail"


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_is_pending(client, monkeypatch):
    monkeypatch.setattr(health, "pending_migrations", lambda: ["billing.0042_future"])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"]["status"] == "fail"


@pytest.mark.django_db
def test_pending_migrations_is_empty_on_a_migrated_database():
    assert health.pending_migrations() == []


@pytest.mark.django_db
def test_readyz_reads_the_migration_graph_once_per_process(client, monkeypatch):
    calls = []

    def counting() -> list[str]:
        calls.append(1)
        return []

    monkeypatch.setattr(health, "pending_migrations", counting)
    client.get("/readyz")
    client.get("/readyz")
    assert len(calls) == 1
