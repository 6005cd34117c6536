"""Browser console: single-use audited tickets, the portal and API, and the WebSocket proxy end to end.

The proxy runs in a thread on a free port and bridges to the ``pvesim``
fixture's ``vncwebsocket`` (a real RFB 3.8 server with VNC authentication);
the test plays noVNC's part with the ``websockets`` client.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
import threading
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from apps.core.errors import Conflict, PermissionDenied
from apps.core.models import AuditEvent
from apps.instances.choices import InstanceStatus
from apps.instances.consoleproxy import start_proxy
from apps.instances.models import ConsoleSession, Instance
from apps.instances.services import console
from tests.instances.conftest import create_instance
from tests.pvesim_fixtures import make_driver


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def instance(fleet, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inst, _action = create_instance(fleet, personas, offer=fleet.vps_offer, name="web-1")
    inst.refresh_from_db()
    assert inst.status == InstanceStatus.RUNNING
    return inst


# ---------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_ticket_is_single_use_and_audited(personas, instance):
    ticket = console.console_ticket_issue(instance=instance, actor=personas.member)
    session = ConsoleSession.objects.get()
    assert session.token_hash != ticket.token and ticket.token not in session.token_hash  # only the hash is stored
    assert ticket.url.endswith(f"/console/{ticket.token}")
    upstream = console.console_ticket_redeem(token=ticket.token)
    assert "vncwebsocket" in upstream.url and upstream.password
    with pytest.raises(PermissionDenied):
        console.console_ticket_redeem(token=ticket.token)
    actions = list(AuditEvent.objects.filter(action__startswith="instances.console.").values_list("action", flat=True))
    assert sorted(actions) == ["instances.console.connect", "instances.console.open"]
    session.refresh_from_db()
    assert session.used_at is not None


@pytest.mark.django_db
def test_expired_ticket_is_refused(personas, instance):
    ticket = console.console_ticket_issue(instance=instance, actor=personas.member)
    ConsoleSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(PermissionDenied):
        console.console_ticket_redeem(token=ticket.token)
    assert not AuditEvent.objects.filter(action="instances.console.connect").exists()


@pytest.mark.django_db
def test_unknown_ticket_is_refused(personas, instance):
    with pytest.raises(PermissionDenied):
        console.console_ticket_redeem(token="x" * 43)


@pytest.mark.django_db
def test_viewer_cannot_open_console(personas, instance):
    with pytest.raises(PermissionDenied):
        console.console_ticket_issue(instance=instance, actor=personas.viewer)
    response = client_for(personas.viewer).post(f"/servers/{instance.public_id}/console/")
    assert response.status_code == 403
    assert not ConsoleSession.objects.exists()


@pytest.mark.django_db
def test_stopped_instance_has_no_console(personas, instance):
    Instance.objects.filter(pk=instance.pk).update(status=InstanceStatus.STOPPED)
    instance.refresh_from_db()
    with pytest.raises(Conflict):
        console.console_ticket_issue(instance=instance, actor=personas.owner)


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_api_issues_console_ticket(personas, instance, api_client):
    api_client.force_authenticate(personas.member)
    response = api_client.post(f"/api/v1/instances/{instance.public_id}/console/")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"].startswith("ws://127.0.0.1:8010/console/")
    assert set(body) == {"id", "url", "expires_at"}


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "expected"), [("viewer", 403), ("outsider", 404), ("anonymous", 401)])
def test_api_console_access_matrix(personas, instance, api_client, persona, expected):
    if persona != "anonymous":
        api_client.force_authenticate(getattr(personas, persona))
    response = api_client.post(f"/api/v1/instances/{instance.public_id}/console/")
    assert response.status_code == expected
    assert not ConsoleSession.objects.exists()


# ---------------------------------------------------------------------------
# Portal
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_console_page_never_shows_the_node_or_pve_ticket(personas, instance, fleet):
    client = client_for(personas.member)
    tab = client.get(f"/servers/{instance.public_id}/console/").content.decode()
    assert 'id="open-console"' in tab
    response = client.post(f"/servers/{instance.public_id}/console/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "") or "max-age=0" in response.headers["Cache-Control"]
    assert 'id="vnc-console"' in html and "vendor/novnc" not in html  # noVNC is imported by static/instances/console.js
    assert "/console/" in html
    for secret in (instance.node_name, fleet.sim.url, "127.0.0.1:" + str(fleet.sim.port), "PVEVNC", "vncwebsocket"):
        assert secret not in html
    with fleet.sim.cluster.lock:
        assert not fleet.sim.cluster.vnc_tickets  # the platform did not even ask Proxmox yet


@pytest.mark.django_db
def test_outsider_gets_404_on_console_page(personas, instance):
    response = client_for(personas.outsider).post(f"/servers/{instance.public_id}/console/")
    assert response.status_code == 404


# ---------------------------------------------------------------------------
# The proxy, end to end against the simulator
# ---------------------------------------------------------------------------
@pytest.fixture
def proxy_url() -> Iterator[str]:
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(start_proxy("127.0.0.1", 0))
        holder["server"] = server
        holder["port"] = server.sockets[0].getsockname()[1]
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(5)
    yield f"ws://127.0.0.1:{holder['port']}"
    server = holder["server"]

    async def shutdown() -> None:
        server.close()
        await server.wait_closed()

    asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


class Reader:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws, self.buffer = ws, bytearray()

    def read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            message = self.ws.recv(timeout=10)
            self.buffer.extend(message if isinstance(message, bytes) else message.encode())
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data


@pytest.mark.django_db(transaction=True)
def test_proxy_bridges_browser_to_vm_screen_once(personas, instance, proxy_url, fleet):
    ticket = console.console_ticket_issue(instance=instance, actor=personas.member)
    with connect(f"{proxy_url}/console/{ticket.token}", max_size=None) as ws:
        reader = Reader(ws)
        assert reader.read(12) == b"RFB 003.008\n"
        ws.send(b"RFB 003.008\n")
        assert reader.read(2) == b"\x01\x01"  # one security type, None: the ticket was the credential
        ws.send(b"\x01")
        assert reader.read(4) == b"\x00\x00\x00\x00"
        ws.send(b"\x01")  # ClientInit, shared
        width, height = struct.unpack("!HH", reader.read(4))
        reader.read(16)
        name = reader.read(struct.unpack("!I", reader.read(4))[0]).decode()
        assert (width, height, name) == (640, 400, instance.name)
        ws.send(struct.pack("!BBHHHH", 3, 0, 0, 0, width, height))
        assert reader.read(4) == b"\x00\x00\x00\x01"  # FramebufferUpdate, one rectangle
        x, y, w, h, encoding = struct.unpack("!HHHHi", reader.read(12))
        assert (x, y, w, h, encoding) == (0, 0, 640, 400, 0)
        pixels = reader.read(w * h * 4)
        assert len(set(pixels)) > 2  # a pattern, not an empty buffer
    assert AuditEvent.objects.filter(action="instances.console.connect").count() == 1
    # The same ticket a second time: the proxy closes at once with the error code as reason.
    with connect(f"{proxy_url}/console/{ticket.token}") as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.django_db
def test_simulator_refuses_a_reused_vnc_ticket(instance, fleet):
    """The simulator's vncwebsocket consumes a vncproxy ticket once, as PVE's one-shot vncproxy does."""
    sim = fleet.sim
    vnc = make_driver(sim).vncproxy(instance.node_name, instance.vmid)
    url = (
        f"wss://127.0.0.1:{sim.port}/api2/json/nodes/{instance.node_name}/qemu/{instance.vmid}/vncwebsocket"
        f"?port={vnc.port}&vncticket={quote(vnc.ticket, safe='')}"
    )
    headers = {"Authorization": f"PVEAPIToken={sim.token_id}={sim.token_secret}"}
    context = ssl.create_default_context(cafile=str(sim.ca_path))
    with connect(url, additional_headers=headers, ssl=context) as ws:
        assert ws.recv(timeout=5) == b"RFB 003.008\n"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, additional_headers=headers, ssl=context)
    assert refused.value.response.status_code == 401
