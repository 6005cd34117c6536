"""Every signal an app sends between apps has a receiver (docs/dev/style.md#events).

A signal nobody connects is an event lost in silence: ``managed.signals.service_fulfilment_started``
was sent for a while with no receiver, so a service staff had started on kept an order the customer
could still cancel. This walks every ``apps/*/signals.py`` once the apps are ready.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from django.dispatch import Signal

APPS = Path(__file__).resolve().parents[2] / "apps"


def _signals() -> dict[str, Signal]:
    found: dict[str, Signal] = {}
    for path in sorted(APPS.glob("*/signals.py")):
        module = importlib.import_module(f"apps.{path.parent.name}.signals")
        for name, value in vars(module).items():
            if isinstance(value, Signal):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_the_walk_finds_the_signals() -> None:
    names = set(_signals())
    assert {
        "apps.instances.signals.instance_status_changed",
        "apps.instances.signals.instance_labels_changed",
        "apps.networks.signals.server_network_changed",
        "apps.managed.signals.service_fulfilment_started",
    } <= names


def test_every_signal_between_apps_has_a_receiver() -> None:
    unheard = sorted(name for name, signal in _signals().items() if not signal.has_listeners())
    assert unheard == [], f"signals sent to nobody: connect a receiver in an AppConfig.ready(): {unheard}"
