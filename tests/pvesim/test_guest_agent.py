"""The guest agent's file-write, file-read, exec and exec-status in the simulator, through proxmoxer and the
driver (docs/dev/proxmox-behaviour.md#guest-agent-files-exec)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import yaml

from apps.infrastructure.proxmox import (
    ProxmoxGuestAgentError,
    ProxmoxGuestAgentNotRunning,
    ProxmoxGuestExecTimeout,
    ProxmoxPermanentError,
    ProxmoxTransientError,
)
from apps.pvesim.agent import HAPROXY_BINARY, Guest
from apps.pvesim.fleet import StorageSpec
from apps.pvesim.handlers import ROUTES
from apps.pvesim.server import PveSimulator
from apps.pvesim.state import PveHttpError
from tests.pvesim.client import clone, connect, exitstatus, refused

VMID = 100800
NODE = "pve1"
HAS_HAPROXY = Path(HAPROXY_BINARY).exists()
needs_haproxy = pytest.mark.skipif(
    not HAS_HAPROXY, reason="Debian's haproxy is not installed (apt-get install haproxy; .ci/run installs it)"
)

GOOD_CFG = b"""global
    maxconn 100

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend www
    bind 127.0.0.1:18080
    default_backend pool

backend pool
    balance roundrobin
    server web1 10.0.0.11:80 check
"""
BAD_CFG = b"global\n    maxconn 100\nfrontnd www\n    bind 127.0.0.1:18080\n"


@pytest.fixture
def pve(pvesim):
    pve = connect(pvesim)
    clone(pve, VMID, name="lb-1")
    assert exitstatus(pve, pve.nodes(NODE).qemu(VMID).status.start.post()) == "OK"
    return pve


def _agent(pve):
    return pve.nodes(NODE).qemu(VMID).agent


def _guest(pvesim) -> Guest:
    return pvesim.guest(VMID)


def _no_invalid_requests(pvesim) -> None:
    assert [(r.method, r.path, r.validation_errors) for r in pvesim.validation_failures] == []


# ------------------------------------------------------------------ files


def test_file_write_then_read_round_trips_text_and_binary(pve, pvesim, pve_driver):
    pve_driver.agent_file_write(NODE, VMID, "/etc/haproxy/haproxy.cfg.new", GOOD_CFG)
    assert pve_driver.agent_file_read(NODE, VMID, "/etc/haproxy/haproxy.cfg.new") == GOOD_CFG
    binary = bytes(range(256)) * 4
    pve_driver.agent_file_write(NODE, VMID, "/tmp/blob", binary)
    assert pve_driver.agent_file_read(NODE, VMID, "/tmp/blob") == binary
    assert _guest(pvesim).files["/tmp/blob"] == binary
    # The text went as it is (encode=1), the binary base64-encoded by the driver (encode=0).
    writes = [r for r in pvesim.requests if r.path.endswith("/agent/file-write")]
    assert [w.params.get("encode") for w in writes] == ["1", "0"]
    # mode wb: a second write truncates.
    pve_driver.agent_file_write(NODE, VMID, "/tmp/blob", b"short\n")
    assert pve_driver.agent_file_read(NODE, VMID, "/tmp/blob") == b"short\n"
    _no_invalid_requests(pvesim)


def test_file_write_with_encode_1_writes_the_text_and_with_encode_0_needs_base64(pve):
    agent = _agent(pve)
    assert agent("file-write").post(file="/tmp/a.txt", content="hello\n") is None
    assert agent("file-read").get(file="/tmp/a.txt")["content"] == "hello\n"
    agent("file-write").post(file="/tmp/b.txt", content="aGVsbG8K", encode=0)
    assert agent("file-read").get(file="/tmp/b.txt")["content"] == "hello\n"
    broken = refused(agent("file-write").post, file="/tmp/c.txt", content="not base64!", encode=0)
    assert broken.status_code == 500 and broken.content.startswith("Agent error: ")


def test_file_write_needs_the_parent_directory(pve, pve_driver):
    with pytest.raises(ValueError, match="absolute"):
        pve_driver.agent_file_write(NODE, VMID, "etc/haproxy/haproxy.cfg", b"x")
    with pytest.raises(ProxmoxGuestAgentError) as info:
        pve_driver.agent_file_write(NODE, VMID, "/etc/haproxy/certs/site.pem", b"pem\n")
    assert info.value.status_code == 500
    assert info.value.message == (
        "Agent error: failed to open file '/etc/haproxy/certs/site.pem' (mode: 'wb'): No such file or directory"
    )
    assert not info.value.is_transient
    with pytest.raises(ProxmoxGuestAgentError, match="No such file or directory"):
        pve_driver.agent_file_read(NODE, VMID, "/etc/haproxy/nothing.cfg")


def test_file_write_content_limit(pve, pvesim, pve_driver):
    agent = _agent(pve)
    exact = "x" * 61440
    agent("file-write").post(file="/tmp/max", content=exact)
    assert agent("file-read").get(file="/tmp/max")["content"] == exact
    too_long = refused(agent("file-write").post, file="/tmp/max", content=exact + "x")
    assert too_long.status_code == 400
    assert too_long.errors == {"content": "value may only be 61440 characters long"}
    # The driver refuses before sending: 61441 bytes of text, or 46081 bytes of binary (base64 grows it by 4/3).
    pvesim.clear_requests()
    with pytest.raises(ValueError, match="61440 bytes of printable ASCII text, 46080 bytes otherwise"):
        pve_driver.agent_file_write(NODE, VMID, "/tmp/big", b"x" * 61441)
    with pytest.raises(ValueError, match="46081 bytes"):
        pve_driver.agent_file_write(NODE, VMID, "/tmp/big", b"\x00" * 46081)
    assert list(pvesim.requests) == []
    pve_driver.agent_file_write(NODE, VMID, "/tmp/big", b"\x00" * 46080)
    assert pve_driver.agent_file_read(NODE, VMID, "/tmp/big") == b"\x00" * 46080


def test_file_read_stops_at_16_mib_with_truncated(pve, pvesim, pve_driver):
    _guest(pvesim).files["/var/log/huge.log"] = b"a" * (16 * 1024 * 1024 + 10)
    answer = _agent(pve)("file-read").get(file="/var/log/huge.log")
    assert answer["truncated"] == 1 and len(answer["content"]) == 16 * 1024 * 1024
    with pytest.raises(ProxmoxGuestAgentError, match="larger than the 16 MiB"):
        pve_driver.agent_file_read(NODE, VMID, "/var/log/huge.log")


# ------------------------------------------------------------------ preconditions


def test_agent_calls_need_a_configured_agent_a_running_vm_and_a_running_agent(pve, pvesim, pve_driver):
    vm = pve.nodes(NODE).qemu(VMID)
    assert exitstatus(pve, vm.status.stop.post()) == "OK"
    stopped = refused(vm.agent("file-read").get, file="/etc/hostname")
    assert (stopped.status_code, stopped.content) == (500, f"VM {VMID} is not running")
    with pytest.raises(ProxmoxPermanentError, match="is not running"):
        pve_driver.agent_exec(NODE, VMID, ["/bin/true"])
    vm.config.put(agent=0)
    no_agent = refused(vm.agent("file-write").post, file="/tmp/x", content="x")
    assert (no_agent.status_code, no_agent.content) == (500, "No QEMU guest agent configured")
    vm.config.put(agent=1)
    # The guest needs as long as a task to boot before its agent answers.
    pvesim.set_task_seconds(0.0)
    assert exitstatus(pve, vm.status.start.post()) == "OK"
    pvesim.set_task_seconds(30.0)
    booting = refused(vm.agent("exec").post, command=["/bin/true"])
    assert (booting.status_code, booting.content) == (500, "QEMU guest agent is not running")
    with pytest.raises(ProxmoxGuestAgentNotRunning) as info:
        pve_driver.agent_file_write(NODE, VMID, "/tmp/x", b"x")
    assert info.value.is_transient


def test_exec_without_command_is_refused(pve):
    missing = refused(_agent(pve)("exec").post)
    assert missing.status_code == 400 and "command" in missing.errors


# ------------------------------------------------------------------ exec


def test_exec_sends_the_command_as_an_array_and_runs_a_chain(pve, pvesim, pve_driver):
    pve_driver.agent_file_write(NODE, VMID, "/tmp/new.cfg", b"v2\n")
    script = "test -f /tmp/new.cfg && mkdir -p /srv/lb/conf && cp /tmp/new.cfg /srv/lb/conf/a && cat /srv/lb/conf/a"
    pid = pve_driver.agent_exec(NODE, VMID, ["/bin/sh", "-c", script])
    sent = [r for r in pvesim.requests if r.path.endswith("/agent/exec")][-1]
    assert sent.params["command"] == ["/bin/sh", "-c", script]  # proxmoxer repeated the key
    result = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=5)
    assert (result.exited, result.exitcode, result.stdout, result.stderr) == (True, 0, b"v2\n", b"")
    # A failing step stops an && chain; || runs on failure; the status is the last command's.
    pid = pve_driver.agent_exec(
        NODE, VMID, ["sh", "-c", "rm /tmp/none && echo no; rm -f /tmp/new.cfg; test -f /tmp/new.cfg || cat /tmp/x"]
    )
    result = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=5)
    assert result.exitcode == 1
    assert (
        result.stderr
        == b"rm: cannot remove '/tmp/none': No such file or directory\ncat: /tmp/x: No such file or directory\n"
    )
    assert "/tmp/new.cfg" not in _guest(pvesim).files
    _no_invalid_requests(pvesim)


def test_exec_is_asynchronous_and_its_status_is_read_once(pve, pvesim, pve_driver):
    pvesim.set_guest_exec_seconds(VMID, 0.3)
    pve_driver.agent_file_write(NODE, VMID, "/tmp/a", b"A")
    pid = pve_driver.agent_exec(NODE, VMID, ["/bin/mv", "/tmp/a", "/tmp/b"])
    running = pve_driver.agent_exec_status(NODE, VMID, pid)
    assert running.exited is False and running.exitcode is None
    assert pve_driver.agent_file_read(NODE, VMID, "/tmp/a") == b"A"  # not moved yet
    with pytest.raises(ProxmoxGuestExecTimeout) as timeout:
        pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=0.05)
    assert timeout.value.is_transient and timeout.value.pid == pid
    done = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=5)
    assert done.exited and done.exitcode == 0
    assert pve_driver.agent_file_read(NODE, VMID, "/tmp/b") == b"A"
    # qemu-guest-agent forgets a pid once it handed out its exit status.
    again = refused(_agent(pve)("exec-status").get, pid=pid)
    assert (again.status_code, again.content) == (500, "Agent error: Invalid parameter 'pid'")
    with pytest.raises(ProxmoxGuestAgentError):
        pve_driver.agent_exec_status(NODE, VMID, pid)


def test_exec_status_answers_with_pves_keys(pve):
    agent = _agent(pve)
    pid = agent("exec").post(command=["cat", "/etc/hostname", "/nope"])["pid"]
    status = agent("exec-status").get(pid=pid)
    assert status == {
        "exited": 1,
        "exitcode": 1,
        "out-data": "debian\n",
        "err-data": "cat: /nope: No such file or directory\n",
    }
    silent = agent("exec").post(command=["/bin/true"])["pid"]
    assert agent("exec-status").get(pid=silent) == {"exited": 1, "exitcode": 0}


def test_unknown_programs_do_not_succeed(pve, pve_driver):
    with pytest.raises(ProxmoxGuestAgentError) as info:
        pve_driver.agent_exec(NODE, VMID, ["/usr/bin/nginx", "-t"])
    assert info.value.message == (
        "Agent error: Guest agent command failed, error was "
        "'Failed to execute child process \u201c/usr/bin/nginx\u201d (No such file or directory)'"
    )
    # One value is one program path, not a command line (proxmoxer shell-splits a str for agent/exec, so the
    # one value is sent as a one-element list here, as another client would send a single string).
    single = refused(_agent(pve)("exec").post, command=["systemctl reload haproxy"])
    assert single.status_code == 500 and "Failed to execute child process" in single.content
    pid = pve_driver.agent_exec(NODE, VMID, ["/bin/sh", "-c", "nginx -t && systemctl reload nginx"])
    result = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=5)
    assert (result.exitcode, result.stderr) == (127, b"/bin/sh: 1: nginx: not found\n")
    pid = pve_driver.agent_exec(NODE, VMID, ["/bin/sh", "-c", "cat /etc/hostname | wc -l"])
    piped = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=5)
    assert piped.exitcode == 2 and b"unsupported shell syntax" in piped.stderr


def test_exec_passes_input_data_as_stdin(pve, pve_driver):
    pid = pve_driver.agent_exec(NODE, VMID, ["cat"], input_data=b"from stdin\n")
    assert pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=5).stdout == b"from stdin\n"
    with pytest.raises(ValueError, match="ASCII"):
        pve_driver.agent_exec(NODE, VMID, ["cat"], input_data="é".encode())
    with pytest.raises(ValueError, match="list"):
        pve_driver.agent_exec(NODE, VMID, "/bin/true")  # type: ignore[arg-type]


def test_exec_is_not_retried_after_an_agent_timeout_but_a_file_write_is(pve, pve_driver, monkeypatch):
    # A "got timeout" on exec may come after the guest started the command: the driver must not send it twice.
    # The same answer to a file-write (create/truncate: idempotent) is retried.
    calls: list[str] = []

    def timing_out(call):
        calls.append(call.path.rsplit("/", 1)[-1])
        raise PveHttpError(500, f"VM {VMID} qmp command 'guest-{calls[-1]}' failed - got timeout")

    for method, name in (("POST", "exec"), ("POST", "file-write")):
        monkeypatch.setitem(ROUTES, (method, f"/nodes/{{node}}/qemu/{{vmid}}/agent/{name}"), timing_out)
    with pytest.raises(ProxmoxTransientError, match="got timeout"):
        pve_driver.agent_exec(NODE, VMID, ["/bin/true"])
    assert calls == ["exec"]
    calls.clear()
    with pytest.raises(ProxmoxTransientError, match="got timeout"):
        pve_driver.agent_file_write(NODE, VMID, "/tmp/x", b"x")
    assert calls == ["file-write"] * (pve_driver.retries + 1)


# ------------------------------------------------------------------ haproxy and systemctl


@needs_haproxy
def test_haproxy_check_runs_the_real_haproxy_on_the_guest_file(pve, pve_driver):
    pve_driver.agent_file_write(NODE, VMID, "/etc/haproxy/haproxy.cfg.new", GOOD_CFG)
    pid = pve_driver.agent_exec(NODE, VMID, ["/usr/sbin/haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg.new"])
    good = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=10)
    assert good.exitcode == 0 and b"Configuration file is valid" in good.stdout
    pve_driver.agent_file_write(NODE, VMID, "/etc/haproxy/haproxy.cfg.new", BAD_CFG)
    pid = pve_driver.agent_exec(NODE, VMID, ["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg.new"])
    bad = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=10)
    assert bad.exitcode != 0
    assert b"unknown keyword 'frontnd'" in bad.stderr
    assert b"[/etc/haproxy/haproxy.cfg.new:3]" in bad.stderr  # guest paths, not the simulator's temp dir


@needs_haproxy
def test_haproxy_check_reads_certificates_from_the_guest(pve, pve_driver):
    cfg = GOOD_CFG.replace(b"bind 127.0.0.1:18080", b"bind 127.0.0.1:18443 ssl crt /etc/haproxy/certs/site.pem")
    pve_driver.agent_file_write(NODE, VMID, "/tmp/tls.cfg", cfg)
    pid = pve_driver.agent_exec(NODE, VMID, ["/bin/sh", "-c", "mkdir -p /etc/haproxy/certs"])
    pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=5)
    pid = pve_driver.agent_exec(NODE, VMID, ["haproxy", "-c", "-f", "/tmp/tls.cfg"])
    missing = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=10)
    assert missing.exitcode != 0 and b"/etc/haproxy/certs/site.pem" in missing.stderr
    pve_driver.agent_file_write(NODE, VMID, "/etc/haproxy/certs/site.pem", _self_signed_pem())
    pid = pve_driver.agent_exec(NODE, VMID, ["haproxy", "-c", "-f", "/tmp/tls.cfg"])
    assert pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=10).exitcode == 0


def _self_signed_pem() -> bytes:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("lb.example.test")
    return b"".join(blob.bytes() for blob in cert.cert_chain_pems) + cert.private_key_pem.bytes()


APPLY = (
    "test -f /etc/haproxy/haproxy.cfg.new && haproxy -c -q -f /etc/haproxy/haproxy.cfg.new"
    " && cp /etc/haproxy/haproxy.cfg /etc/haproxy/haproxy.cfg.bak"
    " && mv /etc/haproxy/haproxy.cfg.new /etc/haproxy/haproxy.cfg && systemctl reload haproxy"
)


@needs_haproxy
def test_validated_config_is_installed_and_reloaded(pve, pvesim, pve_driver):
    guest = _guest(pvesim)
    assert guest.haproxy_active and guest.haproxy_reloads == 0  # the package's default configuration
    pve_driver.agent_file_write(NODE, VMID, "/etc/haproxy/haproxy.cfg.new", GOOD_CFG)
    pid = pve_driver.agent_exec(NODE, VMID, ["/bin/sh", "-c", APPLY])
    result = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=10)
    assert (result.exitcode, result.stderr) == (0, b"")
    assert guest.haproxy_reloads == 1 and guest.haproxy_config == GOOD_CFG
    pid = pve_driver.agent_exec(NODE, VMID, ["systemctl", "is-active", "haproxy"])
    assert pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=5).stdout == b"active\n"
    # A bad configuration stops the chain at the check: nothing installed, no reload.
    pve_driver.agent_file_write(NODE, VMID, "/etc/haproxy/haproxy.cfg.new", BAD_CFG)
    pid = pve_driver.agent_exec(NODE, VMID, ["/bin/sh", "-c", APPLY])
    refused_apply = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=10)
    assert refused_apply.exitcode != 0 and b"frontnd" in refused_apply.stderr
    assert guest.haproxy_reloads == 1 and guest.files["/etc/haproxy/haproxy.cfg"] == GOOD_CFG


@needs_haproxy
def test_reload_of_a_bad_file_fails_and_keeps_the_running_configuration(pve, pvesim, pve_driver):
    guest = _guest(pvesim)
    running = guest.haproxy_config
    pve_driver.agent_file_write(NODE, VMID, "/etc/haproxy/haproxy.cfg", BAD_CFG)
    pid = pve_driver.agent_exec(NODE, VMID, ["systemctl", "reload", "haproxy"])
    result = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=10)
    assert result.exitcode == 1 and result.stderr.startswith(b"Job for haproxy.service failed")
    assert guest.haproxy_active and guest.haproxy_config == running and guest.haproxy_reloads == 0
    pid = pve_driver.agent_exec(NODE, VMID, ["systemctl", "restart", "haproxy"])
    assert pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=10).exitcode == 1
    assert not guest.haproxy_active
    pid = pve_driver.agent_exec(NODE, VMID, ["systemctl", "reload", "haproxy"])
    inactive = pve_driver.agent_exec_wait(NODE, VMID, pid, timeout=10)
    assert (inactive.exitcode, inactive.stderr) == (1, b"haproxy.service is not active, cannot reload.\n")


def test_a_reboot_forgets_the_agents_processes_but_keeps_the_files(pve, pvesim, pve_driver):
    vm = pve.nodes(NODE).qemu(VMID)
    pvesim.set_guest_exec_seconds(VMID, 60)
    pid = pve_driver.agent_exec(NODE, VMID, ["/bin/true"])
    pve_driver.agent_file_write(NODE, VMID, "/root/kept", b"kept")
    assert exitstatus(pve, vm.status.stop.post()) == "OK"
    time.sleep(0.01)
    assert exitstatus(pve, vm.status.start.post()) == "OK"
    assert pve_driver.agent_file_read(NODE, VMID, "/root/kept") == b"kept"
    with pytest.raises(ProxmoxGuestAgentError, match="Invalid parameter 'pid'"):
        pve_driver.agent_exec_status(NODE, VMID, pid)


def _run(pve_driver, argv, timeout=10):
    return pve_driver.agent_exec_wait(NODE, VMID, pve_driver.agent_exec(NODE, VMID, argv), timeout=timeout)


def test_shell_positional_parameters_and_redirection_join_parts(pve, pvesim, pve_driver):
    for index, part in enumerate((b"first\n", b"second\n", b"third\n")):
        pve_driver.agent_file_write(NODE, VMID, f"/tmp/f.part{index:03d}", part)
    parts = [f"/tmp/f.part{index:03d}" for index in range(3)]
    joined = _run(pve_driver, ["/bin/sh", "-c", 'cat "$@" > "$0" && rm -f "$@"', "/tmp/f", *parts])
    assert (joined.exitcode, joined.stdout, joined.stderr) == (0, b"", b"")
    guest = _guest(pvesim)
    assert guest.files["/tmp/f"] == b"first\nsecond\nthird\n" and guest.modes["/tmp/f"] == 0o644
    assert not any(path.startswith("/tmp/f.part") for path in guest.files)
    appended = _run(pve_driver, ["sh", "-c", "cat $1 >> $0; cat $0", "/tmp/f", "/etc/hostname"])
    assert appended.stdout == b"first\nsecond\nthird\ndebian\n"
    # The shell creates the target before the command runs, and needs its directory.
    nowhere = _run(pve_driver, ["sh", "-c", 'cat "$1" > "$0"', "/etc/nope/f", "/tmp/f"])
    assert (nowhere.exitcode, nowhere.stderr) == (2, b"/bin/sh: 1: cannot create /etc/nope/f: Directory nonexistent\n")
    for script in ('cat "x$@"', "echo $HOME", "cat /tmp/* ", "cat /tmp/f | cat", "cat < /tmp/f", "true &"):
        refused_script = _run(pve_driver, ["sh", "-c", script])
        assert refused_script.exitcode == 2 and b"unsupported shell syntax" in refused_script.stderr, script


def test_private_certificate_directory_modes_and_pruning(pve, pvesim, pve_driver):
    guest = _guest(pvesim)
    made = _run(pve_driver, ["/usr/bin/install", "-d", "-m", "0700", "/etc/haproxy/certs"])
    assert made.exitcode == 0 and guest.modes["/etc/haproxy/certs"] == 0o700
    for name in ("lb-old.pem", "lb-new.pem.new", "other.txt"):
        pve_driver.agent_file_write(NODE, VMID, f"/etc/haproxy/certs/{name}", b"pem\n")
    assert guest.modes["/etc/haproxy/certs/lb-new.pem.new"] == 0o644  # the agent's mode for a new file
    assert _run(pve_driver, ["/bin/chmod", "0600", "/etc/haproxy/certs/lb-new.pem.new"]).exitcode == 0
    moved = _run(pve_driver, ["/bin/mv", "-f", "/etc/haproxy/certs/lb-new.pem.new", "/etc/haproxy/certs/lb-new.pem"])
    assert moved.exitcode == 0 and guest.modes["/etc/haproxy/certs/lb-new.pem"] == 0o600
    listed = _run(pve_driver, ["/usr/bin/find", "/etc/haproxy/certs", "-maxdepth", "1", "-name", "lb-*.pem"])
    assert listed.stdout == b"/etc/haproxy/certs/lb-new.pem\n/etc/haproxy/certs/lb-old.pem\n"
    prune = ["/usr/bin/find", "/etc/haproxy/certs", "-maxdepth", "1", "-name", "lb-*.pem"]
    assert _run(pve_driver, [*prune, "!", "-name", "lb-new.pem", "-delete"]).exitcode == 0
    remaining = sorted(path for path in guest.files if path.startswith("/etc/haproxy/certs/"))
    assert remaining == ["/etc/haproxy/certs/lb-new.pem", "/etc/haproxy/certs/other.txt"]
    missing = _run(pve_driver, ["/bin/chmod", "0600", "/etc/haproxy/certs/none.pem"])
    assert (missing.exitcode, missing.stderr) == (
        1,
        b"chmod: cannot access '/etc/haproxy/certs/none.pem': No such file or directory\n",
    )


@pytest.fixture
def snippets(tmp_path: Path) -> Path:
    path = tmp_path / "snippets-share"
    (path / "snippets").mkdir(parents=True)
    return path


@pytest.fixture
def pvesim_snippets(pvesim_fleet, pvesim_ca, snippets: Path):
    """The test fleet plus a snippets storage backed by a temporary directory."""
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


def _cloud_config(config: bytes) -> str:
    return yaml.safe_dump(
        {
            "write_files": [
                {"path": "/etc/haproxy/haproxy.cfg", "permissions": "0644", "content": config.decode()},
                {"path": "/etc/haproxy/certs/lb.pem", "permissions": "0600", "content": "pem\n"},
            ],
            "runcmd": [
                ["systemctl", "enable", "--now", "qemu-guest-agent"],
                [
                    "sh",
                    "-c",
                    "haproxy -c -f /etc/haproxy/haproxy.cfg && systemctl enable haproxy && systemctl restart haproxy",
                ],
            ],
        }
    )


@needs_haproxy
def test_first_boot_runs_cloud_init_write_files_and_runcmd_once_per_instance(pvesim_snippets, snippets):
    sim = pvesim_snippets
    pve = connect(sim)
    clone(pve, VMID, name="lb-1")
    vm = pve.nodes(NODE).qemu(VMID)
    (snippets / "snippets" / "lb.yaml").write_text("#cloud-config\n" + _cloud_config(GOOD_CFG))
    vm.config.put(cicustom="vendor=snippets-nfs:snippets/lb.yaml")
    assert exitstatus(pve, vm.status.start.post()) == "OK"
    guest = sim.guest(VMID)
    assert guest.haproxy_active and guest.haproxy_config == GOOD_CFG and guest.haproxy_restarts == 1
    assert guest.modes["/etc/haproxy/certs/lb.pem"] == 0o600 and "/etc/haproxy/certs" in guest.dirs
    # Same data at the next boot: cloud-init does not run its per-instance modules again.
    assert exitstatus(pve, vm.status.reboot.post()) == "OK"
    assert sim.guest(VMID).haproxy_restarts == 1
    # Changed data is a new instance.
    (snippets / "snippets" / "lb.yaml").write_text("#cloud-config\n" + _cloud_config(GOOD_CFG + b"# v2\n"))
    assert exitstatus(pve, vm.status.reboot.post()) == "OK"
    guest = sim.guest(VMID)
    assert guest.haproxy_restarts == 2 and guest.haproxy_config == GOOD_CFG + b"# v2\n"
