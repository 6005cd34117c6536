"""Fixtures of the load balancer engine's tests: HAProxy processes and HTTP backends, always stopped after the test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apps.loadbalancers.rules.haproxy import Runtime
from tests.loadbalancers.support import Backend, HaproxyProcess, haproxy_binary


@pytest.fixture(scope="session")
def haproxy_path() -> str:
    """Debian's haproxy; the tests fail (not skip) with how to install it when it is missing."""
    return haproxy_binary()


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory for the stats socket (a UNIX socket path has at most 107 bytes; tmp_path can be longer)."""
    path = Path(tempfile.mkdtemp(prefix="lb-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def runtime(socket_dir: Path) -> Runtime:
    """HAProxy's runtime on loopback, unprivileged, its stats socket in ``socket_dir``."""
    return Runtime(
        stats_socket=str(socket_dir / "admin.sock"),
        bind_address="127.0.0.1",
        chroot=None,
        user=None,
        group=None,
        log_target=None,
    )


@pytest.fixture
def backends() -> Iterator[Callable[[str], Backend]]:
    """``backends("a")`` starts an HTTP backend answering "a"; all are stopped after the test."""
    started: list[Backend] = []

    def start(name: str) -> Backend:
        backend = Backend(name).start()
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.stop()


@pytest.fixture
def haproxy_run(tmp_path: Path, socket_dir: Path, haproxy_path: str) -> Iterator[Callable[[str], HaproxyProcess]]:
    """``haproxy_run(config_text)`` writes the configuration and runs HAProxy on it; stopped after the test."""
    started: list[HaproxyProcess] = []

    def run(config: str) -> HaproxyProcess:
        config_path = tmp_path / "haproxy.cfg"
        config_path.write_text(config)
        process = HaproxyProcess(
            config_path=config_path, stats_socket=socket_dir / "admin.sock", log_path=tmp_path / "haproxy.log"
        )
        started.append(process)
        return process.start()

    yield run
    for process in started:
        process.stop()
