"""How a load balancer's configuration reaches its VM: pure builders, no calls (the resource layer runs them).

First boot: ``user_data_render`` gives the cloud-init user-data that writes ``haproxy.cfg``
and the certificate bundle (mode 0600, in a 0700 directory), checks the configuration and
starts HAProxy (the load-balancer template ships ``haproxy`` and ``qemu-guest-agent``).

Every later change: ``agent_plan`` gives the QEMU guest agent's steps (``FileWrite`` for
``POST …/agent/file-write``, ``Exec`` for ``POST …/agent/exec`` then ``exec-status`` until
it exits, docs/dev/proxmox-behaviour.md#guest-agent-files-exec):

0. each private-network card the targets are reached through is up with its address
   (``card_steps``: ``ip link set … up``, ``ip addr replace``; a hot-plugged card has none until reboot);
1. the certificate directory exists, private (``install -d -m 0700``);
2. the certificate bundle, when there is one, is written beside the one in use under a new,
   fingerprint-named file (``lb-<sha256 prefix>.pem``): the running configuration never
   reads it;
3. the new configuration is written beside the old one (``haproxy.cfg.new``);
4. ``haproxy -c -f haproxy.cfg.new`` checks it; if it fails, the plan stops, ``on_failure``
   removes the new files and the running HAProxy keeps its configuration;
5. ``mv -f`` puts it in place (a rename: atomic) and ``systemctl reload haproxy`` reloads
   it without dropping connections (``apps.loadbalancers.rules.haproxy``: master-worker, sockets
   handed over); certificate files no longer named are removed.

The guest agent's limits (``FILE_WRITE_MAX``): one file-write takes at most 61440
characters of printable ASCII text (PVE base64-encodes it), or 46080 bytes of anything
else (sent base64-encoded), so a larger file is written in parts beside its destination
and joined by ``cat`` in the guest. ``exec`` takes the command as an array and answers at
once with a pid; the runner polls ``exec-status`` and requires exit code 0.
Health is read the same way: ``runtime_read`` is the exec whose output ``apps.loadbalancers.rules.health``
parses (``show stat`` on the stats socket; a VM the agent cannot reach means health unknown).
Privileges: ``VM.Monitor`` on 8.4; on 9.x ``VM.GuestAgent.FileWrite`` and, for ``exec``,
``VM.GuestAgent.Unrestricted`` (apps/docs/content/load-balancer-engine.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

# docs/dev/proxmox-behaviour.md#guest-agent-files-exec: ``content`` is at most 61440 characters.
FILE_WRITE_MAX = 60 * 1024
FILE_WRITE_MAX_BINARY = FILE_WRITE_MAX // 4 * 3
# Cloud-init user-data is at most 64 KiB on the platform (apps/docs/content/instances.md, "User-data").
USER_DATA_MAX = 64 * 1024
_PLAIN_TEXT_RE = re.compile(rb"^[\t\n\r\x20-\x7e]*$")
_FINGERPRINT_RE = re.compile(r"^[0-9a-f]{16,64}$")


@dataclass(frozen=True)
class Layout:
    """Where things are on the load-balancer VM (Debian 12's haproxy package); tests point it at a temp dir."""

    config_path: str = "/etc/haproxy/haproxy.cfg"
    certificate_dir: str = "/etc/haproxy/certs"
    haproxy: str = "/usr/sbin/haproxy"
    reload_command: tuple[str, ...] = ("/usr/bin/systemctl", "reload", "haproxy")
    install: str = "/usr/bin/install"
    shell: str = "/bin/sh"
    ip: str = "/bin/ip"  # Debian 12's iproute2


@dataclass(frozen=True)
class CertificateFile:
    """A certificate bundle (certificate, chain, key) and where HAProxy reads it (``certificate_path``)."""

    path: str
    bundle: str


@dataclass(frozen=True)
class FileWrite:
    """``agent/file-write``: create or truncate ``path`` with ``content`` (at most ``FILE_WRITE_MAX`` bytes)."""

    path: str
    content: bytes
    description: str


@dataclass(frozen=True)
class Exec:
    """``agent/exec`` of ``command`` (program and arguments), then ``exec-status`` until it exits with code 0.

    A non-zero exit fails the step with ``failure_code``, which names what went wrong to the runner.
    """

    command: tuple[str, ...]
    description: str
    failure_code: str = "guest_command_failed"
    timeout_seconds: int = 60


Step = FileWrite | Exec


@dataclass(frozen=True)
class PrivateCard:
    """A card of the VM on a customer's private network: the guest's interface name and its address (CIDR)."""

    interface: str
    address: str  # e.g. "10.20.1.3/24"


@dataclass(frozen=True)
class AgentPlan:
    """The steps, in order; on the first failure the runner stops and runs ``on_failure`` (best effort)."""

    steps: tuple[Step, ...]
    on_failure: tuple[Step, ...]


def certificate_path(fingerprint_sha256: str, layout: Layout | None = None) -> str:
    """The bundle's file on the VM, named by the certificate's fingerprint so a new one never replaces one in use."""
    fingerprint = fingerprint_sha256.lower().replace(":", "")
    if not _FINGERPRINT_RE.match(fingerprint):
        raise ValueError(f"not a hex SHA-256 fingerprint: {fingerprint_sha256!r}")
    return f"{(layout or Layout()).certificate_dir}/lb-{fingerprint[:16]}.pem"


def _chunk_size(content: bytes, limit: int | None) -> int:
    natural = FILE_WRITE_MAX if _PLAIN_TEXT_RE.match(content) else FILE_WRITE_MAX_BINARY
    return min(natural, limit) if limit else natural


def _write(
    path: str, content: bytes, what: str, layout: Layout, chunk_size: int | None
) -> tuple[list[Step], list[str]]:
    """Steps that leave ``content`` at ``path``, and the temporary files they create (for clean-up)."""
    size = _chunk_size(content, chunk_size)
    if len(content) <= size:
        return [FileWrite(path, content, f"write {what}")], []
    parts = [f"{path}.part{index:03d}" for index in range((len(content) + size - 1) // size)]
    steps: list[Step] = [
        FileWrite(part, content[index * size : (index + 1) * size], f"write {what}, part {index + 1} of {len(parts)}")
        for index, part in enumerate(parts)
    ]
    # Positional parameters, not an interpolated string: no path is ever parsed by the shell.
    join = 'cat "$@" > "$0" && rm -f "$@"'
    steps.append(Exec((layout.shell, "-c", join, path, *parts), f"join the parts of {what}"))
    return steps, parts


def card_steps(cards: tuple[PrivateCard, ...] | list[PrivateCard], layout: Layout | None = None) -> list[Step]:
    """Bring up each private card with its address now (``ip addr replace`` is idempotent).

    A card added to a running VM is hot-plugged: the guest sees a new interface but cloud-init configures
    its address only at the next boot (apps/docs/content/networks.md), and a load balancer is not rebooted.
    """
    layout = layout or Layout()
    steps: list[Step] = []
    for card in cards:
        steps += [
            Exec((layout.ip, "link", "set", "dev", card.interface, "up"), f"bring up {card.interface}"),
            Exec(
                (layout.ip, "addr", "replace", card.address, "dev", card.interface),
                f"address {card.interface}",
                failure_code="private_card_failed",
            ),
        ]
    return steps


def agent_plan(
    *,
    config: str,
    certificate: CertificateFile | None = None,
    layout: Layout | None = None,
    chunk_size: int | None = None,
    cards: tuple[PrivateCard, ...] | list[PrivateCard] = (),
) -> AgentPlan:
    """The guest-agent steps that replace the running configuration with ``config`` (module docstring).

    ``certificate``: the bundle the configuration names (``spec.tls.certificate_path``), or None
    when it terminates no TLS. ``cards``: the private cards the configuration's targets are reached
    through, addressed first (``card_steps``). ``chunk_size`` lowers the part size (tests).
    """
    layout = layout or Layout()
    new_config = f"{layout.config_path}.new"
    steps: list[Step] = [
        *card_steps(cards, layout),
        Exec((layout.install, "-d", "-m", "0700", layout.certificate_dir), "create the private certificate directory"),
    ]
    temporary: list[str] = [new_config]
    prune = ["/usr/bin/find", layout.certificate_dir, "-maxdepth", "1", "-name", "lb-*.pem"]
    if certificate is not None:
        if not certificate.path.startswith(f"{layout.certificate_dir}/lb-"):
            raise ValueError(f"the certificate must live in {layout.certificate_dir}: {certificate.path!r}")
        new_certificate = f"{certificate.path}.new"
        written, parts = _write(
            new_certificate, certificate.bundle.encode("ascii"), "the certificate bundle", layout, chunk_size
        )
        steps += written
        steps += [
            Exec(("/bin/chmod", "0600", new_certificate), "make the certificate bundle private"),
            Exec(("/bin/mv", "-f", new_certificate, certificate.path), "put the certificate bundle in place"),
        ]
        temporary += [new_certificate, *parts]
        prune += ["!", "-name", certificate.path.rsplit("/", 1)[1]]
    written, parts = _write(new_config, config.encode("utf-8"), "the new configuration", layout, chunk_size)
    steps += written
    temporary += parts
    steps += [
        Exec(
            (layout.haproxy, "-c", "-f", new_config),
            "check the new configuration",
            failure_code="config_check_failed",
        ),
        Exec(("/bin/mv", "-f", new_config, layout.config_path), "put the new configuration in place"),
        Exec(layout.reload_command, "reload HAProxy", failure_code="reload_failed"),
        Exec((*prune, "-delete"), "remove certificate bundles no longer used"),
    ]
    on_failure: tuple[Step, ...] = (Exec(("/bin/rm", "-f", *temporary), "remove the new files"),)
    return AgentPlan(steps=tuple(steps), on_failure=on_failure)


# HAProxy 2.6 ships no runtime API client and socat is not on the template, but python3 always is (cloud-init
# is written in it): a few lines send one command to the stats socket and print the whole answer.
_SOCKET_CLIENT = """import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\\n")
while chunk := s.recv(65536):
    sys.stdout.buffer.write(chunk)
"""
RUNTIME_READS = ("show stat", "show servers state", "show info")


def runtime_read(
    command: str = "show stat", *, stats_socket: str = "/run/haproxy/admin.sock", python: str = "/usr/bin/python3"
) -> Exec:
    """The ``agent/exec`` that reads HAProxy's runtime API on the VM (its stdout goes to ``rules.health``).

    Only reads (``RUNTIME_READS``): the admin socket also takes commands that change the running HAProxy.
    """
    if command not in RUNTIME_READS:
        raise ValueError(f"not a runtime API read: {command!r}")
    return Exec((python, "-c", _SOCKET_CLIENT, stats_socket, command), f"read HAProxy's {command}", timeout_seconds=20)


class _Literal(str):
    """A string cloud-init's YAML shows as a block (``|``), as it is in the file."""


def _literal_representer(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal_representer)


def _block(text: str) -> str:
    # YAML's block style cannot carry trailing spaces or tabs faithfully in every case; such text is quoted instead.
    if all(line == line.rstrip(" \t") for line in text.splitlines()) and "\t" not in text:
        return _Literal(text)
    return text


def user_data_render(*, config: str, certificate: CertificateFile | None = None, layout: Layout | None = None) -> str:
    """The ``#cloud-config`` user-data of a new load-balancer VM: its files, then HAProxy checked and started.

    ``ValueError`` if it would exceed the platform's 64 KiB user-data limit (a configuration
    that large is delivered by the guest agent after boot instead).
    """
    layout = layout or Layout()
    files: list[dict[str, object]] = [
        {"path": layout.config_path, "owner": "root:root", "permissions": "0644", "content": _block(config)}
    ]
    if certificate is not None:
        files.append(
            {
                "path": certificate.path,
                "owner": "root:root",
                "permissions": "0600",
                "content": _block(certificate.bundle),
            }
        )
    start = (
        f"{layout.install} -d -m 0700 {layout.certificate_dir}"
        f" && {layout.haproxy} -c -f {layout.config_path}"
        " && systemctl enable haproxy && systemctl restart haproxy"
    )
    document = {
        "write_files": files,
        "runcmd": [
            ["systemctl", "start", "qemu-guest-agent"],  # a static unit on Debian: udev starts it, this makes sure
            ["sh", "-c", start],
        ],
    }
    text = "#cloud-config\n" + yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096
    )
    if len(text.encode("utf-8")) > USER_DATA_MAX:
        raise ValueError(f"user-data of {len(text)} bytes exceeds {USER_DATA_MAX}: deliver by guest agent after boot")
    return text
