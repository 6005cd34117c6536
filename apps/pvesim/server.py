"""``PveSimulator``: a standalone HTTPS server that answers like a Proxmox VE cluster.

A threaded ``http.server`` wrapped in TLS with a certificate from a CA generated
at start (trustme), so proxmoxer's real HTTPS path runs, and so the error text
can go in the HTTP reason phrase as PVE puts it (``responses`` cannot; docs/dev/proxmox-behaviour.md#error-responses,
#simulator-in-tests). Per request:

1. API token auth (``Authorization: PVEAPIToken=user@realm!id=secret``): none →
   401 ``No ticket``, wrong → 401 ``Authentication failed!``, both with an empty body;
2. routing against the official schema: unknown path or method → 501
   ``Method 'GET /x' not implemented``; known to PVE but not simulated → 501 too;
3. the token's privileges against the method's ``permissions`` from the schema
   (``acl.py``; docs/dev/proxmox-permissions.md) → 403 ``Permission check failed (<path>, <privilege>)``;
4. a path naming an offline node → 595 (pveproxy could not reach it);
5. parameter validation against the schema (``schema.py``) → 400 with ``errors``;
6. the handler (``handlers.py``) under the cluster lock, after finishing due tasks, behind the checks Proxmox
   makes in code (``acl.CODE_CHECKS``); listings leave out what the token may not see (``acl.LIST_FILTERS``).

Every request is recorded (``requests``) with its validation result, so tests
can assert that the driver only sends schema-valid requests. Fault injection is
offered as methods and, for the demo, as JSON endpoints under ``/_sim/``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

from apps.pvesim import agent, firewall, sdn, storage, vnc  # noqa: F401 - agent, firewall, sdn, storage register routes
from apps.pvesim.acl import CODE_CHECKS, Acl, Checker, filter_rows, schema_major
from apps.pvesim.fleet import ClusterSpec, TokenAcl
from apps.pvesim.handlers import ROUTES, Call, Envelope, match_route
from apps.pvesim.schema import PveSchema, load_schema
from apps.pvesim.state import NODE_UNREACHABLE, PveHttpError, SimCluster

logger = logging.getLogger(__name__)

VNC_WEBSOCKET_RE = re.compile(r"^/api2/json/nodes/([^/]+)/qemu/(\d+)/vncwebsocket/?$")
DEFAULT_TOKEN_ID = "portal@pve!celery"
DEFAULT_TOKEN_SECRET = "0c9c4d0e-5d1f-4d5e-9a7e-pvesim-demo00"  # a dev/test simulator's token, not a secret


@dataclass
class RecordedRequest:
    """One request as the simulator saw it, with its schema validation result."""

    method: str
    path: str  # below /api2/json
    params: dict[str, Any]
    status: int = 0
    reason: str = ""
    template: str | None = None
    validated: bool = False  # the schema was available and the route known
    validation_errors: dict[str, str] = field(default_factory=dict)


def create_ca() -> trustme.CA:
    """A throw-away CA (ECDSA keys: fast to generate)."""
    return trustme.CA(key_type=trustme.KeyType.ECDSA)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: PveSimulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that reject our certificate or hang up are normal in tests: no traceback on stderr.
        logger.debug("pvesim: connection from %s failed", client_address, exc_info=True)


class PveSimulator:
    """One simulated PVE cluster on one HTTPS port. Use ``start()``/``stop()`` or a ``with`` block."""

    def __init__(
        self,
        spec: ClusterSpec,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: dict[str, str] | None = None,
        task_seconds: float = 0.0,
        lock_wait_seconds: float = 0.0,
        auth_fail_delay: float = 0.0,
        ca: trustme.CA | None = None,
        ca_path: str | Path | None = None,
        schema: PveSchema | None = None,
        load_default_schema: bool = True,
        record_limit: int = 100_000,
        acl: Acl | None = None,
        enforce_acl: bool = True,
    ) -> None:
        self.spec = spec
        self.cluster = SimCluster(spec, task_seconds=task_seconds, lock_wait_seconds=lock_wait_seconds)
        self.tokens = dict(tokens or {DEFAULT_TOKEN_ID: DEFAULT_TOKEN_SECRET})
        self.auth_fail_delay = auth_fail_delay
        self.schema = schema if schema is not None else (load_schema() if load_default_schema else None)
        # Every call is checked against the token's privileges as PVE does (docs/dev/proxmox-permissions.md);
        # the default ACLs are the grants the operator docs tell staff to create (apps.pvesim.acl).
        self.acl = acl or Acl.platform(spec, pve_major=schema_major(self.schema))
        self.enforce_acl = enforce_acl
        self.ca = ca or create_ca()
        self.ca_path = Path(ca_path) if ca_path else None
        self.requests: deque[RecordedRequest] = deque(maxlen=record_limit)
        self._records_lock = threading.Lock()
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- lifecycle

    def start(self) -> PveSimulator:
        server_cert = self.ca.issue_cert("127.0.0.1", "localhost", "::1", self._host)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_cert.configure_cert(context)
        if self.ca_path is not None:
            self.ca_path.parent.mkdir(parents=True, exist_ok=True)
            self.ca.cert_pem.write_to_path(str(self.ca_path))
        server = _Server((self._host, self._port), _Handler)
        # The TLS handshake runs in the request thread, not in the accept loop.
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        server.simulator = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"pvesim-{self.spec.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PveSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "simulator not started"  # noqa: S101 - programming error
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://{self._host}:{self.port}"

    @property
    def token_id(self) -> str:
        return next(iter(self.tokens))

    @property
    def token_secret(self) -> str:
        return self.tokens[self.token_id]

    # ------------------------------------------------------------- inspection

    @property
    def validation_failures(self) -> list[RecordedRequest]:
        with self._records_lock:
            return [r for r in self.requests if r.validation_errors]

    def clear_requests(self) -> None:
        with self._records_lock:
            self.requests.clear()

    # --------------------------------------------------------- fault injection

    def set_token_acl(
        self, token_acl: TokenAcl | None, token: str | None = None, *, roles: dict[str, list[str]] | None = None
    ) -> None:
        """Give ``token`` (default: the simulator's token) these grants, after adding ``roles`` (name →
        privileges); None: back to the cluster's default grants."""
        token = token or self.token_id
        with self.cluster.lock:
            self.acl.roles.update({name: frozenset(privs) for name, privs in (roles or {}).items()})
            if token_acl is None:
                self.acl.tokens.pop(token, None)
            else:
                self.acl.tokens[token] = token_acl

    def check_permission(self, token: str, path: str, privileges: list[str]) -> None:
        """403 unless ``token`` has ``privileges`` on ``path`` (for calls served outside ``handle_api``)."""
        if self.enforce_acl:
            Checker(self.acl, token, self.cluster).check(path, privileges)

    def fail_next_task(self, task_type: str, message: str) -> None:
        """The next task of ``task_type`` (``qmstart``, ``qmclone``…) stops with ``message`` as exitstatus."""
        with self.cluster.lock:
            self.cluster.fail_next.setdefault(task_type, deque()).append(message)

    def set_node_online(self, node: str, online: bool) -> None:
        """Offline: calls naming the node answer 595, listings show it offline and its VMs ``unknown``.

        An offline node's VMs keep their row in ``/cluster/resources`` (the cluster config lists
        them) with only ``id``, ``vmid``, ``node``, ``type`` and ``status: unknown``
        (docs/dev/proxmox-behaviour.md#status-unknown).
        """
        with self.cluster.lock:
            self.cluster.node(node).online = online

    def set_node_stale(self, node: str, stale: bool) -> None:
        """Stale: the node answers, but its pvestatd is silent, so the cluster shows it and its VMs ``unknown``."""
        with self.cluster.lock:
            self.cluster.node(node).stale = stale

    def set_latency(self, seconds: float) -> None:
        """Delay every API answer by ``seconds``."""
        self.cluster.latency_seconds = seconds

    def hold_lock(self, vmid: int, seconds: float) -> None:
        """Hold ``vmid``'s config flock for ``seconds``, as a long-running task would."""
        with self.cluster.lock:
            self.cluster.held_flocks[int(vmid)] = time.monotonic() + seconds

    def set_vm_lock(self, vmid: int, lock: str = "backup", seconds: float = 30.0) -> None:
        """Put ``lock: <lock>`` in a VM's config for ``seconds``, as a vzdump backup does for its whole run.

        Tasks on the VM then fail inside the worker with ``VM is locked (backup)``
        (docs/dev/proxmox-behaviour.md#lock-placement).
        """
        with self.cluster.lock:
            self.cluster.set_config_lock(int(vmid), lock, seconds)

    def set_guest_acpi(self, vmid: int, responds: bool) -> None:
        """Whether the guest powers off on an ACPI shutdown request (a hung guest does not)."""
        with self.cluster.lock:
            vm = self.cluster.vms.get(int(vmid))
            if vm is None:
                raise KeyError(f"no VM {vmid}")
            vm.acpi = responds

    def guest(self, vmid: int) -> agent.Guest:
        """The guest of a VM (files, exec processes, HAProxy service; ``apps.pvesim.agent``), for inspection.

        It is live state: read it while no request runs, or hold ``cluster.lock``.
        """
        with self.cluster.lock:
            vm = self.cluster.vms.get(int(vmid))
            if vm is None:
                raise KeyError(f"no VM {vmid}")
            return agent.guest_of(vm, self.cluster)

    def set_guest_exec_seconds(self, vmid: int, seconds: float) -> None:
        """How long a command exec'd through the guest agent runs before it exits (0: by the next agent call)."""
        self.guest(vmid).exec_seconds = seconds

    def set_task_seconds(self, seconds: float, task_type: str | None = None) -> None:
        """How long tasks run (all, or one type) before they stop."""
        with self.cluster.lock:
            if task_type:
                self.cluster.task_durations[task_type] = seconds
            else:
                self.cluster.task_seconds = seconds

    def set_gpu_present(self, node: str, address: str, present: bool) -> None:
        """Remove a GPU from (or put it back into) a node's PCI bus, to test inventory drift."""
        with self.cluster.lock:
            gpu = self.cluster.gpu_by_path(node, address)
            if gpu is None:
                raise KeyError(f"no GPU {address} on {node}")
            gpu.present = present

    def fail_next_hotplug(self, vmid: int, message: str) -> None:
        """The next device hot-plugged into running VM ``vmid`` fails at the QEMU level: the option stays
        pending and the update ends with ``{<opt>: "hotplug problem - <message>"}`` (a 400 for PUT, a task
        error for POST; docs/dev/proxmox-behaviour.md#hotplug)."""
        with self.cluster.lock:
            self.cluster.hotplug_failures.setdefault(int(vmid), deque()).append(message)

    def set_cpu_load(self, vmid: int, fraction: float | None) -> None:
        """Report ``fraction`` (0..1) as VM ``vmid``'s CPU in ``rrddata``; None: back to the simulated curve."""
        from apps.pvesim.load import cpu_load_set

        cpu_load_set(self.cluster, vmid, fraction)

    def finish_tasks(self) -> None:
        """End every running task now (tests with long task durations)."""
        with self.cluster.lock:
            for task in list(self.cluster.running_tasks):
                self.cluster.finish_task(task)

    def state_summary(self) -> dict[str, Any]:
        c = self.cluster
        with c.lock:
            c.tick()
            return {
                "cluster": c.name,
                "datacentre": self.spec.datacentre,
                "nodes": {name: {"online": n.online, "gpus": len(n.gpus)} for name, n in c.nodes.items()},
                "vms": len([vm for vm in c.vms.values() if not vm.template]),
                "running_vms": len([vm for vm in c.vms.values() if vm.running]),
                "templates": len([vm for vm in c.vms.values() if vm.template]),
                "volumes": len(c.volumes),
                "gpus_in_use": len(c.pci_usage),
                "running_tasks": len(c.running_tasks),
                "tasks": len(c.tasks),
                "task_seconds": c.task_seconds,
                "latency_seconds": c.latency_seconds,
                "requests": len(self.requests),
                "validation_failures": len(self.validation_failures),
                "schema": self.schema.source if self.schema else None,
            }

    # --------------------------------------------------------------- handling

    def authenticate(self, header: str | None) -> tuple[str | None, str]:
        """Return (token id, "") or (None, reason) for a 401 (docs/dev/proxmox-behaviour.md#authentication,
        #error-responses)."""
        if not header:
            return None, "No ticket"
        scheme, _, credentials = header.partition("=")
        if scheme.strip() != "PVEAPIToken" or "!" not in credentials:
            return None, "No ticket"
        # PVE accepts "user@realm!id=secret" and "user@realm!id:secret".
        separator = "=" if "=" in credentials else ":"
        token_id, _, secret = credentials.partition(separator)
        if self.tokens.get(token_id.strip()) != secret.strip():
            if self.auth_fail_delay:
                time.sleep(self.auth_fail_delay)  # real pveproxy answers ~3 s late
            return None, "Authentication failed!"
        return token_id.strip(), ""

    def handle_api(self, method: str, path: str, params: dict[str, Any], token: str) -> tuple[int, str, Any]:
        """Route, validate and run one API call; return (status, reason, body dict or None)."""
        record = RecordedRequest(method=method, path=path, params=dict(params))
        try:
            status, reason, body = self._handle(method, path, params, token, record)
        finally:
            with self._records_lock:
                self.requests.append(record)
        record.status, record.reason = status, reason
        return status, reason, body

    def _handle(
        self, method: str, path: str, params: dict[str, Any], token: str, record: RecordedRequest
    ) -> tuple[int, str, Any]:
        path = "/" + path.strip("/")
        not_implemented = PveHttpError(501, f"Method '{method} {path}' not implemented")
        template: str | None
        path_params: dict[str, str]
        info = None
        try:
            if self.schema is not None:
                resolved = self.schema.route(method, path)
                if resolved is None or resolved.info is None:
                    raise not_implemented
                template, path_params, info = resolved.template, resolved.path_params, resolved.info
            else:
                matched = match_route(method, path)
                if matched is None:
                    raise not_implemented
                template, path_params = matched
            record.template = template
            if self.enforce_acl and info is not None:
                # Before proxying to the node and before parameter validation, as pve-http-server does.
                Checker(self.acl, token, self.cluster, {**params, **path_params}).api2(info.get("permissions"))
            node = path_params.get("node")
            if node and node in self.cluster.nodes and not self.cluster.nodes[node].online:
                return 595, NODE_UNREACHABLE, None
            for name, value in path_params.items():
                if params.get(name) is not None and str(params[name]) != value:
                    raise PveHttpError(
                        400,
                        "Parameter verification failed.",
                        {name: "duplicate parameter (already defined in URI) with conflicting values!"},
                    )
            if info is not None:
                record.validated = True
                errors = self.schema.validate(info, {**params, **path_params}) if self.schema else {}
                if errors:
                    record.validation_errors = errors
                    raise PveHttpError(400, "Parameter verification failed.", errors)
            handler = ROUTES.get((method, template))
            if handler is None:
                raise not_implemented
            if self.cluster.latency_seconds:
                time.sleep(self.cluster.latency_seconds)
            call = Call(
                cluster=self.cluster,
                method=method,
                path=path,
                path_params=path_params,
                params={k: v for k, v in params.items() if k not in path_params and v is not None},
                token=token,
            )
            with self.cluster.lock:
                self.cluster.tick()
                checker = Checker(self.acl, token, self.cluster, {**call.params, **path_params})
                code_check = CODE_CHECKS.get((method, template)) if self.enforce_acl else None
                if code_check is not None:
                    code_check(checker, path_params)
                result = handler(call)
                if self.enforce_acl:
                    if isinstance(result, Envelope):
                        result.data = filter_rows(checker, method, template, path_params, result.data)
                    else:
                        result = filter_rows(checker, method, template, path_params, result)
        except PveHttpError as exc:
            body: dict[str, Any] = {"data": None, "message": f"{exc.message}\n"}
            if exc.errors is not None:
                body["errors"] = exc.errors
            return exc.status, exc.message.splitlines()[0] if exc.message else "", body
        except Exception as exc:  # a simulator bug: answer like PVE's generic 500, log the traceback
            logger.exception("pvesim: handler for %s %s crashed", method, path)
            return (
                500,
                str(exc).splitlines()[0] if str(exc) else "internal error",
                {"data": None, "message": f"{exc}\n"},
            )
        if isinstance(result, Envelope):
            body = {"data": result.data}
            if result.total is not None:
                body["total"] = result.total
            return 200, "OK", body
        return 200, "OK", {"data": result}

    def handle_control(self, method: str, action: str, payload: dict[str, Any]) -> Any:
        """The ``/_sim/<action>`` JSON endpoints (the demo's fault injection)."""
        if method == "GET" and action == "state":
            return self.state_summary()
        if method == "GET" and action == "requests":
            with self._records_lock:
                rows = [asdict(r) for r in self.requests if r.validation_errors or not payload.get("failed")]
            return rows[-int(payload.get("limit", 200)) :]
        if method != "POST":
            raise PveHttpError(501, f"Method '{method} /_sim/{action}' not implemented")
        if action == "fail-next-task":
            self.fail_next_task(str(payload["type"]), str(payload["message"]))
        elif action == "node":
            self.set_node_online(str(payload["node"]), bool(payload.get("online", False)))
        elif action == "node-stale":
            self.set_node_stale(str(payload["node"]), bool(payload.get("stale", True)))
        elif action == "latency":
            self.set_latency(float(payload["seconds"]))
        elif action == "lock":
            self.hold_lock(int(payload["vmid"]), float(payload.get("seconds", 30)))
        elif action == "vm-lock":
            lock, seconds = str(payload.get("lock", "backup")), float(payload.get("seconds", 30))
            self.set_vm_lock(int(payload["vmid"]), lock, seconds)
        elif action == "task-seconds":
            self.set_task_seconds(float(payload["seconds"]), payload.get("type"))
        elif action == "gpu":
            self.set_gpu_present(str(payload["node"]), str(payload["address"]), bool(payload.get("present", False)))
        elif action == "hotplug-fail":
            self.fail_next_hotplug(int(payload["vmid"]), str(payload["message"]))
        elif action == "finish-tasks":
            self.finish_tasks()
        else:
            raise PveHttpError(501, f"Method 'POST /_sim/{action}' not implemented")
        return self.state_summary()


_PERCENT_RE = re.compile(r"%([0-9a-fA-F]{2})")


def _unescape(text: str) -> bytes:
    return _PERCENT_RE.sub(lambda m: chr(int(m.group(1), 16)), text.replace("+", " ")).encode("latin-1")


def decode_urlencoded(data: str) -> dict[str, Any]:
    """Form data as pve-http-server's ``decode_urlencoded`` reads it (``PVE::APIServer::AnyEvent``).

    Pairs are split on ``&`` **and** ``;``; each pair on every ``=``, keeping the
    first two fields, so an unencoded ``=`` cuts the value short and ``k=`` or a
    bare ``k`` has no value (None: the key is present but undefined, as in Perl).
    Repeated keys become a list; values are decoded as UTF-8 (invalid bytes replaced).
    """
    result: dict[str, Any] = {}
    for pair in re.split(r"[&;]", data or ""):
        fields = pair.split("=")
        while len(fields) > 1 and fields[-1] == "":
            fields.pop()  # Perl's split drops trailing empty fields
        if not fields or (len(fields) == 1 and fields[0] == ""):
            continue
        key = _unescape(fields[0]).decode("utf-8", "replace")
        if len(fields) == 1:
            result[key] = None
            continue
        value = _unescape(fields[1]).decode("utf-8", "replace")
        old = result.get(key)
        if old is None:
            result[key] = value
        elif isinstance(old, list):
            old.append(value)
        else:
            result[key] = [old, value]
    return result


def _flatten(values: dict[str, list[str]]) -> dict[str, Any]:
    return {key: items[0] if len(items) == 1 else items for key, items in values.items()}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pve-api-daemon/3.0"
    sys_version = ""
    # Buffer the answer so headers and body leave in one write (Nagle + delayed ACK would add ~40 ms).
    wbufsize = 64 * 1024
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("pvesim %s " + format, self.client_address[0], *args)

    def do_GET(self) -> None:
        if self.headers.get("Upgrade", "").lower() == "websocket" and VNC_WEBSOCKET_RE.match(urlsplit(self.path).path):
            self._vncwebsocket()
            return
        self._dispatch("GET")

    def _vncwebsocket(self) -> None:
        """``GET …/vncwebsocket?port=&vncticket=``: upgrade, check the ticket, then serve RFB (``vnc.py``)."""
        simulator = self.server.simulator
        token, reason = simulator.authenticate(self.headers.get("Authorization"))
        if token is None:
            self._send(401, reason, None)
            return
        match = VNC_WEBSOCKET_RE.match(urlsplit(self.path).path)
        assert match is not None  # noqa: S101 - checked by do_GET
        node, vmid = match.group(1), int(match.group(2))
        try:
            # The schema's check of ``GET …/vncwebsocket``: VM.Console on the VM.
            simulator.check_permission(token, f"/vms/{vmid}", ["VM.Console"])
        except PveHttpError as exc:
            self._send(exc.status, exc.message, {"data": None, "message": exc.message + "\n"})
            return
        params = _flatten(parse_qs(urlsplit(self.path).query))
        key = self.headers.get("Sec-WebSocket-Key", "")
        if self.headers.get("Sec-WebSocket-Version") != "13" or not key:
            self._send(400, "websocket upgrade failed", None)
            return
        cluster = simulator.cluster
        if node in cluster.nodes and not cluster.nodes[node].online:
            self._send(595, NODE_UNREACHABLE, None)
            return
        try:
            port = int(params.get("port", ""))
        except ValueError:
            self._send(400, "Parameter verification failed.", {"data": None, "errors": {"port": "not an integer"}})
            return
        grant = vnc.grant_redeem(
            cluster, ticket=str(params.get("vncticket", "")), node=node, vmid=vmid, port=port, token=token
        )
        if grant is None:
            self._send(401, "permission denied - invalid vncticket", None)
            return
        with cluster.lock:
            vm = cluster.vms.get(vmid)
            name = str(vm.config.get("name", f"VM {vmid}")) if vm is not None else f"VM {vmid}"
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", vnc.websocket_accept(key))
        if "binary" in self.headers.get("Sec-WebSocket-Protocol", ""):
            self.send_header("Sec-WebSocket-Protocol", "binary")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        stream = vnc.WebSocketStream(self.rfile, self.wfile)  # type: ignore[arg-type]
        try:
            vnc.rfb_serve(stream, password=grant.password, name=name)
        except (EOFError, OSError):
            return
        stream.close()

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _read_params(self, method: str) -> dict[str, Any]:
        """PVE's ``extract_params``: only POST and PUT read the body (a DELETE's body is ignored)."""
        parts = urlsplit(self.path)
        params: dict[str, Any] = {}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if raw and method in ("POST", "PUT"):
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("application/json"):
                loaded = json.loads(raw.decode("utf-8") or "{}")
                params.update(loaded if isinstance(loaded, dict) else {})
            else:
                params.update(decode_urlencoded(raw.decode("latin-1")))
        # Query parameters are merged into POST/PUT parameters, and the query wins
        # (docs/dev/proxmox-behaviour.md#request-encoding).
        params.update(decode_urlencoded(parts.query))
        return params

    def _dispatch(self, method: str) -> None:
        simulator = self.server.simulator
        try:
            params = self._read_params(method)
        except (ValueError, UnicodeDecodeError):
            self._send(400, "Bad Request", None)
            return
        path = urlsplit(self.path).path  # segments are percent-decoded by the router (UPIDs may be encoded)
        token, reason = simulator.authenticate(self.headers.get("Authorization"))
        if token is None:
            self._send(401, reason, None)
            return
        if path.startswith("/_sim/"):
            try:
                data = simulator.handle_control(method, path[len("/_sim/") :].strip("/"), params)
            except PveHttpError as exc:
                self._send(exc.status, exc.message, {"data": None, "message": exc.message + "\n"})
            except (KeyError, ValueError) as exc:
                self._send(400, f"bad control request: {exc}", {"data": None, "message": str(exc)})
            else:
                self._send(200, "OK", {"data": data})
            return
        if not path.startswith("/api2/json/"):
            self._send(501, f"Method '{method} {path}' not implemented", {"data": None})
            return
        status, reason, body = simulator.handle_api(method, path[len("/api2/json") :], params, token)
        self._send(status, reason, body)

    def _send(self, status: int, reason: str, body: Any) -> None:
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        # The reason phrase carries PVE's message: only its first line (docs/dev/proxmox-behaviour.md#error-responses).
        line = (reason or "").splitlines()[0] if reason else ""
        # The status line goes out as UTF-8 bytes (an agent error can quote glib's “…”); http.server would
        # encode it as latin-1 and fail on such characters (docs/dev/proxmox-behaviour.md#guest-agent-files-exec).
        self.send_response(status, line.encode("utf-8").decode("latin-1"))
        if body is not None:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "max-age=0")
        self.send_header("Pragma", "no-cache")
        self.send_header("Expires", email.utils.formatdate(usegmt=True))
        if status >= 400:
            # pveproxy turns keep-alive off on errors.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
