"""Guest-agent file and exec endpoints of the simulated PVE API, and the guest they act on.

``agent/file-write``, ``agent/file-read``, ``agent/exec`` and ``agent/exec-status`` behave as
docs/dev/proxmox-behaviour.md#guest-agent-files-exec describes (PVE 8.4): synchronous calls, no task and no
config flock; the three preconditions of ``_agent_ready`` (HTTP 500); failures of the guest agent as HTTP 500
``Agent error: <desc>`` with the desc Debian 12's qemu-guest-agent (7.2) gives.

Each VM has a ``Guest``: a filesystem (path → bytes, directories, modes; a Debian tree with HAProxy is seeded),
the exec processes qemu-guest-agent keeps (a pid's status is handed out once after exit, then forgotten), and
the HAProxy service (active or not, the configuration it runs, how often it was reloaded). An exec'd command
runs in the guest asynchronously: it finishes ``Guest.exec_seconds`` after its start and only then changes the
guest. Only the programs of ``PROGRAMS`` exist; ``/bin/sh -c`` understands ``&&``, ``||`` and ``;`` lists of
them, quotes, ``$0``…``$9``, ``"$@"`` and ``>``/``>>``, and nothing else of the shell
(docs/dev/proxmox-behaviour.md#simulator-guest). ``haproxy -c`` runs the real ``/usr/sbin/haproxy -c`` on the
guest's files when the binary is installed. Routes register on import (``apps.pvesim.server`` imports this module).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import ipaddress
import posixpath
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from apps.pvesim.handlers import Call, _agent_ready, _cicustom_file, route
from apps.pvesim.state import NODE_BRIDGES, PveHttpError, SimCluster, SimVm, param_error

# pve qemu-server API2/Qemu/Agent.pm: file-write's ``content`` maxLength ("60k, smaller than our 64k POST limit")
# and ``$MAX_READ_SIZE``.
MAX_WRITE_CHARS = 60 * 1024
MAX_READ_SIZE = 16 * 1024 * 1024
# qemu qga/commands.c ``GUEST_EXEC_MAX_OUTPUT``: stdout and stderr are each kept up to 16 MiB.
EXEC_MAX_OUTPUT = 16 * 1024 * 1024
HAPROXY_BINARY = "/usr/sbin/haproxy"
# Modes of what the guest creates: files by the agent and by the shell (umask 022), directories by mkdir.
# qga's own mode for new files (DEFAULT_NEW_FILE_MODE) is taken as 0644 (docs/dev/proxmox-behaviour.md#simulator-guest).
NEW_FILE_MODE = 0o644
NEW_DIR_MODE = 0o755
HAPROXY_CONFIG = "/etc/haproxy/haproxy.cfg"
SH_NAME = "/bin/sh"

# What qemu-guest-agent answers when the path given to guest-exec cannot be spawned (glib g_spawn message in
# qga's QERR_QGA_COMMAND_FAILED), and for a pid it does not know (7.2; 8.2 says "PID <n> does not exist").
SPAWN_FAILED = "Guest agent command failed, error was 'Failed to execute child process \u201c{path}\u201d ({reason})'"
UNKNOWN_PID = "Invalid parameter 'pid'"
JOB_FAILED = (
    "Job for haproxy.service failed because the control process exited with error code.\n"
    'See "systemctl status haproxy.service" and "journalctl -xeu haproxy.service" for details.\n'
)

SEED_DIRS = (
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/etc/default",
    "/etc/haproxy",
    "/etc/haproxy/errors",
    "/etc/ssl",
    "/etc/ssl/certs",
    "/etc/ssl/private",
    "/etc/systemd",
    "/etc/systemd/system",
    "/home",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/run/haproxy",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",  # noqa: S108 - a directory of the simulated guest, not of this host
    "/usr",
    "/usr/bin",
    "/usr/lib",
    "/usr/local",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/share",
    "/var",
    "/var/cache",
    "/var/lib",
    "/var/lib/haproxy",
    "/var/log",
    "/var/tmp",  # noqa: S108 - a directory of the simulated guest
)

# The configuration a freshly installed Debian haproxy package runs: global and defaults, no proxy.
DEFAULT_HAPROXY_CFG = """global
\tlog /dev/log local0
\tlog /dev/log local1 notice
\tchroot /var/lib/haproxy
\tstats socket /run/haproxy/admin.sock mode 660 level admin
\tstats timeout 30s
\tuser haproxy
\tgroup haproxy
\tdaemon

defaults
\tlog global
\tmode http
\toption httplog
\toption dontlognull
\ttimeout connect 5000
\ttimeout client 50000
\ttimeout server 50000
\terrorfile 400 /etc/haproxy/errors/400.http
\terrorfile 403 /etc/haproxy/errors/403.http
\terrorfile 408 /etc/haproxy/errors/408.http
\terrorfile 500 /etc/haproxy/errors/500.http
\terrorfile 502 /etc/haproxy/errors/502.http
\terrorfile 503 /etc/haproxy/errors/503.http
\terrorfile 504 /etc/haproxy/errors/504.http
"""
ERROR_PAGES = {
    400: "Bad request",
    403: "Forbidden",
    408: "Request Time-out",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
}


def _error_page(code: int, text: str) -> bytes:
    body = f"<html><body><h1>{code} {text}</h1>\n{text}.\n</body></html>\n"
    head = f"HTTP/1.0 {code} {text}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n"
    return (head + body).encode()


# ------------------------------------------------------------------ the guest


@dataclass
class GuestProcess:
    """One process started by ``guest-exec``: it runs until ``finish_at``, then its result is known."""

    pid: int
    argv: list[str]
    stdin: bytes
    finish_at: float
    done: bool = False
    exitcode: int = 0
    out: bytes = b""
    err: bytes = b""


@dataclass
class Guest:
    """What runs inside one simulated VM: files, the agent's exec table, the HAProxy service."""

    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    processes: dict[int, GuestProcess] = field(default_factory=dict)
    boot: float = 0.0  # vm.started_at of the boot the processes and services belong to
    next_pid: int = 1200
    exec_seconds: float = 0.0
    haproxy_active: bool = False
    haproxy_config: bytes | None = None  # the configuration the running HAProxy loaded
    haproxy_reloads: int = 0
    haproxy_restarts: int = 0
    journal: list[str] = field(default_factory=list)  # systemctl and haproxy -c outcomes, for tests
    modes: dict[str, int] = field(default_factory=dict)  # permission bits of files and directories
    haproxy_enabled: bool = True
    cloud_init_instance: str = ""  # the cloud-init data the last per-instance run applied
    addresses: dict[str, set[str]] = field(default_factory=dict)  # interface -> CIDRs set by ``ip addr`` this boot
    host: Any = field(default=None, compare=False, repr=False)  # (SimCluster, SimVm): the VM and its neighbours

    def is_file(self, path: str) -> bool:
        return path in self.files

    def write(self, path: str, content: bytes, *, mode: int) -> None:
        """Create or truncate a file; a new file gets ``mode``, an existing one keeps its own."""
        if path not in self.files:
            self.modes[path] = mode
        self.files[path] = content

    def remove(self, path: str) -> None:
        self.files.pop(path, None)
        self.modes.pop(path, None)

    def is_dir(self, path: str) -> bool:
        return path in self.dirs

    def parent_exists(self, path: str) -> bool:
        return posixpath.dirname(path) in self.dirs


def seed_guest() -> Guest:
    """A Debian 12 guest with the haproxy package installed (its default configuration, not running a proxy)."""
    guest = Guest(dirs=set(SEED_DIRS), modes=dict.fromkeys(SEED_DIRS, NEW_DIR_MODE))
    for private in ("/root", "/etc/ssl/private"):
        guest.modes[private] = 0o700
    for sticky in SEED_DIRS:
        if sticky.endswith("/tmp"):  # noqa: S108 - the guest's own temporary directories
            guest.modes[sticky] = 0o1777
    guest.files[HAPROXY_CONFIG] = DEFAULT_HAPROXY_CFG.encode()
    for code, text in ERROR_PAGES.items():
        guest.files[f"/etc/haproxy/errors/{code}.http"] = _error_page(code, text)
    guest.files["/etc/hostname"] = b"debian\n"
    guest.files["/etc/os-release"] = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
    for path in PROGRAM_PATHS:
        guest.files[path] = b"\x7fELF(simulated)"
    for path in guest.files:
        guest.modes[path] = 0o755 if path in PROGRAM_PATHS else NEW_FILE_MODE
    return guest


def guest_of(vm: SimVm, cluster: SimCluster | None = None) -> Guest:
    """The VM's guest, created on first use. A new boot forgets the agent's processes, starts the enabled
    services and, given the ``cluster`` (for its snippet storages), runs cloud-init's ``write_files`` and
    ``runcmd`` when its data changed since the last boot that ran them."""
    guest: Guest | None = vm.guest
    if guest is None:
        guest = seed_guest()
        vm.guest = guest
    if cluster is not None:
        guest.host = (cluster, vm)
    if guest.boot != vm.started_at:
        guest.boot = vm.started_at
        guest.processes.clear()
        guest.addresses.clear()  # ``ip addr`` lasts until reboot; cloud-init's cards come from the booted data
        # systemd starts the enabled haproxy.service at boot with the file on disk.
        config = guest.files.get(HAPROXY_CONFIG)
        ok = guest.haproxy_enabled and config is not None and haproxy_check(guest, HAPROXY_CONFIG)[0] == 0
        guest.haproxy_active = ok
        guest.haproxy_config = config if ok else None
        if cluster is not None:
            cloud_init_boot(guest, vm, cluster)
    return guest


def cloud_init_boot(guest: Guest, vm: SimVm, cluster: SimCluster) -> None:
    """cloud-init's per-instance modules at boot, from the ``cicustom`` ``vendor=`` and ``user=`` snippets.

    Only ``#cloud-config`` documents, and of them ``write_files`` (``content``, ``encoding`` b64,
    ``permissions``, ``append``; parent directories created) and ``runcmd`` (a list runs as argv, a string
    through ``sh -c``; a failing command does not stop the next, as cloud-init's runcmd script does not).
    They run once per instance: again only when the snippets' content changed (PVE's instance-id follows
    the cloud-init data, docs/dev/proxmox-behaviour.md#simulator-guest).
    """
    cicustom = str(vm.cloudinit_applied.get("cicustom") or "")
    documents = [_cicustom_file(cluster, cicustom, kind) for kind in ("vendor", "user")]
    texts = [text for text in documents if text and text.lstrip().startswith("#cloud-config")]
    instance = "\n---\n".join(texts)
    if not texts or instance == guest.cloud_init_instance:
        return
    guest.cloud_init_instance = instance
    for text in texts:
        try:
            document = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            guest.journal.append(f"cloud-init: invalid YAML: {exc}")
            continue
        if not isinstance(document, dict):
            continue
        for entry in document.get("write_files") or []:
            _cloud_init_write(guest, entry)
        for command in document.get("runcmd") or []:
            if isinstance(command, list) and command:
                argv = [str(part) for part in command]
            else:
                argv = [SH_NAME, "-c", str(command)]
            found = resolve(argv[0])
            code = found(guest, argv[1:], b"")[0] if found is not None else 127
            guest.journal.append(f"cloud-init runcmd {argv!r}: {code}")


def _cloud_init_write(guest: Guest, entry: Any) -> None:
    if not isinstance(entry, dict) or not str(entry.get("path", "")).startswith("/"):
        return
    path = _norm(str(entry["path"]))
    content = entry.get("content", "")
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content or b"")
    if str(entry.get("encoding", "")).lower() in ("b64", "base64"):
        data = base64.b64decode(data)
    elif entry.get("encoding") not in (None, "", "text/plain"):
        guest.journal.append(f"cloud-init write_files {path}: encoding {entry['encoding']} not modelled")
        return
    parent = posixpath.dirname(path)
    chain = []
    while parent not in guest.dirs:
        chain.append(parent)
        parent = posixpath.dirname(parent)
    guest.dirs.update(chain)
    guest.modes.update(dict.fromkeys(chain, NEW_DIR_MODE))
    if entry.get("append") and path in guest.files:
        data = guest.files[path] + data
    guest.remove(path)
    guest.write(path, data, mode=int(str(entry.get("permissions", "0644")), 8))
    guest.journal.append(f"cloud-init write_files {path}")


def settle(guest: Guest, now: float | None = None) -> None:
    """Run the processes whose time has come, in the order they were started."""
    now = time.monotonic() if now is None else now
    for process in sorted(guest.processes.values(), key=lambda p: p.pid):
        if not process.done and process.finish_at <= now:
            process.exitcode, process.out, process.err = run_argv(guest, process.argv, process.stdin)
            process.done = True


# ------------------------------------------------------------------ programs

ProgramResult = tuple[int, bytes, bytes]
Program = Callable[[Guest, list[str], bytes], ProgramResult]
PROGRAMS: dict[str, Program] = {}
PROGRAM_PATHS: list[str] = []


def program(*paths: str) -> Callable[[Program], Program]:
    def register(func: Program) -> Program:
        for path in paths:
            PROGRAMS[path] = func
            PROGRAM_PATHS.append(path)
        return func

    return register


def _norm(path: str) -> str:
    # Every simulated program runs with / as its working directory (qga starts children there).
    return posixpath.normpath(posixpath.join("/", path))


def _fail(name: str, message: str, code: int = 1) -> ProgramResult:
    return code, b"", f"{name}: {message}\n".encode()


@program("/usr/bin/true", "/bin/true")
def prog_true(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    return 0, b"", b""


@program("/usr/bin/false", "/bin/false")
def prog_false(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    return 1, b"", b""


@program("/usr/bin/test", "/bin/test")
def prog_test(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    if len(args) != 2 or args[0] not in ("-f", "-d", "-e", "-s"):
        return _fail("test", "simulator models only 'test -f|-d|-e|-s PATH'", 2)
    path = _norm(args[1])
    found = {
        "-f": guest.is_file(path),
        "-d": guest.is_dir(path),
        "-e": guest.is_file(path) or guest.is_dir(path),
        "-s": bool(guest.files.get(path)),
    }[args[0]]
    return (0 if found else 1), b"", b""


def _split_options(args: list[str], allowed: str) -> tuple[set[str], list[str]] | str:
    options: set[str] = set()
    operands: list[str] = []
    for arg in args:
        if arg.startswith("-") and len(arg) > 1 and not operands:
            for letter in arg[1:]:
                if letter not in allowed:
                    return f"invalid option -- '{letter}'"
                options.add(letter)
        else:
            operands.append(arg)
    return options, operands


def _copy_target(guest: Guest, source: str, target: str) -> str:
    return posixpath.join(target, posixpath.basename(source)) if guest.is_dir(target) else target


@program("/usr/bin/cp", "/bin/cp")
def prog_cp(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    parsed = _split_options(args, "fp")
    if isinstance(parsed, str):
        return _fail("cp", parsed)
    _, operands = parsed
    if len(operands) != 2:
        return _fail("cp", "missing file operand")
    source, target = _norm(operands[0]), _norm(operands[1])
    if guest.is_dir(source):
        return _fail("cp", f"-r not specified; omitting directory '{operands[0]}'")
    if not guest.is_file(source):
        return _fail("cp", f"cannot stat '{operands[0]}': No such file or directory")
    target = _copy_target(guest, source, target)
    if not guest.parent_exists(target):
        return _fail("cp", f"cannot create regular file '{operands[1]}': No such file or directory")
    guest.write(target, guest.files[source], mode=guest.modes.get(source, NEW_FILE_MODE))
    return 0, b"", b""


@program("/usr/bin/mv", "/bin/mv")
def prog_mv(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    parsed = _split_options(args, "f")
    if isinstance(parsed, str):
        return _fail("mv", parsed)
    _, operands = parsed
    if len(operands) != 2:
        return _fail("mv", "missing file operand")
    source, target = _norm(operands[0]), _norm(operands[1])
    if not guest.is_file(source):
        if guest.is_dir(source):
            return _fail("mv", "simulator models moving files only")
        return _fail("mv", f"cannot stat '{operands[0]}': No such file or directory")
    target = _copy_target(guest, source, target)
    if not guest.parent_exists(target):
        return _fail("mv", f"cannot move '{operands[0]}' to '{operands[1]}': No such file or directory")
    mode = guest.modes.get(source, NEW_FILE_MODE)
    guest.remove(target)
    guest.write(target, guest.files[source], mode=mode)
    guest.remove(source)
    return 0, b"", b""


@program("/usr/bin/cat", "/bin/cat")
def prog_cat(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    if not args:
        return 0, stdin, b""
    out, err, code = b"", b"", 0
    for name in args:
        path = _norm(name)
        if guest.is_dir(path):
            err += f"cat: {name}: Is a directory\n".encode()
            code = 1
        elif not guest.is_file(path):
            err += f"cat: {name}: No such file or directory\n".encode()
            code = 1
        else:
            out += guest.files[path]
    return code, out, err


@program("/usr/bin/rm", "/bin/rm")
def prog_rm(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    parsed = _split_options(args, "f")
    if isinstance(parsed, str):
        return _fail("rm", parsed)
    options, operands = parsed
    if not operands and "f" not in options:
        return _fail("rm", "missing operand")
    code, err = 0, b""
    for name in operands:
        path = _norm(name)
        if guest.is_dir(path):
            err += f"rm: cannot remove '{name}': Is a directory\n".encode()
            code = 1
        elif guest.is_file(path):
            guest.remove(path)
        elif "f" not in options:
            err += f"rm: cannot remove '{name}': No such file or directory\n".encode()
            code = 1
    return code, b"", err


@program("/usr/bin/mkdir", "/bin/mkdir")
def prog_mkdir(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    parsed = _split_options(args, "p")
    if isinstance(parsed, str):
        return _fail("mkdir", parsed)
    options, operands = parsed
    if not operands:
        return _fail("mkdir", "missing operand")
    code, err = 0, b""
    for name in operands:
        path = _norm(name)
        chain: list[str] = []
        current = path
        while current not in guest.dirs:
            if guest.is_file(current):
                err += f"mkdir: cannot create directory '{name}': File exists\n".encode()
                code = 1
                break
            chain.append(current)
            current = posixpath.dirname(current)
        else:
            if not chain:
                if "p" not in options:
                    err += f"mkdir: cannot create directory '{name}': File exists\n".encode()
                    code = 1
                continue
            if len(chain) > 1 and "p" not in options:
                err += f"mkdir: cannot create directory '{name}': No such file or directory\n".encode()
                code = 1
                continue
            guest.dirs.update(chain)
            guest.modes.update(dict.fromkeys(chain, NEW_DIR_MODE))
    return code, b"", err


_MODE_RE = re.compile(r"^[0-7]{3,4}$")


@program("/usr/bin/install")
def prog_install(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    # Only the directory form: install -d [-m MODE] DIR... (parents created 0755, DIR itself MODE).
    mode = NEW_DIR_MODE
    operands: list[str] = []
    directory = False
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-d":
            directory = True
        elif arg == "-m" and index + 1 < len(args):
            if not _MODE_RE.match(args[index + 1]):
                return _fail("install", f"invalid mode '{args[index + 1]}'")
            mode = int(args[index + 1], 8)
            index += 1
        elif arg.startswith("-"):
            return _fail("install", "simulator models only 'install -d [-m MODE] DIR...'")
        else:
            operands.append(arg)
        index += 1
    if not directory or not operands:
        return _fail("install", "simulator models only 'install -d [-m MODE] DIR...'")
    for name in operands:
        path = _norm(name)
        current, chain = path, []
        while current not in guest.dirs:
            if guest.is_file(current):
                return _fail("install", f"cannot create directory '{name}': File exists")
            chain.append(current)
            current = posixpath.dirname(current)
        guest.dirs.update(chain)
        guest.modes.update(dict.fromkeys(chain, NEW_DIR_MODE))
        guest.modes[path] = mode
    return 0, b"", b""


@program("/usr/bin/chmod", "/bin/chmod")
def prog_chmod(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    if len(args) < 2 or not _MODE_RE.match(args[0]):
        return _fail("chmod", "simulator models only 'chmod OCTAL-MODE FILE...'")
    code, err = 0, b""
    for name in args[1:]:
        path = _norm(name)
        if guest.is_file(path) or guest.is_dir(path):
            guest.modes[path] = int(args[0], 8)
        else:
            err += f"chmod: cannot access '{name}': No such file or directory\n".encode()
            code = 1
    return code, b"", err


@program("/usr/bin/find", "/bin/find")
def prog_find(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    # find DIR [-maxdepth N] [-type f] [[!|-not] -name GLOB]... [-delete|-print]
    if not args or args[0].startswith("-") or args[0] == "!":
        return _fail("find", "simulator models only 'find DIR [-maxdepth N] [-type f] [! -name GLOB]... [-delete]'")
    root = _norm(args[0])
    maxdepth: int | None = None
    files_only = False
    tests: list[tuple[bool, str]] = []  # (negated, glob)
    action = "-print"
    index, negate = 1, False
    while index < len(args):
        arg = args[index]
        if arg in ("!", "-not"):
            negate = True
        elif arg == "-maxdepth" and index + 1 < len(args) and args[index + 1].isdigit():
            maxdepth = int(args[index + 1])
            index += 1
        elif arg == "-type" and index + 1 < len(args) and args[index + 1] == "f":
            files_only = True
            index += 1
        elif arg == "-name" and index + 1 < len(args):
            tests.append((negate, args[index + 1]))
            negate = False
            index += 1
        elif arg in ("-delete", "-print"):
            action = arg
        else:
            return _fail("find", f"simulator models no '{arg}' here")
        index += 1
    if not guest.is_dir(root):
        return 1, b"", f"find: '{args[0]}': No such file or directory\n".encode()
    prefix = root.rstrip("/") + "/"
    candidates = [p for p in guest.files if p.startswith(prefix)]
    if not files_only:
        candidates += [d for d in guest.dirs if d.startswith(prefix)]
    out = b""
    for path in sorted(candidates):
        depth = path[len(prefix) :].count("/") + 1
        if maxdepth is not None and depth > maxdepth:
            continue
        name = posixpath.basename(path)
        if all(fnmatch.fnmatchcase(name, glob) != negated for negated, glob in tests):
            if action == "-delete":
                if path in guest.dirs:
                    if any(p.startswith(path + "/") for p in [*guest.files, *guest.dirs]):
                        return 1, out, f"find: cannot delete '{path}': Directory not empty\n".encode()
                    guest.dirs.discard(path)
                    guest.modes.pop(path, None)
                else:
                    guest.remove(path)
            else:
                out += f"{path}\n".encode()
    return 0, out, b""


def haproxy_check(guest: Guest, config_path: str) -> ProgramResult:
    """``haproxy -c -f <file>``: the real binary on the guest's file, or a structural check without it.

    The file and every guest file or directory it names by absolute path are copied under a temporary root and
    the paths rewritten to point there, so ``crt /etc/haproxy/certs/site.pem`` reads the guest's certificate.
    Paths the guest does not hold are left as they are (``/dev/log``, ``/run/haproxy/admin.sock``: not opened
    by a check).
    """
    path = _norm(config_path)
    if not guest.is_file(path):
        message = f"[ALERT]    (1) : Cannot open configuration file/directory {config_path} : No such file or directory"
        return 1, b"", (message + "\n").encode()
    text = guest.files[path].decode("utf-8", "replace")
    if not Path(HAPROXY_BINARY).exists():
        return _haproxy_structural_check(text, config_path)
    with tempfile.TemporaryDirectory(prefix="pvesim-haproxy-") as root:

        def materialise(match: re.Match[str]) -> str:
            token = _norm(match.group(0))
            stripped = token.rstrip("/")
            if guest.is_file(stripped):
                _write_under(root, stripped, guest.files[stripped])
                return root + match.group(0)
            if stripped and guest.is_dir(stripped) and stripped not in SEED_DIRS:
                for name, content in guest.files.items():
                    if name.startswith(stripped + "/"):
                        _write_under(root, name, content)
                Path(root + stripped).mkdir(parents=True, exist_ok=True)
                return root + match.group(0)
            return match.group(0)

        rewritten = re.sub(r"(?<![\w./-])/[^\s\"',]+", materialise, text)
        target = Path(root + path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rewritten, encoding="utf-8")
        result = subprocess.run(  # noqa: S603 - fixed binary, file we wrote
            [HAPROXY_BINARY, "-c", "-f", str(target)], capture_output=True, timeout=30, check=False
        )
        out = result.stdout.replace(root.encode(), b"")
        err = result.stderr.replace(root.encode(), b"")
        return result.returncode, out, err


def _write_under(root: str, path: str, content: bytes) -> None:
    target = Path(root + path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


SECTIONS = (
    "global", "defaults", "frontend", "backend", "listen", "resolvers", "peers", "userlist", "mailers",
    "program", "http-errors", "ring", "cache",
)  # fmt: skip


def _haproxy_structural_check(text: str, name: str) -> ProgramResult:
    # Without the binary: every unindented line must open a known section, and something must be configured.
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or line[0] in " \t":
            continue
        keyword = stripped.split()[0]
        if keyword not in SECTIONS:
            message = (
                f"[ALERT]    (1) : config : parsing [{name}:{number}] : unknown keyword '{keyword}' out of section.\n"
            )
            return 1, b"", message.encode()
    if not text.strip():
        return 1, b"", b"[ALERT]    (1) : config : no configuration\n"
    return 0, b"Configuration file is valid\n", b""


@program("/usr/sbin/haproxy", "/sbin/haproxy")
def prog_haproxy(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    quiet = "-q" in args
    rest = [a for a in args if a != "-q"]
    if len(rest) != 3 or rest[0] != "-c" or rest[1] != "-f":
        return _fail("haproxy", "simulator models only 'haproxy -c [-q] -f FILE'")
    code, out, err = haproxy_check(guest, rest[2])
    guest.journal.append(f"haproxy -c -f {rest[2]}: {code}")
    return code, (b"" if quiet else out), err


@program("/usr/bin/systemctl", "/bin/systemctl")
def prog_systemctl(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    now = "--now" in args
    words = [arg for arg in args if arg != "--now"]
    if len(words) != 2:
        return _fail("systemctl", "simulator models only 'systemctl VERB [--now] UNIT'")
    verb, unit = words[0], words[1].removesuffix(".service")
    if unit == "qemu-guest-agent":
        # It answers the API, so it runs: every verb that keeps it running succeeds.
        if verb in ("enable", "start", "restart", "reload", "is-active", "is-enabled"):
            return 0, (b"active\n" if verb == "is-active" else b"enabled\n" if verb == "is-enabled" else b""), b""
        return _fail("systemctl", f"simulator models no 'systemctl {verb} qemu-guest-agent'")
    if unit != "haproxy":
        return 1, b"", f"Failed to {verb} unit: Unit {unit}.service not found.\n".encode()
    if verb in ("enable", "disable"):
        guest.haproxy_enabled = verb == "enable"
        if now:
            return prog_systemctl(guest, ["start" if verb == "enable" else "stop", "haproxy"], stdin)
        return 0, b"", b""
    if verb == "is-enabled":
        return (0, b"enabled\n", b"") if guest.haproxy_enabled else (1, b"disabled\n", b"")
    if verb == "is-active":
        return (0, b"active\n", b"") if guest.haproxy_active else (3, b"inactive\n", b"")
    if verb == "stop":
        guest.haproxy_active, guest.haproxy_config = False, None
        guest.journal.append("systemctl stop haproxy")
        return 0, b"", b""
    if verb == "reload":
        if not guest.haproxy_active:
            return 1, b"", b"haproxy.service is not active, cannot reload.\n"
        # Debian's unit: ExecReload checks the file first (haproxy -c -q); a bad file fails the reload and the
        # running configuration stays.
        code, _, _ = haproxy_check(guest, HAPROXY_CONFIG)
        if code != 0:
            guest.journal.append("systemctl reload haproxy: failed")
            return 1, b"", JOB_FAILED.encode()
        guest.haproxy_config = guest.files[HAPROXY_CONFIG]
        guest.haproxy_reloads += 1
        guest.journal.append("systemctl reload haproxy")
        return 0, b"", b""
    if verb in ("restart", "start"):
        if verb == "start" and guest.haproxy_active:
            return 0, b"", b""
        code, _, _ = haproxy_check(guest, HAPROXY_CONFIG)
        if code != 0:
            guest.haproxy_active, guest.haproxy_config = False, None
            guest.journal.append(f"systemctl {verb} haproxy: failed")
            return 1, b"", JOB_FAILED.encode()
        guest.haproxy_active = True
        guest.haproxy_config = guest.files[HAPROXY_CONFIG]
        guest.haproxy_restarts += 1
        guest.journal.append(f"systemctl {verb} haproxy")
        return 0, b"", b""
    return _fail("systemctl", f"simulator models no 'systemctl {verb}'")


# ------------------------------------------------------------------ the guest's cards and what they reach


def _vm_cards(vm: SimVm) -> dict[int, str]:
    """netN index -> bridge (node bridge or SDN vnet) of the VM's cards as its config holds them now."""
    cards = {}
    for key, value in vm.config.items():
        if key.startswith("net") and key[3:].isdigit():
            options = dict(part.partition("=")[::2] for part in str(value).split(",")[1:])
            cards[int(key[3:])] = options.get("bridge", "")
    return cards


def _booted_address(vm: SimVm, index: int) -> str | None:
    """The static address cloud-init gave card ``index`` at the VM's last boot (``ipconfigN`` it booted with)."""
    ipconfig = str(vm.booted_ipconfig.get(f"ipconfig{index}") or "")
    options = dict(part.partition("=")[::2] for part in ipconfig.split(","))
    ip = options.get("ip", "")
    return ip.split("/")[0] if ip and ip not in ("dhcp", "manual") else None


def guest_reaches(guest: Guest, address: str) -> bool:
    """Whether a connection from this guest to ``address`` is answered (docs/dev/proxmox-behaviour.md#simulator-guest).

    A running VM holds ``address`` on a card (the address it booted with); this guest has a configured card
    (booted address, or ``ip addr`` since boot) on the same vnet, or both are on node bridges (the public
    network). A VM that holds the address answers every port.
    """
    if guest.host is None:
        return False
    cluster, vm = guest.host
    own: set[str] = set()
    for index, bridge in _vm_cards(vm).items():
        if _booted_address(vm, index) or guest.addresses.get(f"eth{index}"):
            own.add("public" if bridge in NODE_BRIDGES else bridge)
    for other in list(cluster.vms.values()):
        if other is vm or not other.running:
            continue
        for index, bridge in _vm_cards(other).items():
            segment = "public" if bridge in NODE_BRIDGES else bridge
            if _booted_address(other, index) == address and segment in own:
                return True
    return False


@program("/bin/ip", "/sbin/ip", "/usr/bin/ip", "/usr/sbin/ip")
def prog_ip(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    """``ip link set [dev] NAME up`` and ``ip addr add|replace CIDR dev NAME`` on the guest's cards (ethN is netN)."""
    names = {f"eth{index}" for index in _vm_cards(guest.host[1])} if guest.host is not None else set()
    names.add("lo")
    if args[:2] == ["link", "set"] and len(args) in (4, 5) and args[-1] == "up":
        name = args[3] if args[2] == "dev" else args[2]
        if name not in names:
            return 1, b"", f'Cannot find device "{name}"\n'.encode()
        return 0, b"", b""
    if len(args) == 5 and args[0] in ("addr", "address") and args[1] in ("add", "replace") and args[3] == "dev":
        try:
            cidr = str(ipaddress.ip_interface(args[2]))
        except ValueError:
            return 1, b"", f'Error: any valid prefix is expected rather than "{args[2]}".\n'.encode()
        if args[4] not in names:
            return 1, b"", f'Cannot find device "{args[4]}"\n'.encode()
        held = guest.addresses.setdefault(args[4], set())
        if args[1] == "add" and cidr in held:
            return 2, b"", b"RTNETLINK answers: File exists\n"
        held.add(cidr)
        return 0, b"", b""
    return _fail("ip", "simulator models only 'ip link set [dev] NAME up' and 'ip addr add|replace CIDR dev NAME'")


# ------------------------------------------------------------------ HAProxy's runtime API (the stats socket)

# ``show stat``'s columns in HAProxy 2.6 (https://docs.haproxy.org/2.6/management.html#9.1), as Debian's 2.6.12
# prints them (one string split: 120 names).
_STAT_HEADER = (
    "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,"
    "bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,"
    "check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,"
    "req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,"
    "rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,"
    "agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,"
    "wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,"
    "idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,"
    "agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,"
    "h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,"
    "h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,"
    "h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,"
    "h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out"
)
STAT_COLUMNS = _STAT_HEADER.split(",")


def _stat_row(values: dict[str, str]) -> str:
    return ",".join(values.get(column, "") for column in STAT_COLUMNS) + ","


def show_stat(guest: Guest, config: str) -> str:
    """``show stat`` of the HAProxy running ``config``: a row per frontend, server and backend.

    A server with a check is UP when ``guest_reaches`` its address, DOWN ("Layer4 timeout") otherwise;
    one without is "no check". Counters are zero: the simulator carries no traffic.
    """
    rows = ["# " + ",".join(STAT_COLUMNS) + ","]
    section, name, mode = "", "", "http"
    default_check = False
    servers: list[tuple[str, str, bool]] = []

    def close() -> None:
        if section == "frontend":
            rows.append(_stat_row({"pxname": name, "svname": "FRONTEND", "status": "OPEN", "type": "0", "mode": mode}))
        elif section == "backend":
            up = 0
            for server, address, checked in servers:
                host = address.rsplit(":", 1)[0].strip("[]")
                reached = guest_reaches(guest, host)
                status = ("UP" if reached else "DOWN") if checked else "no check"
                up += status != "DOWN"
                detail = ("L4OK", "Layer4 check passed") if reached else ("L4TOUT", "Layer4 timeout")
                values = {"pxname": name, "svname": server, "status": status, "type": "2", "addr": address}
                if checked:
                    values.update(check_status=detail[0], check_desc=detail[1])
                rows.append(_stat_row({**values, "mode": mode, "weight": "1", "act": "1"}))
            status = "UP" if up or not servers else "DOWN"
            rows.append(_stat_row({"pxname": name, "svname": "BACKEND", "status": status, "type": "1", "mode": mode}))

    for line in config.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if line[0] not in " \t":
            close()
            section, name, mode = words[0], (words[1] if len(words) > 1 else ""), "http"
            default_check, servers = False, []
        elif words[0] == "mode" and len(words) > 1:
            mode = words[1]
        elif words[0] == "default-server":
            default_check = "check" in words[1:]
        elif words[0] == "server" and len(words) >= 3:
            checked = ("check" in words[3:] or default_check) and "no-check" not in words[3:]
            servers.append((words[1], words[2], checked))
    close()
    return "\n".join(rows) + "\n\n"


def _stats_socket(config: bytes | None) -> str | None:
    for line in (config or b"").decode("utf-8", "replace").splitlines():
        words = line.split()
        if words[:2] == ["stats", "socket"] and len(words) > 2:
            return words[2]
    return None


@program("/usr/bin/python3", "/usr/bin/python3.11")
def prog_python3(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    """Only a one-shot UNIX socket client: ``python3 -c SCRIPT SOCKET COMMAND`` (``delivery.runtime_read``'s)."""
    script = args[1] if len(args) == 4 and args[0] == "-c" else ""
    if not all(word in script for word in ("AF_UNIX", "sys.argv[1]", "sys.argv[2]")):
        return _fail("python3", "simulator models only 'python3 -c <UNIX socket client> SOCKET COMMAND'")
    socket_path, command = _norm(args[2]), args[3]
    if not guest.haproxy_active or _stats_socket(guest.haproxy_config) != socket_path:
        # No HAProxy listening: the socket file is gone (a stopped HAProxy removes it) or was never there.
        error = "FileNotFoundError: [Errno 2] No such file or directory"
        return 1, b"", f"Traceback (most recent call last):\n{error}\n".encode()
    if command.strip() != "show stat":
        return _fail("python3", f"simulator's HAProxy models only 'show stat' on its stats socket, not {command!r}")
    return 0, show_stat(guest, (guest.haproxy_config or b"").decode("utf-8", "replace")).encode(), b""


def resolve(name: str) -> Program | None:
    """A program by path, or by name through ``PATH`` (qga spawns with G_SPAWN_SEARCH_PATH)."""
    if "/" in name:
        return PROGRAMS.get(_norm(name))
    for directory in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        found = PROGRAMS.get(f"{directory}/{name}")
        if found is not None:
            return found
    return None


@program("/usr/bin/sh", "/bin/sh", "/usr/bin/dash", "/bin/dash")
def prog_sh(guest: Guest, args: list[str], stdin: bytes) -> ProgramResult:
    # sh -c SCRIPT [NAME [ARG...]]: NAME is $0, the ARGs $1… and "$@".
    if len(args) < 2 or args[0] != "-c":
        return _fail(SH_NAME, "simulator models only 'sh -c SCRIPT [NAME [ARG...]]'", 2)
    return run_script(guest, args[1], stdin, args[2:])


OPERATORS = ("&&", "||", ">>", ";", ">")
UNSUPPORTED_CHARS = "|&<`(){}\\*?["
_AT = object()  # the word "$@": as many words as there are arguments


class _ShellSyntax(Exception):
    pass


def _expand(script: str, index: int, params: list[str]) -> tuple[str | object, int]:
    """The parameter at ``script[index] == "$"``: ``$0``…``$9`` or ``$@``; anything else is not modelled."""
    following = script[index + 1 : index + 2]
    if following.isdigit():
        number = int(following)
        return (params[number] if number < len(params) else ""), index + 2
    if following == "@":
        return _AT, index + 2
    raise _ShellSyntax(f"unsupported shell syntax '${following}'")


def _tokens(script: str, params: list[str]) -> list[tuple[str, str]]:
    """Split a script into ("op", operator) and ("word", text) items, quotes removed, parameters expanded."""
    items: list[tuple[str, str]] = []
    parts: list[str | object] | None = None

    def flush() -> None:
        nonlocal parts
        if parts is None:
            return
        if _AT in parts:
            if parts != [_AT]:
                raise _ShellSyntax('unsupported shell syntax: "$@" inside a word')
            items.extend(("word", value) for value in params[1:])
        else:
            items.append(("word", "".join(str(part) for part in parts)))
        parts = None

    index = 0
    while index < len(script):
        char = script[index]
        if char in " \t\n":
            flush()
            index += 1
            continue
        operator = next((op for op in OPERATORS if script.startswith(op, index)), None)
        if operator is not None:
            flush()
            items.append(("op", operator))
            index += len(operator)
            continue
        if parts is None and char in "#~":
            raise _ShellSyntax(f"unsupported shell syntax '{char}'")
        parts = [] if parts is None else parts
        if char == "'":
            end = script.find("'", index + 1)
            if end < 0:
                raise _ShellSyntax("Unterminated quoted string")
            parts.append(script[index + 1 : end])
            index = end + 1
        elif char == '"':
            index += 1
            while index < len(script) and script[index] != '"':
                if script[index] == "$":
                    value, index = _expand(script, index, params)
                    parts.append(value)
                elif script[index] in "`\\":
                    raise _ShellSyntax(f"unsupported shell syntax '{script[index]}'")
                else:
                    parts.append(script[index])
                    index += 1
            if index >= len(script):
                raise _ShellSyntax("Unterminated quoted string")
            index += 1
        elif char == "$":
            value, index = _expand(script, index, params)
            parts.append(value)
        elif char in UNSUPPORTED_CHARS:
            raise _ShellSyntax(f"unsupported shell syntax '{char}'")
        else:
            parts.append(char)
            index += 1
    flush()
    return items


def run_script(guest: Guest, script: str, stdin: bytes, params: list[str] | None = None) -> ProgramResult:
    """A ``sh -c`` script: simple commands joined by ``&&``, ``||`` and ``;`` (left to right, as sh does), each
    with an optional ``> file`` or ``>> file``; ``$0``…``$9`` and ``"$@"`` from the arguments after the script."""
    arguments = params or [SH_NAME]
    try:
        items = _tokens(script, arguments)
    except _ShellSyntax as exc:
        return 2, b"", f"{SH_NAME}: 1: simulator: {exc}\n".encode()
    out, err = b"", b""
    status = 0
    command: list[tuple[str, str]] = []
    operator = ";"
    for kind, value in [*items, ("op", ";")]:
        if kind == "op" and value in ("&&", "||", ";"):
            if not command:
                if value == ";" and operator == ";" and not out and not err and not items:
                    break  # an empty script
                return 2, out, err + f'{SH_NAME}: 1: Syntax error: "{value}" unexpected\n'.encode()
            run = operator == ";" or (operator == "&&" and status == 0) or (operator == "||" and status != 0)
            if run:
                status, o, e = _run_simple(guest, command, stdin)
                out, err = out + o, err + e
            command, operator = [], value
            continue
        command.append((kind, value))
    return status, out, err


def _run_simple(guest: Guest, items: list[tuple[str, str]], stdin: bytes) -> ProgramResult:
    words: list[str] = []
    redirect: tuple[str, str] | None = None
    index = 0
    while index < len(items):
        kind, value = items[index]
        if kind == "op":  # > or >>
            if index + 1 >= len(items) or items[index + 1][0] != "word":
                message = f'Syntax error: newline unexpected (expecting word after "{value}")'
                return 2, b"", f"{SH_NAME}: 1: {message}\n".encode()
            redirect = (value, items[index + 1][1])
            index += 2
            continue
        words.append(value)
        index += 1
    target = None
    if redirect is not None:
        target = _norm(redirect[1])
        if guest.is_dir(target):
            return 2, b"", f"{SH_NAME}: 1: cannot create {redirect[1]}: Is a directory\n".encode()
        if not guest.parent_exists(target):
            return 2, b"", f"{SH_NAME}: 1: cannot create {redirect[1]}: Directory nonexistent\n".encode()
        # The shell opens (creates or truncates) the file before the command runs.
        if redirect[0] == ">" or not guest.is_file(target):
            guest.write(target, b"" if redirect[0] == ">" else guest.files.get(target, b""), mode=NEW_FILE_MODE)
    if not words:
        return 0, b"", b""
    name, *args = words
    found = resolve(name)
    if found is None:
        return 127, b"", f"{SH_NAME}: 1: {name}: not found\n".encode()
    code, out, err = found(guest, args, stdin)
    if target is not None:
        guest.files[target] = guest.files.get(target, b"") + out
        out = b""
    return code, out, err


def run_argv(guest: Guest, argv: list[str], stdin: bytes) -> ProgramResult:
    found = resolve(argv[0])
    if found is None:  # checked at spawn time; a program cannot vanish from the registry
        return 127, b"", b""
    code, out, err = found(guest, argv[1:], stdin)
    return code, out[:EXEC_MAX_OUTPUT], err[:EXEC_MAX_OUTPUT]


# ------------------------------------------------------------------ endpoints


def _agent_error(desc: str) -> PveHttpError:
    return PveHttpError(500, f"Agent error: {desc}")


def _as_bytes(text: str) -> bytes:
    # Perl's encode_base64 on the decoded parameter: code points up to 255 are bytes, above it dies
    # (docs/dev/proxmox-behaviour.md#guest-agent-files-exec).
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise PveHttpError(500, "Wide character in subroutine entry") from None


def _as_text(data: bytes) -> str:
    # PVE returns decoded bytes through its JSON encoder: one character per byte.
    return data.decode("latin-1")


@route("POST", "/nodes/{node}/qemu/{vmid}/agent/file-write")
def agent_file_write(call: Call) -> Any:
    vm = _agent_ready(call)
    guest = guest_of(vm, call.cluster)
    settle(guest)
    path = str(call.params["file"])
    content = str(call.params["content"])
    if len(content) > MAX_WRITE_CHARS:  # the schema's maxLength, checked even when the schema file is absent
        raise param_error({"content": f"value may only be {MAX_WRITE_CHARS} characters long"})
    if call.flag("encode", default=True):
        data = _as_bytes(content)
    else:
        try:
            data = base64.b64decode(content.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise _agent_error("Guest agent command failed, error was 'Base64 data is not valid'") from None
    target = _norm(path)
    if guest.is_dir(target):
        raise _agent_error(f"failed to open file '{path}' (mode: 'wb'): Is a directory")
    if not path.startswith("/") or not guest.parent_exists(target):
        raise _agent_error(f"failed to open file '{path}' (mode: 'wb'): No such file or directory")
    guest.write(target, data, mode=NEW_FILE_MODE)
    return None


@route("GET", "/nodes/{node}/qemu/{vmid}/agent/file-read")
def agent_file_read(call: Call) -> Any:
    vm = _agent_ready(call)
    guest = guest_of(vm, call.cluster)
    settle(guest)
    path = str(call.params["file"])
    target = _norm(path)
    if not path.startswith("/") or not guest.is_file(target):
        if guest.is_dir(target):
            # open(2) of a directory read-only succeeds; the first read fails (qga guest-file-read).
            raise _agent_error("failed to read file: Is a directory")
        raise _agent_error(f"failed to open file '{path}' (mode: 'r'): No such file or directory")
    data = guest.files[target]
    result: dict[str, Any] = {"content": _as_text(data[:MAX_READ_SIZE]), "bytes-read": min(len(data), MAX_READ_SIZE)}
    if len(data) > MAX_READ_SIZE:
        result["truncated"] = 1
    return result


@route("POST", "/nodes/{node}/qemu/{vmid}/agent/exec")
def agent_exec(call: Call) -> Any:
    call.cluster.vm(call.node, call.vmid)
    raw = call.params.get("command")
    argv = [str(part) for part in raw] if isinstance(raw, list) else ([str(raw)] if raw is not None else [])
    stdin_text = call.params.get("input-data")
    # qemu_exec checks its arguments before it asks the agent (QemuServer/Agent.pm).
    if not argv and stdin_text is None:
        raise PveHttpError(500, "command or input-data (or both) required")
    vm = _agent_ready(call)
    guest = guest_of(vm, call.cluster)
    settle(guest)
    if not argv:
        # qga with input-data alone has no path to spawn: its QAPI argument 'path' is mandatory.
        raise _agent_error("Parameter 'path' is missing")
    stdin = _as_bytes(str(stdin_text)) if stdin_text is not None else b""
    if resolve(argv[0]) is None:
        raise _agent_error(SPAWN_FAILED.format(path=argv[0], reason="No such file or directory"))
    guest.next_pid += 1
    process = GuestProcess(pid=guest.next_pid, argv=argv, stdin=stdin, finish_at=time.monotonic() + guest.exec_seconds)
    guest.processes[process.pid] = process
    return {"pid": process.pid}


@route("GET", "/nodes/{node}/qemu/{vmid}/agent/exec-status")
def agent_exec_status(call: Call) -> Any:
    vm = _agent_ready(call)
    guest = guest_of(vm, call.cluster)
    settle(guest)
    pid = int(call.params["pid"])
    process = guest.processes.get(pid)
    if process is None:
        raise _agent_error(UNKNOWN_PID)
    if not process.done:
        return {"exited": 0}
    # qga hands out a finished process's status once, then forgets the pid (qga/commands.c
    # qmp_guest_exec_status; docs/dev/proxmox-behaviour.md#guest-agent-files-exec).
    del guest.processes[pid]
    result: dict[str, Any] = {"exited": 1, "exitcode": process.exitcode}
    if process.out:
        result["out-data"] = _as_text(process.out)
    if process.err:
        result["err-data"] = _as_text(process.err)
    return result
