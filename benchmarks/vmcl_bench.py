"""vmcl's start-up time and ``vmcl server list -o json`` over 1,000 servers (goal: start-up under 300 ms).

    python benchmarks/vmcl_bench.py [--runs 15] [--servers 1000]

1. Start-up: ``vmcl --help`` run ``--runs`` times as a subprocess; prints the
   best and median wall time and CPU time (user + system, which a busy host
   inflates less than wall time), beside ``python -c pass``, the interpreter's
   own floor on this machine.
2. Listing: 1,000 servers in a throwaway PostgreSQL database
   (``test_vmcloud_vmclbench``, recreated each run), gunicorn on a free
   loopback port, and ``vmcl server list -o json`` (5 pages of 200, token from
   VMCL_URL/VMCL_TOKEN) timed end to end, best and median of 5.

The figures depend on the host's load: they are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SETTINGS = "benchmarks.vmclbench.settings"
VMCL = Path(sys.executable).with_name("vmcl")


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    """(wall seconds, CPU seconds, stdout) of one subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def _report(label: str, runs: list[tuple[float, float, bytes]]) -> None:
    walls = [r[0] * 1000 for r in runs]
    cpus = [r[1] * 1000 for r in runs]
    print(
        f"{label:<34} wall best {min(walls):6.0f} ms, median {statistics.median(walls):6.0f} ms; "
        f"CPU best {min(cpus):6.0f} ms, median {statistics.median(cpus):6.0f} ms"
    )


def startup(runs: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMCL_")}
    env["VMCL_CONFIG"] = str(Path(tempfile.mkdtemp()) / "config.toml")
    _report("python -c pass (floor)", [_timed([sys.executable, "-c", "pass"], env) for _ in range(runs)])
    _report("vmcl --help", [_timed([str(VMCL), "--help"], env) for _ in range(runs)])
    _report("vmcl server list --help", [_timed([str(VMCL), "server", "list", "--help"], env) for _ in range(runs)])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _platform(servers: int) -> str:
    """A fresh database with ``servers`` instances of one organisation; returns a read-only token."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    import django

    django.setup()
    from django.db import connection

    from apps.teams.choices import TokenScope
    from apps.teams.services import api_token_create
    from benchmarks.benchdata import servers_of_one_organisation

    if connection.vendor != "postgresql":
        sys.exit("vmcl_bench needs PostgreSQL.")
    connection.settings_dict["TEST"]["NAME"] = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)

    owner, org = servers_of_one_organisation(servers)
    _token, secret = api_token_create(
        user=owner, organisation=org, name="bench", scope=TokenScope.READ_ONLY, expires_at=None
    )
    connection.close()
    return str(secret)


def listing(servers: int) -> None:
    token = _platform(servers)
    port = _free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMCL_")}
    env.update({"VMCL_URL": f"http://127.0.0.1:{port}", "VMCL_TOKEN": token})
    argv = [str(VMCL), "server", "list", "-o", "json"]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("gunicorn did not start")
                time.sleep(0.2)
        first = _timed(argv, env)  # warm-up: workers load the application
        count = len(json.loads(first[2]))
        if count != servers:
            sys.exit(f"vmcl listed {count} servers, expected {servers}")
        _report(f"vmcl server list -o json ({servers})", [_timed(argv, env) for _ in range(5)])
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--servers", type=int, default=1000)
    args = parser.parse_args()
    if not VMCL.exists():
        sys.exit(f"{VMCL} is missing: install the client tools (make venv, requirements/dev.txt)")
    startup(args.runs)
    listing(args.servers)
    print("goal: vmcl --help under 300 ms on an idle host (the CPU figure is the closer estimate on a busy one)")


if __name__ == "__main__":
    main()
