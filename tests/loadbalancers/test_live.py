"""The generated configuration run by the real HAProxy on loopback, in front of two tiny HTTP backends.

Round-robin across both; a stopped backend taken out by its health check (read through the stats
socket by ``apps.loadbalancers.rules.health``) and put back when it returns; TLS termination with a
certificate checked by ``apps.loadbalancers.rules.certificates``; the HTTP→HTTPS redirect; a reload with
a changed configuration, delivered by ``apps.loadbalancers.rules.delivery``'s plan, while a client sends
requests without pause: not one fails, and a request in flight across the reload completes.
Every wait is bounded (``support.wait_until``); processes and threads are stopped by the fixtures.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import socket
import ssl
import subprocess
import threading
from pathlib import Path

from apps.loadbalancers.rules.certificates import certificate_validate
from apps.loadbalancers.rules.delivery import Layout, agent_plan, certificate_path, runtime_read
from apps.loadbalancers.rules.haproxy import haproxy_config_render
from apps.loadbalancers.rules.health import Health, health_from_servers_state, health_from_show_stat, target_health
from apps.loadbalancers.rules.spec import (
    ForwardingRule,
    HealthCheck,
    HealthCheckProtocol,
    Limits,
    LoadBalancerSpec,
    Protocol,
    StickySessions,
    Target,
    Tls,
    TlsMode,
)
from tests.loadbalancers.support import Backend, HaproxyProcess, free_port, http_get, make_chain, run_plan, wait_until

P = Protocol
FAST_CHECK = HealthCheck(
    HealthCheckProtocol.HTTP, path="/health", interval_seconds=1, timeout_seconds=1, rise=1, fall=1
)


def _spec(backends: list[Backend], http_port: int, **changes: object) -> LoadBalancerSpec:
    spec = LoadBalancerSpec(
        name="lb-live",
        rules=(ForwardingRule(P.HTTP, http_port, P.HTTP, 1),),
        targets=tuple(Target(b.name, "127.0.0.1", b.port) for b in backends),
        health_check=FAST_CHECK,
        # Few connections: HAProxy must raise its file descriptor limit to about twice this (CI containers cap it).
        limits=Limits(max_connections=1000),
    )
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def _health(process: HaproxyProcess, names: list[str]) -> dict[str, Health]:
    return target_health(health_from_show_stat(process.command("show stat")), names)


def _wait_health(process: HaproxyProcess, expected: dict[str, Health]) -> None:
    wait_until(lambda: _health(process, list(expected)) == expected, what=f"health {expected}")


def test_round_robin_across_both_targets(backends, haproxy_run, runtime):
    a, b = backends("a"), backends("b")
    port = free_port()
    process = haproxy_run(haproxy_config_render(_spec([a, b], port), runtime=runtime))
    _wait_health(process, {"a": Health.UP, "b": Health.UP})

    answers = [http_get(port) for _ in range(10)]

    assert {status for status, _, _ in answers} == {200}
    assert collections.Counter(body for _, _, body in answers) == {"a": 5, "b": 5}
    # HTTP mode tells the targets who the client is.
    assert a.seen_headers[-1]["x-forwarded-for"] == "127.0.0.1"
    assert a.seen_headers[-1]["x-forwarded-proto"] == "http"


def test_a_stopped_target_is_taken_out_by_its_health_check_and_put_back(backends, haproxy_run, runtime):
    a, b = backends("a"), backends("b")
    port = free_port()
    process = haproxy_run(haproxy_config_render(_spec([a, b], port), runtime=runtime))
    _wait_health(process, {"a": Health.UP, "b": Health.UP})

    b.stop()
    _wait_health(process, {"a": Health.UP, "b": Health.DOWN})
    state = target_health(health_from_servers_state(process.command("show servers state")), ["a", "b"])
    assert state == {"a": Health.UP, "b": Health.DOWN}  # both runtime API answers agree
    # What the platform runs on the VM through the guest agent reads the same.
    read = runtime_read("show stat", stats_socket=str(process.stats_socket))
    output = subprocess.run(list(read.command), capture_output=True, text=True, timeout=read.timeout_seconds)
    assert output.returncode == 0, output.stderr
    assert target_health(health_from_show_stat(output.stdout), ["a", "b"]) == {"a": Health.UP, "b": Health.DOWN}
    answers = [http_get(port) for _ in range(6)]
    assert [(status, body) for status, _, body in answers] == [(200, "a")] * 6

    b.start()  # on the same port again
    _wait_health(process, {"a": Health.UP, "b": Health.UP})
    bodies = {http_get(port)[2] for _ in range(6)}
    assert bodies == {"a", "b"}


def test_a_target_failing_its_http_check_is_taken_out(backends, haproxy_run, runtime):
    a, b = backends("a"), backends("b")
    port = free_port()
    process = haproxy_run(haproxy_config_render(_spec([a, b], port), runtime=runtime))
    _wait_health(process, {"a": Health.UP, "b": Health.UP})

    b.healthy = False  # still accepts connections; /health answers 503
    _wait_health(process, {"a": Health.UP, "b": Health.DOWN})
    assert {http_get(port)[2] for _ in range(4)} == {"a"}


def test_sticky_sessions_keep_a_client_on_its_target(backends, haproxy_run, runtime):
    a, b = backends("a"), backends("b")
    port = free_port()
    spec = _spec([a, b], port, sticky_sessions=StickySessions(cookie_name="LBSTICKY"))
    process = haproxy_run(haproxy_config_render(spec, runtime=runtime))
    _wait_health(process, {"a": Health.UP, "b": Health.UP})

    _, headers, first = http_get(port)
    cookie = headers["set-cookie"].split(";", 1)[0]
    assert cookie.startswith(f"LBSTICKY={first}|")  # the server's name, then maxlife's dates
    assert {http_get(port, headers={"Cookie": cookie})[2] for _ in range(6)} == {first}


def _tls_setup(tmp_path: Path):
    chain = make_chain(("lb.test",), addresses=("127.0.0.1",))
    checked = certificate_validate(
        certificate=chain.leaf.certificate,
        chain=chain.intermediate.certificate,  # the client trusts only the root: HAProxy must send the intermediate
        private_key=chain.leaf.key,
        now=dt.datetime.now(dt.UTC),
    )
    layout = Layout(certificate_dir=str(tmp_path / "certs"))
    path = Path(certificate_path(checked.fingerprint_sha256, layout))
    path.parent.mkdir(mode=0o700)
    path.write_text(checked.bundle)
    path.chmod(0o600)
    client = ssl.create_default_context(cadata=chain.root.certificate)
    return checked, str(path), client


def test_tls_termination_with_an_uploaded_certificate(backends, haproxy_run, runtime, tmp_path):
    a, b = backends("a"), backends("b")
    http_port, https_port = free_port(), free_port()
    checked, bundle, client = _tls_setup(tmp_path)
    spec = _spec(
        [a, b],
        http_port,
        rules=(ForwardingRule(P.HTTP, http_port, P.HTTP, 1), ForwardingRule(P.HTTPS, https_port, P.HTTP, 1)),
        tls=Tls(TlsMode.TERMINATE, bundle),
    )
    process = haproxy_run(haproxy_config_render(spec, runtime=runtime))
    _wait_health(process, {"a": Health.UP, "b": Health.UP})

    bodies = [http_get(https_port, host="lb.test", tls=client) for _ in range(4)]

    assert {(status, body) for status, _, body in bodies} == {(200, "a"), (200, "b")}
    assert a.seen_headers[-1]["x-forwarded-proto"] == "https"
    # The certificate served is the one uploaded, and HTTP/2 is offered (ALPN h2, as gRPC needs).
    client.set_alpn_protocols(["h2", "http/1.1"])
    raw = socket.create_connection(("127.0.0.1", https_port), timeout=5)
    with client.wrap_socket(raw, server_hostname="lb.test") as tls:
        served = tls.getpeercert(binary_form=True)
        assert served is not None
        assert hashlib.sha256(served).hexdigest() == checked.fingerprint_sha256
        assert tls.selected_alpn_protocol() == "h2"


def test_http_is_redirected_to_https(backends, haproxy_run, runtime, tmp_path):
    a = backends("a")
    http_port, https_port = free_port(), free_port()
    _, bundle, client = _tls_setup(tmp_path)
    spec = _spec(
        [a],
        http_port,
        rules=(ForwardingRule(P.HTTP, http_port, P.HTTP, 1), ForwardingRule(P.HTTPS, https_port, P.HTTP, 1)),
        tls=Tls(TlsMode.TERMINATE, bundle),
        redirect_http_to_https=True,
    )
    process = haproxy_run(haproxy_config_render(spec, runtime=runtime))
    _wait_health(process, {"a": Health.UP})

    status, headers, _ = http_get(http_port, "/shop/cart?item=42", host=f"lb.test:{http_port}")
    assert status == 301
    assert headers["location"] == f"https://lb.test:{https_port}/shop/cart?item=42"
    status, headers, _ = http_get(http_port, "/", host=f"[::1]:{http_port}")
    assert headers["location"] == f"https://[::1]:{https_port}/"
    assert a.seen_paths.count("/shop/cart?item=42") == 0  # redirected, never forwarded
    # Following it lands on the backend over TLS.
    assert http_get(https_port, "/shop/cart?item=42", host="lb.test", tls=client)[::2] == (200, "a")


def test_a_reload_with_a_changed_configuration_fails_no_request(backends, haproxy_run, runtime, tmp_path):
    a, b, c = backends("a"), backends("b"), backends("c")
    port = free_port()
    process = haproxy_run(haproxy_config_render(_spec([a, b], port), runtime=runtime))
    _wait_health(process, {"a": Health.UP, "b": Health.UP})
    layout = Layout(
        config_path=str(process.config_path),
        certificate_dir=str(tmp_path / "certs"),
        reload_command=("/bin/kill", "-USR2", str(process.pid)),  # what systemctl reload does (Debian's unit)
    )

    stop = threading.Event()
    results: list[str] = []
    failures: list[str] = []

    def client() -> None:
        while not stop.is_set():
            try:
                status, _, body = http_get(port)
            except Exception as exc:  # any error is a failed request
                failures.append(repr(exc))
                continue
            (results if status == 200 else failures).append(body if status == 200 else f"{status} {body}")

    slow: list[tuple[int, str]] = []
    slow_errors: list[str] = []

    def slow_request() -> None:
        try:
            status, _, body = http_get(port, "/slow", timeout=10)
            slow.append((status, body))
        except Exception as exc:
            slow_errors.append(repr(exc))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(results) >= 30, what="requests before the reload")
        slow_thread = threading.Thread(target=slow_request, daemon=True)
        slow_thread.start()
        wait_until(lambda: "/slow" in a.seen_paths + b.seen_paths, what="a request in flight")

        new_config = haproxy_config_render(_spec([a, b, c], port), runtime=runtime)
        outcome = run_plan(agent_plan(config=new_config, layout=layout))
        assert outcome.ok, outcome

        wait_until(lambda: "c" in results, what="the new target serving after the reload")
        seen = len(results)
        wait_until(lambda: len(results) >= seen + 30, what="requests after the reload")
        slow_thread.join(timeout=10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)

    assert failures == []
    assert slow_errors == [] and slow and slow[0][0] == 200, "the request in flight across the reload completed"
    assert process.config_path.read_text() == new_config
    assert process.process is not None and process.process.poll() is None, "the master lives on"
    _wait_health(process, {"a": Health.UP, "b": Health.UP, "c": Health.UP})
