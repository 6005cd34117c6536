"""``make chaos``: a bounded chaos drill on loopback. Inject faults into a running platform, check it converges.

    .venv/bin/python scripts/chaos.py                      # every step
    CHAOS_STEPS=baseline,redis-flush python scripts/chaos.py
    CHAOS_BATCH=10 python scripts/chaos.py                 # servers ordered per step (default 24)

The platform runs as in production, on loopback only (scripts/chaos/harness.py):
two gunicorn web processes, three Celery workers on a RabbitMQ virtual host of
this drill (the system broker on 127.0.0.1:5672; the vhost is deleted at the
end), a PostgreSQL server of its own (initdb + pg_ctl on a free port, in a
temporary folder: the shared system instance is never restarted), a Redis of its
own (redis-server on a free port, no persistence), the Proxmox simulator, and a
fake Stripe API (loopback HTTP; the web and worker processes reach it through
scripts/chaos/stripe_shim/sitecustomize.py).

Steps, each ordering a batch of servers through the API and injecting one fault
while they are being built (CHAOS_STEPS selects):

* ``baseline``: nothing injected.
* ``broker-restart``: ``rabbitmqctl stop_app``, 3 s, ``start_app`` (the system broker: every vhost on it
  pauses; restarted in any case).
* ``postgres-restart``: ``pg_ctl restart -m fast`` of the drill's own PostgreSQL.
* ``redis-flush``: ``FLUSHALL`` on the drill's own Redis (cache, rate-limit and lockout counters), then an
  order of the step is sent again with its ``Idempotency-Key``: the same order must come back.
* ``node-595``: one Proxmox node answers 595 (unreachable, the simulator's fault injection) for 8 s.
* ``stripe-webhooks``: ``invoice.paid`` delivered twice at once (one to each web process), then an older
  ``invoice.payment_failed`` twice, after it (out of order).

After each step the drill waits for convergence and checks, cumulatively over
every server ordered so far: every order completed, every server running once,
no duplicate VMID, IP or GPU (database and Proxmox), no action or reservation
left open, no leaked allocation; for the webhooks: one stored event per event
id, the invoice paid once, the older failure ignored, no event left pending.
It prints what it injected and what it verified, and exits 1 if a check fails
(0 with ``skipped: …`` when RabbitMQ, PostgreSQL's binaries or redis-server are
missing). Bounded: every wait has a limit. See apps/docs/content/production.md,
"Chaos drill".
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHAOS_DIR = ROOT / "scripts" / "chaos"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(CHAOS_DIR))

import harness  # noqa: E402

ALL_STEPS = "baseline,broker-restart,postgres-restart,redis-flush,node-595,stripe-webhooks"
STEPS = [s.strip() for s in os.environ.get("CHAOS_STEPS", ALL_STEPS).split(",") if s.strip()]
BATCH = int(os.environ.get("CHAOS_BATCH", "24"))
PACE = float(os.environ.get("CHAOS_PACE", "0.5"))  # seconds between two orders: faults land mid-flow
WEBHOOK_SECRET = "whsec_chaos_" + "c" * 32  # the drill's own endpoint secret, never a real one
STRIPE_KEY = "sk_test_chaos_" + "x" * 30  # a test-mode key shape; only the fake Stripe sees it
OFFLINE_NODE = "cpu02"


# ---------------------------------------------------------------------------
# Private services
# ---------------------------------------------------------------------------
def _pg_bindir() -> Path | None:
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        folder = Path(pg_ctl).resolve().parent
        if (folder / "initdb").exists():
            return folder
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").exists():
            return folder
    return None


class PrivatePostgres:
    """A PostgreSQL server of the drill: its own data folder and port, trust auth on 127.0.0.1 only."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = harness.free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="vmcloud-chaos-pg-"))
        self.data = self.folder / "data"
        self.logfile = self.folder / "postgres.log"
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres account
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _ctl(self, *args: str, timeout: float = 120) -> None:
        harness.run([*self._as, str(self.bindir / "pg_ctl"), "-D", str(self.data), *args], timeout=timeout)

    def start(self) -> PrivatePostgres:
        harness.run(
            [*self._as, str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
             "-E", "UTF8", "--no-sync"],
            timeout=180,
        )  # fmt: skip
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._ctl("-l", str(self.logfile), "-o", options, "-w", "start")
        return self

    def restart(self) -> float:
        started = time.monotonic()
        self._ctl("-m", "fast", "-w", "restart", "-l", str(self.logfile))
        return time.monotonic() - started

    def stop(self) -> None:
        try:
            self._ctl("-m", "immediate", "-w", "stop", timeout=60)
        except Exception as exc:
            harness.log(f"warning: private PostgreSQL stop: {exc}")
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A redis-server of the drill on a free loopback port, no persistence."""

    def __init__(self, workdir: Path) -> None:
        self.port = harness.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        cmd = [str(shutil.which("redis-server")), "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--daemonize", "no"]  # fmt: skip
        self.process = harness.Process("redis", cmd, dict(os.environ), workdir, ready="Ready to accept connections")
        self.process.wait_ready(timeout=30)

    def flushall(self) -> int:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port)
        keys = int(client.dbsize())
        client.flushall()
        client.close()
        return keys

    def stop(self) -> None:
        self.process.stop()


class FakeStripe:
    """Loopback HTTP answering stripe-python's ``GET /v1/invoices/<id>``; anything else is Stripe's 404."""

    def __init__(self) -> None:
        self.invoices: dict[str, dict[str, Any]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) == 3 and parts[:2] == ["v1", "invoices"] and parts[2] in fake.invoices:
                    status, body = 200, fake.invoices[parts[2]]
                else:
                    status = 404
                    body = {"error": {"type": "invalid_request_error", "message": f"No such object: {self.path}"}}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------
# The drill
# ---------------------------------------------------------------------------
class Drill:
    def __init__(self, workdir: Path, sim: Any, world: harness.World, stack: harness.Stack) -> None:
        self.workdir, self.sim, self.world, self.stack = workdir, sim, world, stack
        self.ordered = 0
        self.results: list[tuple[str, str, list[harness.Check]]] = []

    def batch(self, step: str, inject: Callable[[], str] | None, extra: Callable[[], list[harness.Check]] | None = None,
              ) -> None:  # fmt: skip
        """Order BATCH servers; ``inject`` runs once a third of them are placed; then converge and verify."""
        harness.log(f"--- {step}")
        orders = harness.order_names(BATCH, prefix=step[:10])
        self.ordered += len(orders)
        gpus = sum(1 for _n, offer in orders if offer == harness.GPU_OFFER)
        trigger = threading.Event()
        injected: list[str] = []

        def progress(placed: int) -> None:
            if placed >= max(1, BATCH // 3):
                trigger.set()

        def chaos() -> None:
            if inject is not None and trigger.wait(timeout=300):
                try:
                    injected.append(inject())
                except Exception as exc:
                    injected.append(f"INJECTION FAILED: {type(exc).__name__}: {exc}")

        thread = threading.Thread(target=chaos, daemon=True)
        thread.start()
        started = time.monotonic()
        self.last_orders = harness.place_orders(self.stack.urls(), self.world, orders, threads=6, pace=PACE,
                                                on_progress=progress)  # fmt: skip
        trigger.set()
        thread.join(timeout=300)
        checks: list[harness.Check] = []
        prefix = f"{step[:10]}-"
        try:
            harness.wait_converged(len(orders), timeout=240, label=f"{step}: ", stall=60, prefix=prefix)
            checks.append(harness.Check("converged", True, f"in {time.monotonic() - started:.1f} s"))
        except harness.NotConverged as exc:
            # What beat's safety net "orders.sync" (every 10 minutes) would do, run now: an order whose
            # server left provisioning while its signal was lost follows it (apps.orders fulfilment).
            from apps.orders.services import orders_sync_provisioning

            synced = orders_sync_provisioning()
            harness.log(f"    stalled ({exc}); ran the beat safety net orders.sync now: {synced} orders followed")
            try:
                harness.wait_converged(len(orders), timeout=60, label=f"{step}: ", stall=30, prefix=prefix)
                checks.append(harness.Check("converged", True, f"only with the orders.sync safety net ({synced})"))
            except harness.NotConverged as again:
                checks.append(harness.Check("converged", False, f"{again}, even after orders.sync ({synced})"))
        results = self.last_orders
        checks.append(harness.Check("every order accepted by the API", not results.errors,
                                    f"HTTP {dict(results.statuses)}, {results.retries} retries, "
                                    f"{len(results.errors)} given up {results.errors[:2]}"))  # fmt: skip
        if extra is not None:
            checks.extend(extra())
        # This step's orders must all be complete; duplicates and leaks are checked over every step.
        checks.extend(harness.verify(self.sim, len(orders), gpu_expected=gpus, prefix=prefix))
        self.report(step, injected[0] if injected else "nothing", checks)

    def report(self, step: str, injected: str, checks: list[harness.Check]) -> None:
        harness.log(f"    injected: {injected}")
        harness.log("    verified:")
        harness.print_checks(checks)
        self.results.append((step, injected, checks))


def _replay_check(drill: Drill) -> list[harness.Check]:
    """The first order of the step, sent again with its Idempotency-Key after the flush: the same order."""
    import requests

    from apps.orders.models import Order

    first = drill.last_orders.accepted[0] if drill.last_orders.accepted else None
    if first is None:
        return [harness.Check("idempotent replay after the flush", False, "no order accepted")]
    url, headers, body, order_id = first
    before = Order.objects.count()
    response = requests.post(url, json=body, headers=headers, timeout=60)
    same = response.status_code in (201, 202) and response.json().get("id") == order_id
    return [
        harness.Check("idempotent replay after the flush", same and Order.objects.count() == before,
                      f"HTTP {response.status_code}, same order: {same}, orders {before} -> {Order.objects.count()}")
    ]  # fmt: skip


def _stripe_step(drill: Drill, stripe: FakeStripe) -> None:
    """invoice.paid twice at once (one per web process), then an older payment_failed twice."""
    import requests
    import stripe as stripe_lib

    from apps.billing.choices import InvoiceStatus, WebhookEventStatus
    from apps.billing.models import StripeWebhookEvent
    from apps.core.models import AuditEvent

    harness.log("--- stripe-webhooks")
    invoice = _invoice_for_webhooks()
    now = int(time.time())
    stripe.invoices["in_chaos_1"] = {
        "id": "in_chaos_1", "object": "invoice", "customer": "cus_chaos", "status": "paid", "currency": "eur",
        "amount_due": 12100, "amount_paid": 12100, "amount_remaining": 0, "attempted": True, "attempt_count": 1,
        "collection_method": "charge_automatically", "created": now - 3600, "livemode": False, "metadata": {},
        "status_transitions": {"finalized_at": now - 3000, "paid_at": now - 30},
        "lines": {"object": "list", "data": [], "has_more": False, "url": "/v1/invoices/in_chaos_1/lines"},
    }  # fmt: skip

    def event(type_: str, created: int) -> str:
        return json.dumps({
            "id": f"evt_chaos_{uuid.uuid4().hex[:16]}", "object": "event", "api_version": "2026-05-27.dahlia",
            "created": created, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": type_,
            "data": {"object": {"id": "in_chaos_1", "object": "invoice"}},
        })  # fmt: skip

    def deliver(payload: str, url: str) -> int:
        t = int(time.time())
        signature = stripe_lib.WebhookSignature._compute_signature(f"{t}.{payload}", WEBHOOK_SECRET)
        headers = {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}
        return requests.post(url + "/billing/stripe/webhook/", data=payload, headers=headers, timeout=30).status_code

    paid, failed = event("invoice.paid", now), event("invoice.payment_failed", now - 60)
    codes: list[int] = []
    for payload in (paid, failed):
        threads = [threading.Thread(target=lambda u=url, p=payload: codes.append(deliver(p, u)))
                   for url in drill.stack.urls()]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    injected = (f"invoice.paid delivered twice at once (web1 and web2), then invoice.payment_failed "
                f"(60 s older) twice: HTTP {sorted(codes)}")  # fmt: skip
    ids = [json.loads(paid)["id"], json.loads(failed)["id"]]

    def settled() -> bool:
        rows = StripeWebhookEvent.objects.filter(event_id__in=ids)
        return rows.count() == 2 and not rows.filter(status__in=[WebhookEventStatus.PENDING, "processing"]).exists()

    checks: list[harness.Check] = []
    try:
        harness.wait_for(settled, 90, "the webhook events to be processed")
        checks.append(harness.Check("events processed", True))
    except TimeoutError as exc:
        checks.append(harness.Check("events processed", False, str(exc)))
    rows = dict(StripeWebhookEvent.objects.filter(event_id__in=ids).values_list("event_id", "status"))
    stored = StripeWebhookEvent.objects.filter(event_id__in=ids).count()
    invoice.refresh_from_db()
    paid_audits = AuditEvent.objects.filter(action="billing.invoice.paid", target_id=str(invoice.pk)).count()
    if paid_audits == 0:  # target ids may be stored as the public id
        paid_audits = AuditEvent.objects.filter(action="billing.invoice.paid").count()
    checks += [
        harness.Check("all deliveries answered 200", codes == [200] * len(codes), f"HTTP {codes}"),
        harness.Check("one stored event per event id", stored == 2, f"{stored} rows for 2 events, 4 deliveries"),
        harness.Check("invoice paid", invoice.status == InvoiceStatus.PAID, f"status {invoice.status}"),
        harness.Check("paid once", paid_audits == 1, f"{paid_audits} billing.invoice.paid audit events"),
        # Whichever event a worker takes first, the handler applies Stripe's current status (paid), so the
        # late failure leaves no trace: ignored when it is older than the status applied, else done as "paid".
        harness.Check("late failure left no trace", invoice.payment_failed_at is None
                      and set(rows.values()) <= {WebhookEventStatus.DONE, WebhookEventStatus.IGNORED},
                      f"payment_failed_at {invoice.payment_failed_at}, event statuses {sorted(rows.values())}"),
    ]  # fmt: skip
    drill.report("stripe-webhooks", injected, checks)


def _invoice_for_webhooks() -> Any:
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from apps.billing.choices import InvoiceStatus
    from apps.billing.models import Invoice
    from apps.teams.models import Organisation

    organisation = Organisation.objects.order_by("pk").first()
    issued = timezone.now() - dt.timedelta(days=1)
    return Invoice.objects.create(
        organisation=organisation,
        number=f"CHAOS-{uuid.uuid4().hex[:8]}",
        status=InvoiceStatus.OPEN,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
        issued_at=issued,
        due_at=issued + dt.timedelta(days=14),
        subtotal=Decimal("100.00"),
        net_total=Decimal("100.00"),
        vat_rate=Decimal("21.00"),
        vat_amount=Decimal("21.00"),
        total=Decimal("121.00"),
        amount_due=Decimal("121.00"),
        stripe_invoice_id="in_chaos_1",
    )


def _copy_database(bindir: Path, source: str, port: int) -> None:
    harness.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "vmcloud_chaos"])
    dump = subprocess.Popen(
        [str(bindir / "pg_dump"), "-Fc", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", source],
        stdout=subprocess.PIPE,
    )
    restore = [str(bindir / "pg_restore"), "--no-owner", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
               "-d", "vmcloud_chaos"]  # fmt: skip
    subprocess.run(restore, stdin=dump.stdout, check=True, timeout=600)
    if dump.wait(timeout=60) != 0:
        raise RuntimeError(f"pg_dump of {source} failed")


def _terminate(*_args: Any) -> None:
    raise SystemExit(143)


def main() -> int:
    missing = harness.rabbitmq_unavailable()
    bindir = _pg_bindir()
    if missing is None and bindir is None:
        missing = "PostgreSQL's initdb and pg_ctl not found (the drill runs a PostgreSQL of its own)"
    if missing is None and shutil.which("redis-server") is None:
        missing = "redis-server not found (the drill runs a Redis of its own)"
    if missing or bindir is None:
        print(f"skipped: {missing}")
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="vmcloud-chaos-"))
    cleanup: list[Callable[[], None]] = []
    drill: Drill | None = None
    started = time.monotonic()
    try:
        harness.log(f"chaos drill: steps {', '.join(STEPS)}; {BATCH} servers per step; logs in {workdir}")
        pg = PrivatePostgres(bindir).start()
        cleanup.append(pg.stop)
        redis_server = PrivateRedis(workdir)
        cleanup.append(redis_server.stop)
        stripe = FakeStripe()
        cleanup.append(stripe.stop)
        harness.log(f"    private PostgreSQL on 127.0.0.1:{pg.port}, Redis on 127.0.0.1:{redis_server.port}, "
                    f"fake Stripe on {stripe.url}")  # fmt: skip
        os.environ.update({
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg.port}/vmcloud_chaos",
            "REDIS_URL": redis_server.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "STRIPE_SECRET_KEY": STRIPE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        })  # fmt: skip

        import logging

        import django

        django.setup()
        logging.disable(logging.WARNING)
        from django.db import connection

        t = time.monotonic()
        template = os.environ.get("CHAOS_TEMPLATE_DB", "")
        if template:
            harness.log(f"    copying {template} from 127.0.0.1:5432, then migrate ...")
            _copy_database(bindir, template, pg.port)
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        else:
            harness.log("    migrating the drill's database (minutes: every migration from zero) ...")
            connection.settings_dict["TEST"]["NAME"] = "vmcloud_chaos"
            connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
        harness.log(f"    database ready in {time.monotonic() - t:.0f} s")
        db_url = harness.database_url(connection.settings_dict, "vmcloud_chaos")
        sim = harness.start_simulator(workdir)
        cleanup.append(sim.stop)
        world = harness.build_world(sim)
        vhost = harness.Vhost(f"vmcloud-chaos-{os.getpid()}")
        cleanup.append(vhost.delete)
        python_path = os.pathsep.join(p for p in (str(CHAOS_DIR / "stripe_shim"), os.environ.get("PYTHONPATH")) if p)
        stack = harness.Stack(
            workdir=workdir,
            database_url=db_url,
            broker_url=vhost.url,
            redis_url=redis_server.url,
            extra_env={"PYTHONPATH": python_path, "VMCLOUD_CHAOS_STRIPE_API_BASE": stripe.url},
        )
        cleanup.append(stack.close)
        stack.start()
        stack.wait_web()
        harness.log(f"    platform up: web {', '.join(stack.urls())}, 3 workers, broker vhost {vhost.name}")
        drill = Drill(workdir, sim, world, stack)

        def node_595() -> str:
            drill.sim.set_node_online(OFFLINE_NODE, False)
            time.sleep(8)
            drill.sim.set_node_online(OFFLINE_NODE, True)
            answered = sum(1 for r in list(drill.sim.requests) if r.status == 595)
            return f"node {OFFLINE_NODE} answered 595 for 8 s ({answered} calls got 595), then came back"

        def broker() -> str:
            return f"RabbitMQ stop_app, 3 s down, start_app: {harness.rabbitmq_restart(3.0):.1f} s outage"

        def postgres() -> str:
            return f"pg_ctl restart -m fast of the drill's PostgreSQL: {pg.restart():.1f} s"

        def redis_flush() -> str:
            return f"FLUSHALL on the drill's Redis ({redis_server.flushall()} keys dropped)"

        for step in STEPS:
            if step == "baseline":
                drill.batch(step, None)
            elif step == "broker-restart":
                drill.batch(step, broker)
            elif step == "postgres-restart":
                drill.batch(step, postgres)
            elif step == "redis-flush":
                drill.batch(step, redis_flush, extra=lambda: _replay_check(drill))
            elif step == "node-595":
                drill.batch(step, node_595)
            elif step == "stripe-webhooks":
                _stripe_step(drill, stripe)
            else:
                harness.log(f"unknown step {step!r} (known: {ALL_STEPS})")
                return 2
    except BaseException:
        if drill is not None:
            harness.log(drill.stack.tails())
        raise
    finally:
        for stop in reversed(cleanup):
            try:
                stop()
            except Exception as exc:
                harness.log(f"warning: cleanup: {exc}")
    harness.log(f"--- summary ({time.monotonic() - started:.0f} s; logs in {workdir})")
    failed = False
    for step, injected, checks in drill.results:
        bad = [c.name for c in checks if not c.ok]
        failed = failed or bool(bad)
        harness.log(f"    {'FAIL' if bad else 'ok  '} {step:<17} {injected}")
        for name in bad:
            harness.log(f"         failed: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
