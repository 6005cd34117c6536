"""Many workers, one truth: 500 servers ordered through the API of two web processes, built by three workers.

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/many_workers_bench.py
    MANY_WORKERS_SERVERS=30 python benchmarks/many_workers_bench.py      # a small run
    MANY_WORKERS_SCENARIOS=baseline python benchmarks/many_workers_bench.py

What runs for real (scripts/chaos/harness.py): two gunicorn web processes on
loopback ports, three Celery worker processes (prefork, two children each) on
RabbitMQ (127.0.0.1:5672, a virtual host of this run, deleted at the end),
PostgreSQL (a database of this run, cloned from a template migrated once, both
dropped at the end) and the Proxmox simulator (zero-second tasks; 8 CPU nodes and
4 GPU nodes of 8 A100) in this process. Orders are placed concurrently through
``POST /api/v1/orders/`` with API tokens of five organisations and an
``Idempotency-Key`` (retried on 5xx and transport errors, as a client should);
one order in 20 is a GPU server.

Three scenarios, each on a fresh database: the baseline; a worker SIGKILLed
(whole process group) a third of the way in and restarted two seconds later;
RabbitMQ restarted (``rabbitmqctl stop_app``, three seconds down, ``start_app``)
a third of the way in. Each prints the time from the first order to the last
order completed, the rate, and the checks: every order completed, every server
running once, no duplicate VMID, IP or GPU (in the database and in Proxmox),
no action or reservation left open, no leaked allocation. Exits 1 when a check
fails. No RabbitMQ here: prints ``skipped: …`` and exits 0.
See apps/docs/content/production.md, "Many workers benchmark".
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "chaos"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import harness  # noqa: E402

SIZE = int(os.environ.get("MANY_WORKERS_SERVERS", "500"))
ALL_SCENARIOS = "baseline,worker-kill,rabbitmq-restart"
SCENARIOS = [s.strip() for s in os.environ.get("MANY_WORKERS_SCENARIOS", ALL_SCENARIOS).split(",") if s.strip()]
SUFFIX = os.environ.get("TEST_DB_SUFFIX", "")


def _terminate(*_args: Any) -> None:
    raise SystemExit(143)  # run the finally blocks: processes, vhost and databases go


def _scenario(name: str, dbs: harness.Databases, workdir: Path) -> tuple[bool, dict[str, Any]]:
    from django.conf import settings

    harness.log(f"--- {name}: {SIZE} servers, 2 web processes, 3 workers")
    db_url = dbs.copy(f"test_vmcloud_mw{SUFFIX}")
    vhost = harness.Vhost(f"vmcloud-mw{SUFFIX}-{os.getpid()}-{name}")
    sim = harness.start_simulator(workdir)
    stack = harness.Stack(workdir=workdir / name, database_url=db_url, broker_url=vhost.url)
    injected = ""
    try:
        settings.INSTANCES_DRIVER_OPTIONS = {"task_poll_interval": 0.02, "retries": 2}
        world = harness.build_world(sim)
        stack.start()
        stack.wait_web()
        orders = harness.order_names(SIZE)
        gpu_expected = sum(1 for _n, offer in orders if offer == harness.GPU_OFFER)
        trigger = threading.Event()
        threshold = max(1, SIZE // 3)

        def progress(placed: int) -> None:
            if placed >= threshold:
                trigger.set()

        def chaos() -> None:
            nonlocal injected
            if not trigger.wait(timeout=600):
                return
            if name == "worker-kill":
                stack.kill_worker(0)
                killed_at = time.monotonic() - started
                time.sleep(2)
                stack.restart_worker(0)
                injected = f"worker 1 SIGKILLed at {killed_at:.1f} s, restarted at {time.monotonic() - started:.1f} s"
            elif name == "rabbitmq-restart":
                at = time.monotonic() - started
                outage = harness.rabbitmq_restart(down_seconds=3.0)
                injected = f"RabbitMQ stop_app at {at:.1f} s, start_app done {outage:.1f} s later"

        started = time.monotonic()
        chaos_thread = threading.Thread(target=chaos, daemon=True)
        if name != "baseline":
            chaos_thread.start()
        results = harness.place_orders(stack.urls(), world, orders, threads=8, on_progress=progress)
        placed_at = time.monotonic() - started
        try:
            done = harness.wait_converged(SIZE, timeout=300 + 2 * SIZE, label=f"{name}: ")
        except harness.NotConverged as exc:
            harness.log(f"    NOT CONVERGED: {exc}")
            done = float("nan")
        elapsed = done - started
        if name != "baseline":
            chaos_thread.join(timeout=600)  # the restarted worker is up before the checks and the stop
        checks = harness.verify(sim, SIZE, gpu_expected=gpu_expected)
    except BaseException:
        harness.log(stack.tails())
        raise
    finally:
        stack.close()
        sim.stop()
        vhost.delete()
    if injected:
        harness.log(f"    injected: {injected}")
    harness.log(
        f"    orders placed in {placed_at:.1f} s (HTTP {dict(results.statuses)}, {results.retries} retries, "
        f"{len(results.errors)} given up)"
    )
    for error in results.errors[:5]:
        harness.log(f"    gave up: {error}")
    if elapsed == elapsed:  # not NaN: converged
        harness.log(
            f"    {SIZE} servers running in {elapsed:.1f} s: {SIZE / elapsed:.1f} servers/s ({gpu_expected} with a GPU)"
        )
    else:
        harness.log(f"    {SIZE} servers: did NOT converge ({gpu_expected} with a GPU)")
    ok = harness.print_checks(checks) and not results.errors
    return ok, {"elapsed": elapsed, "rate": SIZE / elapsed, "injected": injected}


def main() -> int:
    reason = harness.rabbitmq_unavailable()
    if reason:
        print(f"skipped: {reason}")
        return 0
    if not harness.port_open("127.0.0.1", 5432):
        print("skipped: no PostgreSQL on 127.0.0.1:5432 (make services)")
        return 0
    signal.signal(signal.SIGTERM, _terminate)

    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    keep = os.environ.get("MANY_WORKERS_KEEP_TEMPLATE", "") == "1"  # development only
    dbs = harness.Databases(template=f"test_vmcloud_mwtmpl{SUFFIX}", keep_template=keep)
    workdir = Path(tempfile.mkdtemp(prefix="vmcloud-manyworkers-"))
    figures: dict[str, dict[str, Any]] = {}
    ok = True
    try:
        harness.log(f"migrating the template database {dbs.template} ...")
        harness.log(f"    migrated in {dbs.migrate_template():.0f} s (once; each scenario starts from a copy)")
        for name in SCENARIOS:
            passed, figures[name] = _scenario(name, dbs, workdir)
            ok = ok and passed
    finally:
        dbs.close()
    harness.log("--- summary")
    for name, row in figures.items():
        if row["elapsed"] == row["elapsed"]:
            harness.log(f"    {name:<17} {row['elapsed']:7.1f} s  {row['rate']:6.1f} servers/s  {row['injected']}")
        else:
            harness.log(f"    {name:<17} did not converge  {row['injected']}")
    harness.log(f"    logs: {workdir}")
    if not ok:
        harness.log("error: a check failed (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
