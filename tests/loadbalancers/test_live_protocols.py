"""WebSocket and gRPC through the real HAProxy on loopback, spoken byte by byte so nothing is assumed.

WebSocket: the upgrade (101 and the accept key) and a frame echoed back, over ``ws://`` and over
``wss://`` terminated by the load balancer. gRPC: a client speaking cleartext HTTP/2 (and HTTP/2
over TLS with ALPN ``h2``) reaches a target that HAProxy talks to in HTTP/2 too (the connection
preface proves it); the message and the trailers (``grpc-status``) come back.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from apps.loadbalancers.rules.certificates import certificate_validate
from apps.loadbalancers.rules.delivery import Layout, certificate_path
from apps.loadbalancers.rules.haproxy import haproxy_config_render
from apps.loadbalancers.rules.health import Health, health_from_show_stat, target_health
from apps.loadbalancers.rules.spec import (
    ForwardingRule,
    HealthCheck,
    Limits,
    LoadBalancerSpec,
    Protocol,
    Target,
    Tls,
    TlsMode,
)
from tests.loadbalancers.support import free_port, make_certificate, make_chain, wait_until

P = Protocol
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC11B65"  # RFC 6455, section 1.3
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"  # RFC 9113, section 3.4
GRPC_MESSAGE = b"\x00\x00\x00\x00\x05hello"  # uncompressed, 5 bytes (gRPC over HTTP/2: Length-Prefixed-Message)


class RawServer:
    """A TCP server in a thread, one thread per connection running ``handle``; stopped by the fixture."""

    def __init__(self, handle: Callable[[socket.socket], None], tls: ssl.SSLContext | None = None) -> None:
        self.handle = handle
        self.tls = tls
        self.alpn: list[str | None] = []  # what each TLS connection negotiated
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            with contextlib.suppress(OSError):  # a health check that connects and leaves
                if self.tls is not None:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                    self.alpn.append(conn.selected_alpn_protocol())
                self.handle(conn)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def raw_servers() -> Iterator[Callable[..., RawServer]]:
    started: list[RawServer] = []

    def start(handle: Callable[[socket.socket], None], tls: ssl.SSLContext | None = None) -> RawServer:
        server = RawServer(handle, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def _read_http_head(sock: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("closed before the end of the head")
        data += chunk
    return data.decode("latin-1")


# ------------------------------------------------------------------ WebSocket (RFC 6455)


def _ws_frame(payload: bytes, *, mask: bool) -> bytes:
    head = bytes([0x81])  # FIN, text
    key = os.urandom(4) if mask else b""
    head += bytes([(0x80 if mask else 0) | len(payload)])  # short payloads only
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if mask else payload
    return head + key + body


def _ws_read(sock: socket.socket) -> bytes:
    first, second = _read_exactly(sock, 2)
    assert first == 0x81, hex(first)
    length, masked = second & 0x7F, second & 0x80
    key = _read_exactly(sock, 4) if masked else b""
    payload = _read_exactly(sock, length)
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if masked else payload


def _ws_echo(conn: socket.socket) -> None:
    head = _read_http_head(conn)
    lines = head.split("\r\n")
    key = next(line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("sec-websocket-key"))
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()  # noqa: S324 (RFC 6455)
    conn.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
    )
    conn.sendall(_ws_frame(b"echo:" + _ws_read(conn), mask=False))


def _ws_client(sock: socket.socket, host: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /chat HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = _read_http_head(sock)
    assert head.startswith("HTTP/1.1 101"), head
    expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()  # noqa: S324
    assert f"sec-websocket-accept: {expected.lower()}" in head.lower()
    sock.sendall(_ws_frame(b"hello", mask=True))
    return _ws_read(sock)


def _tls(tmp_path: Path) -> tuple[str, ssl.SSLContext]:
    chain = make_chain(("lb.test",))
    checked = certificate_validate(
        certificate=chain.leaf.certificate,
        chain=chain.intermediate.certificate,
        private_key=chain.leaf.key,
        now=dt.datetime.now(dt.UTC),
    )
    path = Path(certificate_path(checked.fingerprint_sha256, Layout(certificate_dir=str(tmp_path / "certs"))))
    path.parent.mkdir(mode=0o700)
    path.write_text(checked.bundle)
    return str(path), ssl.create_default_context(cadata=chain.root.certificate)


def _up(process, names: list[str]) -> None:
    expected = dict.fromkeys(names, Health.UP)
    wait_until(
        lambda: target_health(health_from_show_stat(process.command("show stat")), names) == expected,
        what="targets up",
    )


def test_websocket_upgrades_and_echoes_over_ws_and_wss(raw_servers, haproxy_run, runtime, tmp_path):
    server = raw_servers(_ws_echo)
    ws_port, wss_port = free_port(), free_port()
    bundle, client = _tls(tmp_path)
    spec = LoadBalancerSpec(
        name="ws",
        rules=(ForwardingRule(P.WEBSOCKET, ws_port, P.WEBSOCKET, 1), ForwardingRule(P.HTTPS, wss_port, P.WEBSOCKET, 1)),
        targets=(Target("ws-1", "127.0.0.1", server.port),),
        health_check=HealthCheck(interval_seconds=1, timeout_seconds=1, rise=1, fall=1),
        tls=Tls(TlsMode.TERMINATE, bundle),
        limits=Limits(max_connections=1000),
    )
    process = haproxy_run(haproxy_config_render(spec, runtime=runtime))
    _up(process, ["ws-1"])

    with socket.create_connection(("127.0.0.1", ws_port), timeout=5) as plain:
        assert _ws_client(plain, "lb.test") == b"echo:hello"
    raw = socket.create_connection(("127.0.0.1", wss_port), timeout=5)
    client.set_alpn_protocols(["http/1.1"])  # a WebSocket client asks for HTTP/1.1
    with client.wrap_socket(raw, server_hostname="lb.test") as secure:
        assert _ws_client(secure, "lb.test") == b"echo:hello"


# ------------------------------------------------------------------ gRPC (HTTP/2, RFC 9113; HPACK, RFC 7541)

DATA, HEADERS, SETTINGS = 0x0, 0x1, 0x4
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _read_frame(sock: socket.socket) -> tuple[int, int, int, bytes]:
    head = _read_exactly(sock, 9)
    length = int.from_bytes(head[:3], "big")
    return head[3], head[4], int.from_bytes(head[5:], "big") & 0x7FFFFFFF, _read_exactly(sock, length)


def _literal(name_index: int, value: bytes) -> bytes:
    """HPACK literal header field without indexing, indexed name (static table), raw value."""
    prefix = bytes([name_index]) if name_index < 15 else bytes([0x0F, name_index - 15])
    return prefix + bytes([len(value)]) + value


def _literal_new(name: bytes, value: bytes) -> bytes:
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def _grpc_target(seen_prefaces: list[bytes]) -> Callable[[socket.socket], None]:
    def handle(conn: socket.socket) -> None:
        preface = _read_exactly(conn, len(H2_PREFACE))
        seen_prefaces.append(preface)
        conn.sendall(_frame(SETTINGS, 0, 0))
        while True:
            kind, flags, stream, _ = _read_frame(conn)
            if kind == SETTINGS and not flags & ACK:
                conn.sendall(_frame(SETTINGS, ACK, 0))
            if stream and flags & END_STREAM:  # the whole request is in: answer it
                status_and_type = b"\x88" + _literal(31, b"application/grpc")  # :status 200, content-type
                conn.sendall(_frame(HEADERS, END_HEADERS, stream, status_and_type))
                conn.sendall(_frame(DATA, 0, stream, GRPC_MESSAGE))
                trailers = _literal_new(b"grpc-status", b"0")
                conn.sendall(_frame(HEADERS, END_HEADERS | END_STREAM, stream, trailers))

    return handle


def _grpc_call(sock: socket.socket) -> list[tuple[int, int, bytes]]:
    """One unary call on stream 1; the frames of stream 1 that came back, up to its end."""
    headers = (
        b"\x83\x86"  # :method POST, :scheme http
        + _literal(4, b"/demo.Greeter/SayHello")
        + _literal(1, b"lb.test")
        + _literal(31, b"application/grpc")
        + _literal_new(b"te", b"trailers")
    )
    sock.sendall(
        H2_PREFACE
        + _frame(SETTINGS, 0, 0)
        + _frame(HEADERS, END_HEADERS, 1, headers)
        + _frame(DATA, END_STREAM, 1, GRPC_MESSAGE)
    )
    frames = []
    while True:
        kind, flags, stream, payload = _read_frame(sock)
        if kind == SETTINGS and not flags & ACK:
            sock.sendall(_frame(SETTINGS, ACK, 0))
        if stream == 1 and kind in (HEADERS, DATA):  # not WINDOW_UPDATE and the like
            frames.append((kind, flags, payload))
            if flags & END_STREAM:
                return frames


def _target_tls(tmp_path: Path) -> ssl.SSLContext:
    """A target's own TLS (self-signed, as customers' servers often are), offering HTTP/2 by ALPN."""
    own = make_certificate("grpc-target", names=("grpc-target",))
    (tmp_path / "target.pem").write_text(own.certificate + own.key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "target.pem")
    context.set_alpn_protocols(["h2"])
    return context


def test_grpc_is_http2_from_the_client_to_the_target(raw_servers, haproxy_run, runtime, tmp_path):
    prefaces: list[bytes] = []
    server = raw_servers(_grpc_target(prefaces))
    tls_server = raw_servers(_grpc_target(prefaces), tls=_target_tls(tmp_path))
    h2c_port, h2_tls_port, to_tls_port = free_port(), free_port(), free_port()
    bundle, client = _tls(tmp_path)
    spec = LoadBalancerSpec(
        name="grpc",
        rules=(
            ForwardingRule(P.GRPC, h2c_port, P.GRPC, server.port),
            ForwardingRule(P.HTTPS, h2_tls_port, P.GRPC, server.port),
            ForwardingRule(P.GRPC, to_tls_port, P.HTTPS, tls_server.port),  # HTTP/2 over TLS to the target
        ),
        targets=(Target("grpc-1", "127.0.0.1"),),
        health_check=HealthCheck(interval_seconds=1, timeout_seconds=1, rise=1, fall=1),
        tls=Tls(TlsMode.TERMINATE, bundle),
        limits=Limits(max_connections=1000),
    )
    process = haproxy_run(haproxy_config_render(spec, runtime=runtime))
    _up(process, ["grpc-1"])

    with socket.create_connection(("127.0.0.1", h2c_port), timeout=5) as plain:
        frames = _grpc_call(plain)
    client.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", h2_tls_port), timeout=5)
    with client.wrap_socket(raw, server_hostname="lb.test") as secure:
        assert secure.selected_alpn_protocol() == "h2"
        frames_tls = _grpc_call(secure)
    with socket.create_connection(("127.0.0.1", to_tls_port), timeout=5) as plain:
        frames_to_tls = _grpc_call(plain)

    assert "h2" in tls_server.alpn, "HAProxy negotiated HTTP/2 with the TLS target"
    for got in (frames, frames_tls, frames_to_tls):
        kinds = [kind for kind, _, _ in got]
        assert kinds[0] == HEADERS and kinds[-1] == HEADERS, got  # response headers ... trailers
        assert b"".join(payload for kind, _, payload in got if kind == DATA) == GRPC_MESSAGE
        assert got[-1][1] & END_STREAM
    assert prefaces and all(p == H2_PREFACE for p in prefaces), "HAProxy speaks HTTP/2 to the target"


# ------------------------------------------------------------------ TCP, TLS passthrough, PROXY protocol


def _read_line(conn: socket.socket, end: bytes) -> bytes:
    line = b""
    while not line.endswith(end):
        chunk = conn.recv(1)  # byte by byte: nothing past the line is consumed
        if not chunk:
            raise ConnectionError(f"closed after {line!r}")
        line += chunk
    return line


def _proxy_echo(tls: ssl.SSLContext | None = None) -> Callable[[socket.socket], None]:
    """Reads the PROXY v1 line (HAProxy's proxy-protocol.txt, 2.1), then (over the target's own TLS) echoes a line."""

    def handle(conn: socket.socket) -> None:
        header = _read_line(conn, b"\r\n")
        if tls is not None:
            conn = tls.wrap_socket(conn, server_side=True)
        conn.sendall(header + _read_line(conn, b"\n"))

    return handle


def test_tcp_and_tls_passthrough_forward_bytes_with_the_proxy_header(raw_servers, haproxy_run, runtime, tmp_path):
    plain = raw_servers(_proxy_echo())
    own = make_certificate("tls-target", names=("tls-target",))
    (tmp_path / "own.pem").write_text(own.certificate + own.key)
    target_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    target_context.load_cert_chain(tmp_path / "own.pem")
    tls_target = raw_servers(_proxy_echo(target_context))
    tcp_port, passthrough_port = free_port(), free_port()
    spec = LoadBalancerSpec(
        name="tcp",
        rules=(
            ForwardingRule(P.TCP, tcp_port, P.TCP, plain.port),
            ForwardingRule(P.HTTPS, passthrough_port, P.HTTPS, tls_target.port),
        ),
        targets=(Target("tcp-1", "127.0.0.1"),),
        health_check=HealthCheck(interval_seconds=1, timeout_seconds=1, rise=1, fall=1),
        tls=Tls(TlsMode.PASSTHROUGH),
        proxy_protocol=True,
        limits=Limits(max_connections=1000),
    )
    process = haproxy_run(haproxy_config_render(spec, runtime=runtime))
    _up(process, ["tcp-1"])

    with socket.create_connection(("127.0.0.1", tcp_port), timeout=5) as client:
        client.sendall(b"ping\n")
        answer = _read_line(client, b"ping\n")
    header, echoed = answer.split(b"\r\n", 1)
    assert header.startswith(b"PROXY TCP4 127.0.0.1 127.0.0.1 ") and header.split()[-1] == str(tcp_port).encode()
    assert echoed == b"ping\n"

    # Passthrough: the client's TLS ends at the target, which serves its own certificate.
    client_context = ssl.create_default_context(cadata=own.certificate)
    raw = socket.create_connection(("127.0.0.1", passthrough_port), timeout=5)
    with client_context.wrap_socket(raw, server_hostname="tls-target") as secure:
        served = secure.getpeercert(binary_form=True)
        assert served is not None and served == own.cert.public_bytes(serialization.Encoding.DER)
        secure.sendall(b"hello over tls\n")
        answer = _read_line(secure, b"hello over tls\n")
    assert answer.startswith(b"PROXY TCP4 127.0.0.1 127.0.0.1 ")
