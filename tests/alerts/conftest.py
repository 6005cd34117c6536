"""Fixtures for alert tests: a running server on the Proxmox simulator and a webhook receiver.

``running_server`` creates a VPS of ``personas.org`` through the real provisioning (eager, on the
``fleet`` of tests/instances/conftest.py) and labels it ``env=prod``; ``webhook_receiver`` is a
loopback HTTP server that records what it receives and answers ``statuses`` in turn, then 200.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from apps.infrastructure.proxmox.types import RrdPoint
from apps.instances.models import Instance
from tests.instances.conftest import _fast_driver, create_instance, fleet  # noqa: F401 - fixtures


@pytest.fixture
def running_server(fleet, personas, django_capture_on_commit_callbacks) -> Instance:  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        server, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    server.refresh_from_db()
    assert server.status == "running"
    Instance.objects.filter(pk=server.pk).update(labels={"env": "prod"})
    # Started an hour ago, so rrddata holds a full window of points (the simulator reports none before start).
    with fleet.sim.cluster.lock:
        fleet.sim.cluster.vms[server.vmid].started_at -= 3600
    server.refresh_from_db()
    return server


@dataclass
class WebhookReceiver:
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def webhook_receiver(settings) -> Iterator[WebhookReceiver]:
    settings.ALERTS_WEBHOOK_ALLOW_LOOPBACK = True
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
    yield receiver
    server.shutdown()
    server.server_close()


def server_row(shop: Any, personas: Any, *, name: str = "db-1", vmid: int = 100_700, **fields: Any) -> Instance:
    """A running server row of Acme's default project on the shop's cluster (no Proxmox behind it)."""
    from tests import factories

    return factories.server_row(personas, shop, name=name, vmid=vmid, **fields)


def points(cpu: float, *, minutes: int = 10, now: float | None = None) -> list[RrdPoint]:
    """``rrddata`` points of the last ``minutes``, one a minute, at ``cpu`` (a fraction)."""
    end = int(now if now is not None else time.time()) // 60 * 60
    return [RrdPoint(time=end - 60 * i, cpu=cpu, mem=1.0, maxmem=4.0, netin=10.0, netout=5.0) for i in range(minutes)]
