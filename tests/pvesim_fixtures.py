"""Pytest fixtures for the Proxmox VE simulator (registered in ``tests/conftest.py``).

* ``pvesim``: a fresh simulator per test (``apps.pvesim.server.PveSimulator``) on a
  free loopback port, serving the test fleet (``apps/pvesim/fleets/test.yaml``)
  over HTTPS, tasks of 0 s, lock waits of 0 s. It exposes ``url``, ``ca_path``,
  ``token_id``, ``token_secret``, ``cluster`` (the state, for inspection), the
  fault-injection methods (``fail_next_task``, ``set_node_online``,
  ``set_node_stale``, ``set_latency``, ``hold_lock``, ``set_vm_lock``,
  ``set_guest_acpi``, ``set_task_seconds``, ``set_gpu_present``) and
  ``requests`` / ``validation_failures`` (each request with its schema check).
* ``pvesim_session``: the same, shared by a whole session (reset nothing; use
  distinct VMIDs).
* ``pve_driver`` / ``pve_driver_session``: a ``ProxmoxDriver`` connected to it
  over HTTPS with the generated CA (verification on), fast polling and backoff.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from apps.infrastructure.proxmox.driver import ProxmoxDriver
from apps.pvesim.fleet import Fleet, load_fleet
from apps.pvesim.server import PveSimulator, create_ca

TEST_FLEET = Path(__file__).resolve().parent.parent / "apps" / "pvesim" / "fleets" / "test.yaml"


@pytest.fixture(scope="session")
def pvesim_fleet() -> Fleet:
    return load_fleet(TEST_FLEET)


@pytest.fixture(scope="session")
def pvesim_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """One CA for the session (key generation is the slow part of a start), written to a PEM file."""
    ca = create_ca()
    path = tmp_path_factory.mktemp("pvesim") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


def _start(fleet: Fleet, ca: tuple[trustme.CA, Path]) -> PveSimulator:
    simulator = PveSimulator(fleet.cluster(), task_seconds=0.0, lock_wait_seconds=0.0, ca=ca[0], ca_path=ca[1])
    return simulator.start()


@pytest.fixture
def pvesim(pvesim_fleet: Fleet, pvesim_ca: tuple[trustme.CA, Path]) -> Iterator[PveSimulator]:
    simulator = _start(pvesim_fleet, pvesim_ca)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="session")
def pvesim_session(pvesim_fleet: Fleet, pvesim_ca: tuple[trustme.CA, Path]) -> Iterator[PveSimulator]:
    simulator = _start(pvesim_fleet, pvesim_ca)
    try:
        yield simulator
    finally:
        simulator.stop()


def make_driver(simulator: PveSimulator, **overrides: object) -> ProxmoxDriver:
    options: dict[str, object] = {
        "verify": str(simulator.ca_path),
        "timeout": 10.0,
        "task_poll_interval": 0.01,
        "retries": 2,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
    }
    options.update(overrides)
    return ProxmoxDriver(simulator.url, simulator.token_id, simulator.token_secret, **options)  # type: ignore[arg-type]


@pytest.fixture
def pve_driver(pvesim: PveSimulator) -> ProxmoxDriver:
    return make_driver(pvesim)


@pytest.fixture(scope="session")
def pve_driver_session(pvesim_session: PveSimulator) -> ProxmoxDriver:
    return make_driver(pvesim_session)
