"""The guest-agent plan run through the Proxmox driver against the simulator's Debian guest.

What the load balancer's runner will do on real Proxmox: each ``FileWrite`` is ``agent_file_write``,
each ``Exec`` is ``agent_exec`` then ``agent_exec_wait`` until exit code 0, stopping at the first
failure and running ``on_failure``. The simulator models the programs the plan uses (install,
sh with "$@", chmod, mv, find, the real ``haproxy -c``, systemctl reload with Debian's check)
(docs/dev/proxmox-behaviour.md#simulator-guest).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from apps.loadbalancers.rules.certificates import CheckedCertificate, certificate_validate
from apps.loadbalancers.rules.delivery import (
    AgentPlan,
    CertificateFile,
    Exec,
    FileWrite,
    agent_plan,
    certificate_path,
    runtime_read,
    user_data_render,
)
from apps.loadbalancers.rules.haproxy import haproxy_config_render
from apps.loadbalancers.rules.health import Health, health_from_show_stat
from apps.loadbalancers.rules.spec import (
    ForwardingRule,
    HealthCheck,
    HealthCheckProtocol,
    LoadBalancerSpec,
    Protocol,
    Target,
    Tls,
    TlsMode,
)
from apps.pvesim.agent import Guest, show_stat
from apps.pvesim.fleet import StorageSpec
from apps.pvesim.server import PveSimulator
from tests.loadbalancers.support import make_chain
from tests.pvesim.client import clone, connect, exitstatus

VMID = 100900
NODE = "pve1"
P = Protocol


@pytest.fixture
def guest_vm(pvesim):
    pve = connect(pvesim)
    clone(pve, VMID, name="lb-sim")
    assert exitstatus(pve, pve.nodes(NODE).qemu(VMID).status.start.post()) == "OK"
    return pvesim


def _run(driver, plan: AgentPlan) -> Exec | None:
    """The runner: the failed step (after ``on_failure``), or None when every step succeeded."""
    for step in plan.steps:
        if isinstance(step, FileWrite):
            driver.agent_file_write(NODE, VMID, step.path, step.content)
            continue
        pid = driver.agent_exec(NODE, VMID, list(step.command))
        status = driver.agent_exec_wait(NODE, VMID, pid, timeout=step.timeout_seconds)
        if status.exitcode != 0:
            for undo in plan.on_failure:
                assert isinstance(undo, Exec)
                driver.agent_exec_wait(NODE, VMID, driver.agent_exec(NODE, VMID, list(undo.command)), timeout=30)
            return step
    return None


def _checked() -> CheckedCertificate:
    chain = make_chain()
    return certificate_validate(
        certificate=chain.leaf.certificate,
        chain=chain.intermediate.certificate,
        private_key=chain.leaf.key,
        now=dt.datetime.now(dt.UTC),
    )


def _spec(cert: str, targets: int) -> LoadBalancerSpec:
    return LoadBalancerSpec(
        name="lb-sim",
        rules=(ForwardingRule(P.HTTP, 80, P.HTTP, 8080), ForwardingRule(P.HTTPS, 443, P.HTTP, 8080)),
        targets=tuple(Target(f"srv-{i:04d}", f"10.1.{i // 256}.{i % 256}") for i in range(targets)),
        health_check=HealthCheck(HealthCheckProtocol.HTTP, path="/health"),
        tls=Tls(TlsMode.TERMINATE, cert),
    )


def test_a_change_reaches_the_guest_checked_and_reloaded(guest_vm, pve_driver):
    checked = _checked()
    cert = certificate_path(checked.fingerprint_sha256)
    # 1000 targets: larger than one file-write, so the configuration goes in parts joined in the guest.
    config = haproxy_config_render(_spec(cert, targets=1000))
    guest = guest_vm.guest(VMID)
    reloads = guest.haproxy_reloads

    failed = _run(pve_driver, agent_plan(config=config, certificate=CertificateFile(cert, checked.bundle)))

    assert failed is None
    guest = guest_vm.guest(VMID)
    assert guest.files["/etc/haproxy/haproxy.cfg"] == config.encode()
    assert guest.haproxy_config == config.encode(), "the running HAProxy loaded it"
    assert guest.haproxy_reloads == reloads + 1
    assert guest.files[cert] == checked.bundle.encode()
    assert guest.modes[cert] == 0o600 and guest.modes["/etc/haproxy/certs"] == 0o700
    assert not [p for p in guest.files if p.startswith("/etc/haproxy/haproxy.cfg.")]  # no .new, no parts
    assert [(r.method, r.path, r.validation_errors) for r in guest_vm.validation_failures] == []

    # A configuration that fails the check never replaces the running one.
    broken = config + "backend broken\n    server x 10.0.0.1:80 no-such-keyword\n"
    failed = _run(pve_driver, agent_plan(config=broken, certificate=CertificateFile(cert, checked.bundle)))

    assert failed is not None and failed.failure_code == "config_check_failed"
    guest = guest_vm.guest(VMID)
    assert guest.files["/etc/haproxy/haproxy.cfg"] == config.encode()
    assert guest.haproxy_config == config.encode()
    assert guest.haproxy_reloads == reloads + 1
    assert "/etc/haproxy/haproxy.cfg.new" not in guest.files


@pytest.fixture
def snippets(tmp_path: Path) -> Path:
    path = tmp_path / "snippets-share"
    (path / "snippets").mkdir(parents=True)
    return path


@pytest.fixture
def pvesim_with_snippets(pvesim_fleet, pvesim_ca, snippets: Path):
    """The test fleet plus a snippets storage backed by a temporary directory (cicustom user-data)."""
    spec = pvesim_fleet.cluster()
    nfs = StorageSpec(
        name="snippets-nfs", type="nfs", content=("snippets",), shared=True, size_gb=1, path=str(snippets)
    )
    simulator = PveSimulator(
        dataclasses.replace(spec, storages=(*spec.storages, nfs)),
        task_seconds=0.0,
        lock_wait_seconds=0.0,
        ca=pvesim_ca[0],
        ca_path=pvesim_ca[1],
    ).start()
    try:
        yield simulator
    finally:
        simulator.stop()


def test_first_boot_user_data_starts_haproxy_on_the_configuration(pvesim_with_snippets, snippets):
    sim = pvesim_with_snippets
    checked = _checked()
    cert = certificate_path(checked.fingerprint_sha256)
    config = haproxy_config_render(_spec(cert, targets=3))
    user_data = user_data_render(config=config, certificate=CertificateFile(cert, checked.bundle))
    (snippets / "snippets" / "lb-user.yaml").write_text(user_data)
    pve = connect(sim)
    clone(pve, VMID, name="lb-sim")
    vm = pve.nodes(NODE).qemu(VMID)
    vm.config.put(cicustom="user=snippets-nfs:snippets/lb-user.yaml")

    assert exitstatus(pve, vm.status.start.post()) == "OK"

    guest = sim.guest(VMID)
    assert guest.haproxy_active and guest.haproxy_config == config.encode()
    assert guest.files[cert] == checked.bundle.encode()
    assert guest.modes[cert] == 0o600 and guest.modes["/etc/haproxy/certs"] == 0o700


def _exec(driver, argv: list[str]):
    return driver.agent_exec_wait(NODE, VMID, driver.agent_exec(NODE, VMID, argv), timeout=30)


def test_the_guest_models_only_the_stats_socket_client_and_ip_on_its_own_cards(guest_vm, pve_driver):
    other = _exec(pve_driver, ["/usr/bin/python3", "-c", "print(1)"])
    assert other.exitcode == 1 and b"simulator models only" in other.stderr
    # HAProxy runs the package's default configuration, whose socket is /run/haproxy/admin.sock; another path fails.
    read = runtime_read("show stat", stats_socket="/run/haproxy/other.sock")
    missing = _exec(pve_driver, list(read.command))
    assert missing.exitcode == 1 and b"FileNotFoundError" in missing.stderr
    assert _exec(pve_driver, list(runtime_read("show info").command)).exitcode == 1, "only show stat is modelled"

    assert _exec(pve_driver, ["/bin/ip", "link", "set", "dev", "eth0", "up"]).exitcode == 0
    absent = _exec(pve_driver, ["/bin/ip", "addr", "replace", "10.9.0.2/24", "dev", "eth7"])
    assert absent.exitcode == 1 and absent.stderr == b'Cannot find device "eth7"\n'
    assert _exec(pve_driver, ["/bin/ip", "addr", "add", "192.0.2.10/24", "dev", "eth0"]).exitcode == 0
    again = _exec(pve_driver, ["/bin/ip", "addr", "add", "192.0.2.10/24", "dev", "eth0"])
    assert again.exitcode == 2 and b"File exists" in again.stderr
    assert _exec(pve_driver, ["/bin/ip", "route", "show"]).exitcode == 1
    assert guest_vm.guest(VMID).addresses == {"eth0": {"192.0.2.10/24"}}


def test_the_simulated_show_stat_has_haproxys_header_and_reads_back():
    config = haproxy_config_render(
        LoadBalancerSpec(
            name="lb-sim",
            rules=(ForwardingRule(P.HTTP, 80, P.HTTP, 8080),),
            targets=(Target("a", "192.0.2.1"), Target("b", "192.0.2.2")),
            health_check=HealthCheck(HealthCheckProtocol.TCP),
        )
    )
    text = show_stat(Guest(), config + "backend be_9\n    server nock 192.0.2.3:80\n")
    real = (Path(__file__).parent / "data" / "show_stat.csv").read_text().splitlines()[0]
    assert text.splitlines()[0] == real, "the columns Debian's HAProxy 2.6 prints"
    rows = {(r.backend, r.server): r for r in health_from_show_stat(text)}
    # A guest with no neighbours reaches nothing: checked servers are down, an unchecked one is not judged.
    assert rows[("be_80", "a")].health == Health.DOWN and "Layer4 timeout" in rows[("be_80", "a")].detail
    assert rows[("be_80", "b")].health == Health.DOWN
    assert rows[("be_9", "nock")].health == Health.UNKNOWN
