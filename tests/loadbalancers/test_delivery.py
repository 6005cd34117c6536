"""How a configuration reaches the VM: cloud-init on first boot, the guest-agent plan for every change.

The plan is run here on this machine (``support.run_plan``: file-write = create or truncate, exec =
the command, stop at the first non-zero exit, then ``on_failure``) with the real haproxy checking
the new file, in a layout under the test's directory: what it leaves behind is what the VM gets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import stat
from pathlib import Path

import pytest
import yaml

from apps.instances.rules.user_data import user_data_problems
from apps.loadbalancers.rules.certificates import CheckedCertificate, certificate_validate
from apps.loadbalancers.rules.delivery import (
    FILE_WRITE_MAX,
    FILE_WRITE_MAX_BINARY,
    CertificateFile,
    Exec,
    FileWrite,
    Layout,
    PrivateCard,
    agent_plan,
    certificate_path,
    runtime_read,
    user_data_render,
)
from apps.loadbalancers.rules.haproxy import Runtime, haproxy_config_render
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
from tests.loadbalancers.support import make_chain, run_plan

P = Protocol


def _checked() -> CheckedCertificate:
    chain = make_chain()
    return certificate_validate(
        certificate=chain.leaf.certificate,
        chain=chain.intermediate.certificate,
        private_key=chain.leaf.key,
        now=dt.datetime.now(dt.UTC),
    )


def _spec(cert_path: str | None, targets: int = 2) -> LoadBalancerSpec:
    rules = [ForwardingRule(P.HTTP, 80, P.HTTP, 8080)]
    if cert_path:
        rules.append(ForwardingRule(P.HTTPS, 443, P.HTTP, 8080))
    return LoadBalancerSpec(
        name="lb-delivery",
        rules=tuple(rules),
        targets=tuple(Target(f"srv-{i:04d}", f"10.{i // 65536}.{i // 256 % 256}.{i % 256}") for i in range(targets)),
        health_check=HealthCheck(HealthCheckProtocol.HTTP, path="/health"),
        tls=Tls(TlsMode.TERMINATE, cert_path) if cert_path else None,
    )


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    (tmp_path / "etc").mkdir()
    return Layout(
        config_path=str(tmp_path / "etc" / "haproxy.cfg"),
        certificate_dir=str(tmp_path / "etc" / "certs"),
        reload_command=("/usr/bin/touch", str(tmp_path / "reloaded")),
    )


def _commands(plan) -> list[str]:
    return [step.description for step in plan.steps]


def test_the_plan_checks_the_new_file_before_it_replaces_the_running_one():
    checked = _checked()
    path = certificate_path(checked.fingerprint_sha256)
    plan = agent_plan(config="global\n", certificate=CertificateFile(path, checked.bundle))
    steps = plan.steps
    describe = _commands(plan)
    assert describe.index("write the certificate bundle") < describe.index("put the certificate bundle in place")
    check = next(s for s in steps if isinstance(s, Exec) and s.failure_code == "config_check_failed")
    assert check.command == ("/usr/sbin/haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg.new")
    order = [
        "put the certificate bundle in place",
        "write the new configuration",
        "check the new configuration",
        "put the new configuration in place",
        "reload HAProxy",
        "remove certificate bundles no longer used",
    ]
    assert [describe.index(d) for d in order] == sorted(describe.index(d) for d in order)
    reload = steps[describe.index("reload HAProxy")]
    assert isinstance(reload, Exec) and reload.command == ("/usr/bin/systemctl", "reload", "haproxy")
    assert all(isinstance(s, FileWrite) or isinstance(s.command, tuple) for s in steps)  # exec takes an array
    assert plan.on_failure[0].command[:2] == ("/bin/rm", "-f")  # type: ignore[union-attr]


def test_certificate_files_are_named_by_fingerprint():
    assert certificate_path("AB:CD" * 16) == "/etc/haproxy/certs/lb-abcdabcdabcdabcd.pem"
    with pytest.raises(ValueError):
        certificate_path("../../etc/passwd")
    with pytest.raises(ValueError):
        agent_plan(config="x", certificate=CertificateFile("/tmp/elsewhere.pem", "PEM"))


def test_a_small_file_is_one_write_and_a_large_one_is_written_in_parts():
    small = agent_plan(config="a" * FILE_WRITE_MAX)
    assert [s.path for s in small.steps if isinstance(s, FileWrite)] == ["/etc/haproxy/haproxy.cfg.new"]

    large_config = "b" * (2 * FILE_WRITE_MAX + 10)
    large = agent_plan(config=large_config)
    writes = [s for s in large.steps if isinstance(s, FileWrite)]
    assert [len(w.content) for w in writes] == [FILE_WRITE_MAX, FILE_WRITE_MAX, 10]
    assert all(w.path.startswith("/etc/haproxy/haproxy.cfg.new.part") for w in writes)
    join = next(s for s in large.steps if isinstance(s, Exec) and s.description.startswith("join"))
    assert join.command[3:] == ("/etc/haproxy/haproxy.cfg.new", *(w.path for w in writes))
    # Parts left by a failure are removed with the new file.
    assert set(large.on_failure[0].command[2:]) >= {w.path for w in writes}  # type: ignore[union-attr]


def test_text_that_is_not_plain_ascii_goes_in_smaller_parts():
    plan = agent_plan(config="é" * FILE_WRITE_MAX)  # 2 bytes each in UTF-8: sent base64-encoded
    writes = [s for s in plan.steps if isinstance(s, FileWrite)]
    assert all(len(w.content) <= FILE_WRITE_MAX_BINARY for w in writes)
    assert b"".join(w.content for w in writes) == ("é" * FILE_WRITE_MAX).encode()


def test_the_plan_replaces_the_configuration_on_this_machine(layout, tmp_path):
    checked = _checked()
    cert = certificate_path(checked.fingerprint_sha256, layout)
    # A large configuration (1000 targets), and small parts for the bundle: both are joined in the guest.
    config = haproxy_config_render(_spec(cert, targets=1000), runtime=Runtime(chroot=None, user=None, group=None))
    assert len(config) > FILE_WRITE_MAX
    stale = Path(layout.certificate_dir) / "lb-0000000000000000.pem"
    Path(layout.certificate_dir).mkdir()
    stale.write_text("an old certificate")
    plan = agent_plan(config=config, certificate=CertificateFile(cert, checked.bundle), layout=layout, chunk_size=1000)
    assert sum(isinstance(s, FileWrite) for s in plan.steps) > 3

    result = run_plan(plan)

    assert result.ok, result
    assert Path(layout.config_path).read_text() == config
    assert Path(cert).read_text() == checked.bundle
    assert stat.S_IMODE(Path(cert).stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(layout.certificate_dir).stat().st_mode) == 0o700
    assert not stale.exists(), "a bundle no longer named is removed"
    assert (tmp_path / "reloaded").exists()
    assert sorted(p.name for p in (tmp_path / "etc").iterdir()) == ["certs", "haproxy.cfg"]  # no .new, no parts
    assert [p.name for p in Path(layout.certificate_dir).iterdir()] == [Path(cert).name]


def test_a_configuration_that_fails_the_check_keeps_the_running_one(layout, tmp_path):
    running = haproxy_config_render(_spec(None), runtime=Runtime(chroot=None, user=None, group=None))
    Path(layout.config_path).write_text(running)
    broken = running + "backend broken\n    server x 10.0.0.1:80 no-such-keyword\n"

    result = run_plan(agent_plan(config=broken, layout=layout, chunk_size=2000))

    assert not result.ok
    assert result.failed is not None and result.failed.failure_code == "config_check_failed"
    assert "no-such-keyword" in result.output  # haproxy's own words, for the operator
    assert Path(layout.config_path).read_text() == running
    assert not (tmp_path / "reloaded").exists(), "no reload after a failed check"
    assert sorted(p.name for p in (tmp_path / "etc").iterdir()) == ["certs", "haproxy.cfg"]


def test_first_boot_user_data_writes_the_files_and_starts_haproxy():
    checked = _checked()
    cert = certificate_path(checked.fingerprint_sha256)
    config = haproxy_config_render(_spec(cert))
    text = user_data_render(config=config, certificate=CertificateFile(cert, checked.bundle))

    assert user_data_problems(text) == []  # the platform's own user-data rules accept it
    document = yaml.safe_load(text)
    files = {f["path"]: f for f in document["write_files"]}
    assert files["/etc/haproxy/haproxy.cfg"]["content"] == config
    assert files[cert]["content"] == checked.bundle
    assert files[cert]["permissions"] == "0600"
    commands = [" ".join(c) for c in document["runcmd"]]
    assert any("haproxy -c -f /etc/haproxy/haproxy.cfg && systemctl enable haproxy" in c for c in commands)
    assert any("qemu-guest-agent" in c for c in commands)


def test_user_data_over_the_platforms_limit_is_refused():
    with pytest.raises(ValueError, match="exceeds"):
        user_data_render(config="# padding\n" * 7000)


def test_user_data_with_awkward_text_round_trips():
    config = "global\n    master-worker\n\t# tab\ntrailing space \n"
    document = yaml.safe_load(user_data_render(config=config, layout=dataclasses.replace(Layout())))
    assert document["write_files"][0]["content"] == config


def test_only_reads_of_the_runtime_api_are_run():
    read = runtime_read()
    assert read.command[0] == "/usr/bin/python3" and read.command[-2:] == ("/run/haproxy/admin.sock", "show stat")
    with pytest.raises(ValueError):
        runtime_read("disable server be_80/a")


def test_private_cards_are_addressed_before_anything_else_idempotently():
    plan = agent_plan(config="global\n", cards=[PrivateCard("ens19", "10.20.1.3/24")])
    first = [step.command for step in plan.steps[:2] if isinstance(step, Exec)]
    assert first == [
        ("/bin/ip", "link", "set", "dev", "ens19", "up"),
        ("/bin/ip", "addr", "replace", "10.20.1.3/24", "dev", "ens19"),  # replace: applying twice is harmless
    ]
    assert plan.steps[1].failure_code == "private_card_failed"
    assert not any("/bin/ip" in getattr(s, "command", ()) for s in agent_plan(config="global\n").steps)
