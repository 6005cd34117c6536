"""The console proxy: browser WebSocket ``/console/<token>`` ↔ Proxmox ``vncwebsocket``
(docs/dev/proxmox-behaviour.md#console, option a).

An interface, like a Celery task: it calls ``services.console_ticket_redeem``
(in a thread, the ORM being synchronous) and then only moves bytes. It
performs the RFB security handshake on both sides itself:

* towards Proxmox, as an RFB 3.8 client with VNC authentication, the password
  being the one-time ``vncproxy`` password (RFC 6143 §7.2.2);
* towards the browser, as an RFB 3.8 server offering security type None —
  the browser already proved itself with the single-use ticket.

So the browser learns neither the node's address, nor the API token, nor the
PVE ticket or VNC password. After both handshakes the proxy pipes frames both
ways until either side closes. Run it with ``manage.py consoleproxy``.

Browsers let any page open a WebSocket to any host, so the opening handshake
is refused (HTTP 403, before the ticket is looked at or spent) when its
``Origin`` is not one of the platform's (``origin_allowed``): a page of another
site can neither use nor burn a customer's ticket (cross-site WebSocket
hijacking, RFC 6455 §10.2). The proxy speaks plain ``ws://`` on loopback; in
production the reverse proxy terminates TLS in front of it (``wss://``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import struct
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from urllib.parse import urlsplit

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from django import db
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from apps.core.errors import ApplicationError
from apps.instances.services import ConsoleUpstream, console_ticket_redeem

logger = logging.getLogger(__name__)

PATH_RE = re.compile(r"^/console/([A-Za-z0-9_-]{20,100})/?$")
RFB_VERSION = b"RFB 003.008\n"
HANDSHAKE_SECONDS = 15.0


def vnc_des_response(password: str, challenge: bytes) -> bytes:
    """The answer to a VNC authentication challenge: DES-ECB, key = password bytes bit-reversed (RFC 6143 §7.2.2)."""
    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode("latin-1", "replace")[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # noqa: S305 - K|K|K is single DES, as VNC wants
    return encryptor.update(challenge[:16]) + encryptor.finalize()


class RfbError(Exception):
    """The upstream VNC server refused us, or spoke something else than RFB 3.x."""


class ByteReader:
    """Exact reads over a WebSocket's messages (RFB does not align with frames)."""

    def __init__(self, ws: ServerConnection | ClientConnection) -> None:
        self.ws = ws
        self.buffer = bytearray()

    async def read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            message = await self.ws.recv()
            self.buffer.extend(message.encode() if isinstance(message, str) else message)
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def rest(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


async def _reason(reader: ByteReader) -> str:
    length = struct.unpack("!I", await reader.read(4))[0]
    return (await reader.read(min(length, 4096))).decode("utf-8", "replace")


async def upstream_handshake(ws: ClientConnection, password: str) -> ByteReader:
    """RFB 3.8 client up to a successful SecurityResult, with VNC authentication (RFC 6143 §7.1-7.2)."""
    reader = ByteReader(ws)
    version = await reader.read(12)
    if not version.startswith(b"RFB 003."):
        raise RfbError(f"not an RFB server: {version!r}")
    await ws.send(RFB_VERSION)
    count = (await reader.read(1))[0]
    if count == 0:
        raise RfbError(await _reason(reader))
    types = await reader.read(count)
    if 2 in types:
        await ws.send(b"\x02")
        challenge = await reader.read(16)
        await ws.send(vnc_des_response(password, challenge))
    elif 1 in types:
        await ws.send(b"\x01")
    else:
        raise RfbError(f"no supported security type in {list(types)}")
    if struct.unpack("!I", await reader.read(4))[0] != 0:
        raise RfbError(await _reason(reader))
    return reader


async def browser_handshake(ws: ServerConnection) -> ByteReader:
    """RFB 3.8 server side up to SecurityResult OK, offering security type None (the ticket was the proof)."""
    reader = ByteReader(ws)
    await ws.send(RFB_VERSION)
    if not (await reader.read(12)).startswith(b"RFB 003."):
        raise RfbError("the browser does not speak RFB")
    await ws.send(b"\x01\x01")
    if await reader.read(1) != b"\x01":
        raise RfbError("the browser chose another security type")
    await ws.send(struct.pack("!I", 0))
    return reader


async def _pump(source: ServerConnection | ClientConnection, sink: ServerConnection | ClientConnection) -> None:
    try:
        async for message in source:
            await sink.send(message if isinstance(message, bytes) else message.encode())
    except ConnectionClosed:
        pass


def _redeem_in_thread(token: str) -> ConsoleUpstream:
    try:
        return console_ticket_redeem(token=token)
    finally:
        db.connections.close_all()  # this worker thread's connections: never leak one per console


Redeemer = Callable[[str], Awaitable[ConsoleUpstream]]


async def _redeem(token: str) -> ConsoleUpstream:
    return await asyncio.to_thread(_redeem_in_thread, token)


async def handle(browser: ServerConnection, redeem: Redeemer = _redeem) -> None:
    """One console connection: redeem the ticket, connect to Proxmox, handshake both sides, pipe."""
    match = PATH_RE.match(browser.request.path if browser.request else "")
    if match is None:
        await browser.close(4404, "unknown console")
        return
    try:
        upstream = await redeem(match.group(1))
    except ApplicationError as exc:
        await browser.close(4403, exc.code)
        return
    except Exception:
        logger.exception("consoleproxy: could not open the Proxmox VNC proxy")
        await browser.close(4502, "console unavailable")
        return
    try:
        async with connect(
            upstream.url,
            additional_headers=upstream.headers,
            ssl=upstream.ssl_context,
            subprotocols=[Subprotocol("binary")],
            max_size=None,
            open_timeout=10,
        ) as node:
            async with asyncio.timeout(HANDSHAKE_SECONDS):
                node_reader = await upstream_handshake(node, upstream.password)
                browser_reader = await browser_handshake(browser)
            if leftover := browser_reader.rest():
                await node.send(leftover)
            if leftover := node_reader.rest():
                await browser.send(leftover)
            tasks = [asyncio.create_task(_pump(browser, node)), asyncio.create_task(_pump(node, browser))]
            _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
    except (RfbError, TimeoutError, OSError, ConnectionClosed) as exc:
        logger.warning("consoleproxy: session ended: %s", exc)
    await browser.close()


def _origin_matches(origin: str, scheme: str, netloc: str, pattern: str) -> bool:
    """``pattern`` is an origin (``https://portal.example.com``) or a wildcard one (``https://*.example.com``),
    as in ``CSRF_TRUSTED_ORIGINS`` (the same rule as Django's ``CsrfViewMiddleware``)."""
    if "*" not in pattern:
        return origin == pattern.rstrip("/").lower()
    wanted = urlsplit(pattern)
    return scheme == wanted.scheme and is_same_domain(netloc, wanted.netloc.lstrip("*"))


def origin_allowed(origin: str | None) -> bool:
    """May a page of ``origin`` open a console? (The ticket still has to be valid.)

    * ``CONSOLE_ALLOWED_ORIGINS`` set: only those origins (wildcards as in
      ``CSRF_TRUSTED_ORIGINS``).
    * Otherwise the platform's own: ``CSRF_TRUSTED_ORIGINS``, and http(s) pages
      of a host in ``ALLOWED_HOSTS`` (any port: the portal and the proxy listen
      on different ones).
    * No ``Origin`` header at all: allowed. Browsers always send one on a
      WebSocket handshake (RFC 6455 §4.1), so its absence means a non-browser
      client (the API's documented use), which no other site can drive; the
      single-use ticket remains the credential.
    """
    if origin is None:
        return True
    origin = origin.strip().lower()
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return False  # includes the opaque origin "null" (sandboxed frames, file://)
    origin = f"{parts.scheme}://{parts.netloc}"
    explicit = list(settings.CONSOLE_ALLOWED_ORIGINS or [])
    patterns = explicit or list(settings.CSRF_TRUSTED_ORIGINS)
    if any(_origin_matches(origin, parts.scheme, parts.netloc, p) for p in patterns):
        return True
    if explicit:
        return False
    host, _port = split_domain_port(parts.netloc)
    return bool(host) and validate_host(host, list(settings.ALLOWED_HOSTS))


def _check_origin(connection: ServerConnection, request: Request) -> Response | None:
    """``process_request`` hook: 403 before the handshake completes when the Origin is foreign."""
    origin = request.headers.get("Origin")
    if origin_allowed(origin):
        return None
    logger.warning("consoleproxy: refused a console handshake from origin %r", origin)
    return connection.respond(HTTPStatus.FORBIDDEN, "This origin may not open consoles.\n")


def _select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    # noVNC may offer "binary" (as PVE's own console does); a browser that offered one needs it echoed.
    return Subprotocol("binary") if "binary" in offered else None


async def start_proxy(host: str, port: int) -> Server:
    """Listen on ``host:port``; the returned server's ``sockets`` tell the bound port (``port=0`` in tests)."""
    return await serve(
        handle,
        host,
        port,
        process_request=_check_origin,
        select_subprotocol=_select_subprotocol,
        max_size=None,
    )
