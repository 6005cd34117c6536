"""Probes answer the kubelet, HAProxy and the compose health check, which call them by the
container's address over plain HTTP (apps/core/middleware.py ProbeMiddleware). Found by
running the compose stack: HAProxy's check got 400 (DisallowedHost) and marked every web
replica down."""

from __future__ import annotations

import pytest
from django.test import override_settings

from apps.core import health


@pytest.fixture(autouse=True)
def _fresh_migration_state():
    health.forget_migrations_state()
    yield
    health.forget_migrations_state()


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["cloud.example.com"], SECURE_SSL_REDIRECT=True)
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_probe_by_the_container_address_over_http_answers(client, path, monkeypatch):
    monkeypatch.setattr(health, "CHECKS", {"database": health.check_database})
    response = client.get(path, HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["cloud.example.com"], SECURE_SSL_REDIRECT=True)
def test_readyz_by_the_container_address_still_reports_a_dependency_down(client, monkeypatch):
    def broker_down() -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(health, "CHECKS", {"broker": broker_down})
    response = client.get("/readyz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] != "ok"


@override_settings(ALLOWED_HOSTS=["cloud.example.com"], SECURE_SSL_REDIRECT=True)
def test_other_pages_keep_the_host_check_and_the_https_redirect(client):
    assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400
    assert client.get("/", HTTP_HOST="cloud.example.com").status_code == 301
