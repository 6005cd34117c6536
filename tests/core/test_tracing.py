"""OpenTelemetry is off unless the standard OTLP variables are set, and never breaks a start."""

from __future__ import annotations

import builtins
import logging

import pytest

from config import otel


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(otel, "_configured", False)


def test_tracing_is_off_without_an_otlp_endpoint(monkeypatch):
    imported = []
    real_import = builtins.__import__

    def spy(name, *args, **kwargs):
        if name.startswith("opentelemetry"):
            imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", spy)
    assert otel.setup("vmcloud-test") is False
    assert imported == []


def test_the_sdk_kill_switch_wins(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert otel.enabled() is False


def test_an_endpoint_without_the_packages_warns_and_starts_anyway(monkeypatch, caplog):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    real_import = builtins.__import__

    def no_otel(name, *args, **kwargs):
        if name.startswith("opentelemetry"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_otel)
    with caplog.at_level(logging.WARNING, logger="config.otel"):
        assert otel.setup("vmcloud-test") is False
    assert "requirements/otel.txt" in caplog.text
