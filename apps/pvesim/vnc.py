"""The simulator's VNC console: ``vncwebsocket`` tickets, a WebSocket server side and a tiny RFB 3.8 server.

``POST …/vncproxy`` (``handlers._console``) registers a ``VncGrant``; ``GET
…/vncwebsocket?port=&vncticket=`` upgrades to a WebSocket (RFC 6455) and, if
the ticket is known, unexpired, for that VM and port and presented by the same
API token, consumes it (PVE's ``vncproxy`` listens once, for 10 s: docs/dev/proxmox-behaviour.md#console) and speaks RFB
3.8 over binary frames:

* security type 2 (VNC authentication), the password being the vncproxy
  ``password`` (``generate-password=1``, PVE 8.4) or else the ticket — what
  PVE's QEMU VNC server expects when noVNC sends ``credentials.password``;
* ServerInit with a 640x400 true-colour framebuffer named after the VM;
* each non-incremental FramebufferUpdateRequest, and the first one, answered
  with one Raw rectangle (a plain pattern); input events are read and ignored.

RFB: RFC 6143. VNC authentication is DES-ECB of the 16-byte challenge with the
password's bytes bit-reversed as the key (RFC 6143 §7.2.2 and its errata).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import struct
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
TICKET_SECONDS = 10.0  # PVE's vncproxy waits 10 s for the connection (docs/dev/proxmox-behaviour.md#console)
WIDTH, HEIGHT = 640, 400


@dataclass
class VncGrant:
    """One ``vncproxy`` answer waiting for its websocket."""

    node: str
    vmid: int
    port: int
    password: str
    token: str
    expires: float  # time.monotonic()


def grant_register(cluster: Any, *, ticket: str, grant: VncGrant) -> None:
    """Remember a vncproxy ticket (called under the cluster lock); drop expired ones."""
    now = time.monotonic()
    for key in [k for k, g in cluster.vnc_tickets.items() if g.expires < now]:
        del cluster.vnc_tickets[key]
    cluster.vnc_tickets[ticket] = grant


def grant_redeem(cluster: Any, *, ticket: str, node: str, vmid: int, port: int, token: str) -> VncGrant | None:
    """Consume a ticket if it matches; a used, expired or foreign ticket gives None."""
    with cluster.lock:
        grant = cluster.vnc_tickets.get(ticket)
        if grant is None or grant.expires < time.monotonic():
            cluster.vnc_tickets.pop(ticket, None)
            return None
        if (grant.node, grant.vmid, grant.port, grant.token) != (node, vmid, port, token):
            return None
        del cluster.vnc_tickets[ticket]
        return grant


def vnc_des_response(password: str, challenge: bytes) -> bytes:
    """The 16-byte answer to a VNC authentication challenge (single DES: a 3DES key of K|K|K)."""
    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode("latin-1", "replace")[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # noqa: S305 - the VNC protocol's own scheme
    return encryptor.update(challenge[:16]) + encryptor.finalize()


def websocket_accept(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode(), usedforsecurity=False).digest()).decode()


class WebSocketStream:
    """Server side of an upgraded connection: a byte stream over binary frames."""

    def __init__(self, rfile: BinaryIO, wfile: BinaryIO) -> None:
        self.rfile = rfile
        self.wfile = wfile
        self.buffer = bytearray()
        self.closed = False

    def _read_exact(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if data is None or len(data) < n:
            raise EOFError
        return data

    def _frame(self) -> tuple[int, bytes]:
        head = self._read_exact(2)
        opcode, masked, length = head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read_exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read_exact(8))[0]
        mask = self._read_exact(4) if masked else b""
        payload = self._read_exact(length)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return opcode, payload

    def send(self, payload: bytes, opcode: int = 0x2) -> None:
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        self.wfile.write(head + payload)
        self.wfile.flush()

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes of the RFB stream, whatever the framing; EOFError when the peer closes."""
        while len(self.buffer) < n:
            opcode, payload = self._frame()
            if opcode == 0x8:
                if not self.closed:
                    self.send(payload[:2], opcode=0x8)
                self.closed = True
                raise EOFError
            if opcode == 0x9:
                self.send(payload, opcode=0xA)
            elif opcode in (0x0, 0x1, 0x2):
                self.buffer.extend(payload)
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.send(struct.pack("!H", 1000), opcode=0x8)


def _pixel(rgb: tuple[int, int, int], fmt: dict[str, int]) -> bytes:
    r, g, b = rgb
    value = (
        (r * fmt["red_max"] // 255) << fmt["red_shift"]
        | (g * fmt["green_max"] // 255) << fmt["green_shift"]
        | (b * fmt["blue_max"] // 255) << fmt["blue_shift"]
    )
    return value.to_bytes(4, "big" if fmt["big_endian"] else "little")


def framebuffer(fmt: dict[str, int]) -> bytes:
    """A dark screen with a lighter band across the middle, in the client's 32-bit pixel format."""
    background, band = _pixel((16, 24, 48), fmt), _pixel((64, 160, 224), fmt)
    plain, striped = background * WIDTH, background * 40 + band * (WIDTH - 80) + background * 40
    rows = [striped if HEIGHT // 2 - 20 <= y < HEIGHT // 2 + 20 else plain for y in range(HEIGHT)]
    return b"".join(rows)


DEFAULT_FORMAT = {
    "bpp": 32,
    "big_endian": 0,
    "red_max": 255,
    "green_max": 255,
    "blue_max": 255,
    "red_shift": 16,
    "green_shift": 8,
    "blue_shift": 0,
}


def rfb_serve(ws: WebSocketStream, *, password: str, name: str) -> None:
    """Run one RFB 3.8 session until the client leaves."""
    ws.send(b"RFB 003.008\n")
    if not ws.read(12).startswith(b"RFB 003."):
        return
    ws.send(bytes([1, 2]))  # one security type: VNC authentication
    if ws.read(1) != b"\x02":
        ws.send(struct.pack("!I", 1) + _reason("unsupported security type"))
        return
    challenge = secrets.token_bytes(16)
    ws.send(challenge)
    if not secrets.compare_digest(ws.read(16), vnc_des_response(password, challenge)):
        ws.send(struct.pack("!I", 1) + _reason("Authentication failed"))
        return
    ws.send(struct.pack("!I", 0))
    ws.read(1)  # ClientInit: shared flag
    fmt = dict(DEFAULT_FORMAT)
    pixel_format = struct.pack(
        "!BBBBHHHBBB3x",
        32,
        24,
        fmt["big_endian"],
        1,
        fmt["red_max"],
        fmt["green_max"],
        fmt["blue_max"],
        fmt["red_shift"],
        fmt["green_shift"],
        fmt["blue_shift"],
    )
    encoded = name.encode()
    ws.send(struct.pack("!HH", WIDTH, HEIGHT) + pixel_format + struct.pack("!I", len(encoded)) + encoded)
    sent_once = False
    while True:
        kind = ws.read(1)[0]
        if kind == 0:  # SetPixelFormat
            data = ws.read(19)[3:]
            bpp, _depth, big, _true, rmax, gmax, bmax, rs, gs, bs = struct.unpack("!BBBBHHHBBB3x", data)
            if bpp == 32:
                fmt.update(
                    big_endian=big,
                    red_max=rmax,
                    green_max=gmax,
                    blue_max=bmax,
                    red_shift=rs,
                    green_shift=gs,
                    blue_shift=bs,
                )
        elif kind == 2:  # SetEncodings: Raw is always allowed (RFC 6143 §7.7.1)
            count = struct.unpack("!xH", ws.read(3))[0]
            ws.read(4 * count)
        elif kind == 3:  # FramebufferUpdateRequest
            incremental = ws.read(9)[0]
            # Nothing ever changes on this screen: incremental requests wait forever, as on an idle VM.
            if not incremental or not sent_once:
                header = struct.pack("!BxH", 0, 1) + struct.pack("!HHHHi", 0, 0, WIDTH, HEIGHT, 0)
                ws.send(header + framebuffer(fmt))
                sent_once = True
        elif kind == 4:  # KeyEvent
            ws.read(7)
        elif kind == 5:  # PointerEvent
            ws.read(5)
        elif kind == 6:  # ClientCutText
            length = struct.unpack("!3xI", ws.read(7))[0]
            ws.read(length)
        else:
            return


def _reason(text: str) -> bytes:
    data = text.encode()
    return struct.pack("!I", len(data)) + data
