"""Helpers of the load balancer engine's tests: real HAProxy, tiny HTTP backends, certificates, bounded waits.

Nothing here sleeps for a fixed time: every wait polls a condition until a deadline and fails
with what it last saw.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from apps.loadbalancers.rules.delivery import AgentPlan, Exec, FileWrite

HAPROXY = "/usr/sbin/haproxy"
T = TypeVar("T")


def haproxy_binary() -> str:
    """The real HAProxy; a clear failure (never a skip) when the machine lacks it."""
    if not os.access(HAPROXY, os.X_OK):
        raise AssertionError(
            f"{HAPROXY} is missing: install Debian's haproxy package (apt-get install haproxy; .ci/run does it)"
        )
    return HAPROXY


def haproxy_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([haproxy_binary(), "-c", "-f", str(path)], capture_output=True, text=True, timeout=60)


def wait_until(condition: Callable[[], T], *, timeout: float = 15.0, what: str = "condition") -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            result = condition()
        except AssertionError:
            raise  # the condition knows it can never hold
        except Exception as exc:  # the thing waited for may not be there yet (socket, port)
            result, last = None, exc
        else:
            last = result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------ HTTP backends


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a peer that hangs up (a TCP check, a stopped test) is not the test's business


@dataclass
class Backend:
    """A tiny HTTP server in a thread that answers with its name; ``healthy`` False makes /health answer 503."""

    name: str
    port: int = 0
    healthy: bool = True
    seen_headers: list[dict[str, str]] = field(default_factory=list)
    seen_paths: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Backend:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                backend.seen_headers.append({k.lower(): v for k, v in self.headers.items()})
                backend.seen_paths.append(self.path)
                if self.path.startswith("/slow"):
                    time.sleep(1.5)  # a request in flight across a reload
                status = 503 if self.path == "/health" and not backend.healthy else 200
                body = backend.name.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = _QuietServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


# ------------------------------------------------------------------ HAProxy process


@dataclass
class HaproxyProcess:
    """HAProxy in master-worker mode, started by a test in its own process group (stopped by that group's id)."""

    config_path: Path
    stats_socket: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> HaproxyProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [haproxy_binary(), "-f", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(self._ready, what="HAProxy's stats socket")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"HAProxy exited with {self.process.returncode}:\n{self.log()}")
        return "pxname" in self.command("show stat")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self, command: str) -> str:
        """One runtime API command on the stats socket; its whole answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.stats_socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # Workers of earlier reloads that outlived the master (they share its process group).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None


# ------------------------------------------------------------------ clients


def http_get(
    port: int,
    path: str = "/",
    *,
    host: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    timeout: float = 5.0,
) -> tuple[int, dict[str, str], str]:
    """One request on a new connection to 127.0.0.1 (closed after): status, headers (lower-case names), body.

    With ``tls``, the connection is TLS with SNI ``server_hostname`` (the context verifies the name).
    """
    sock: socket.socket = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=server_hostname or host)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read().decode()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        sock.close()


# ------------------------------------------------------------------ certificates


@dataclass(frozen=True)
class Pem:
    certificate: str
    key: str
    cert: x509.Certificate
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def make_key(kind: str = "ec") -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (a weak key the validator must refuse)
    return ec.generate_private_key(ec.SECP256R1())


def make_certificate(
    common_name: str,
    *,
    issuer: Pem | None = None,
    names: tuple[str, ...] = (),
    addresses: tuple[str, ...] = (),
    ca: bool = False,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key_kind: str = "ec",
) -> Pem:
    """A certificate signed by ``issuer`` (self-signed without one)."""
    import ipaddress

    key = make_key(key_kind)
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    signer = issuer.private_key if issuer else key
    cert = builder.sign(signer, hashes.SHA256())
    return Pem(
        certificate=cert.public_bytes(serialization.Encoding.PEM).decode(),
        key=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode(),
        cert=cert,
        private_key=key,
    )


@dataclass(frozen=True)
class Chain:
    root: Pem
    intermediate: Pem
    leaf: Pem


def make_chain(names: tuple[str, ...] = ("lb.test",), *, addresses: tuple[str, ...] = ("127.0.0.1",)) -> Chain:
    root = make_certificate("Test Root CA", ca=True)
    intermediate = make_certificate("Test Intermediate CA", issuer=root, ca=True)
    leaf = make_certificate(names[0], issuer=intermediate, names=names, addresses=addresses)
    return Chain(root=root, intermediate=intermediate, leaf=leaf)


# ------------------------------------------------------------------ running a delivery plan locally


@dataclass(frozen=True)
class PlanResult:
    ok: bool
    failed: Exec | None = None
    output: str = ""


def run_plan(plan: AgentPlan) -> PlanResult:
    """Run a guest-agent plan on this machine, as the runner does through the agent: stop at the first failure."""
    for step in plan.steps:
        if isinstance(step, FileWrite):
            Path(step.path).write_bytes(step.content)  # file-write: create or truncate
            continue
        done = subprocess.run(list(step.command), capture_output=True, text=True, timeout=step.timeout_seconds)
        if done.returncode != 0:
            for undo in plan.on_failure:
                if isinstance(undo, Exec):
                    subprocess.run(list(undo.command), capture_output=True, timeout=undo.timeout_seconds)
            return PlanResult(ok=False, failed=step, output=done.stdout + done.stderr)
    return PlanResult(ok=True)


def iter_lines(text: str) -> Iterator[str]:
    yield from (line.strip() for line in text.splitlines() if line.strip())
