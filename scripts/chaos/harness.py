"""A multi-process platform on loopback, for benchmarks/many_workers_bench.py and scripts/chaos.py.

What runs for real: web processes (gunicorn, ``config.wsgi``, each on its own
loopback port), Celery worker processes (prefork) and one beat on a RabbitMQ virtual host of
their own, PostgreSQL (one database per run, cloned from a migrated template),
and the Proxmox simulator (``apps.pvesim``, HTTPS on loopback, zero-second tasks)
in a thread of the calling process. Orders go through the public API
(``POST /api/v1/orders/`` with an API token and an ``Idempotency-Key``).

``verify()`` reads the database and the simulator and returns the checks of
"many workers, one truth" (apps/docs/content/production.md, "Many workers
benchmark"): every order completed, every server running once, no duplicate
VMID, IP or GPU, nothing stuck, nothing leaked.

Everything this module starts is stopped by ``Stack.close()`` (processes by
their own process group, the vhost, the databases), also on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
AMQP_HOST, AMQP_PORT = "127.0.0.1", 5672
CPU_OFFER, GPU_OFFER = "VPS-MW", "GPU-MW"
GPU_EVERY = 20  # one order in 20 is a GPU server (a fleet of 4 nodes x 8 A100 holds 32)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def run(cmd: list[str], timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=check)


# ---------------------------------------------------------------------------
# RabbitMQ: a virtual host per run, and the broker's restart
# ---------------------------------------------------------------------------
def rabbitmq_unavailable() -> str | None:
    """Why the RabbitMQ part cannot run here, or None."""
    if not port_open(AMQP_HOST, AMQP_PORT):
        return f"no RabbitMQ on {AMQP_HOST}:{AMQP_PORT}"
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl not found (needed to create a private virtual host)"
    try:
        run(["rabbitmqctl", "-q", "list_vhosts"], timeout=60)
    except (subprocess.SubprocessError, OSError) as exc:
        return f"rabbitmqctl cannot reach the broker: {str(exc).strip()[:200]}"
    return None


class Vhost:
    """A RabbitMQ virtual host of this run only (guest may use it); deleted by ``delete()``."""

    def __init__(self, name: str) -> None:
        self.name = name
        run(["rabbitmqctl", "-q", "add_vhost", name], timeout=60)
        run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"], timeout=60)
        self.url = f"amqp://guest:guest@{AMQP_HOST}:{AMQP_PORT}/{name}"

    def delete(self) -> None:
        run(["rabbitmqctl", "-q", "delete_vhost", self.name], timeout=60, check=False)


def rabbitmq_restart(down_seconds: float = 3.0) -> float:
    """Stop the RabbitMQ application and start it again (the Erlang node stays up); returns the outage in s.

    ``start_app`` always runs, even when ``stop_app`` failed half-way.
    """
    started = time.monotonic()
    try:
        run(["rabbitmqctl", "-q", "stop_app"], timeout=120)
        time.sleep(down_seconds)
    finally:
        run(["rabbitmqctl", "-q", "start_app"], timeout=180)
        run(["rabbitmqctl", "-q", "await_startup"], timeout=180, check=False)
    wait_for(lambda: port_open(AMQP_HOST, AMQP_PORT), 60, "RabbitMQ to listen again")
    return time.monotonic() - started


# ---------------------------------------------------------------------------
# PostgreSQL: a migrated template, cloned per run
# ---------------------------------------------------------------------------
def _admin_connect(settings_dict: dict[str, Any]) -> Any:
    import psycopg

    return psycopg.connect(
        host=settings_dict.get("HOST") or "127.0.0.1",
        port=int(settings_dict.get("PORT") or 5432),
        user=settings_dict.get("USER") or "postgres",
        password=settings_dict.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


def database_url(settings_dict: dict[str, Any], name: str) -> str:
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    return f"postgres://{settings_dict.get('USER') or 'postgres'}{password}@{host}:{port}/{name}"


class Databases:
    """A migrated template database, and working copies of it (``CREATE DATABASE … TEMPLATE``, seconds).

    Migrating from zero takes minutes (dj-stripe's migrations dominate), so it is done once per run.
    """

    def __init__(self, template: str, *, keep_template: bool = False) -> None:
        from django.db import connection

        self.settings_dict = dict(connection.settings_dict)
        self.template = template
        self.keep_template = keep_template  # development: reuse it next run, never drop it
        self.copies: list[str] = []
        self._made_template = False

    def _exists(self, name: str) -> bool:
        with _admin_connect(self.settings_dict) as admin:
            return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None

    def migrate_template(self) -> float:
        from django.db import connection

        started = time.monotonic()
        if self.keep_template and self._exists(self.template):
            from django.core.management import call_command

            connection.settings_dict["NAME"] = self.template
            call_command("migrate", verbosity=0)  # what was added since it was kept
            connection.close()
            return time.monotonic() - started
        connection.settings_dict["TEST"] = {**connection.settings_dict.get("TEST", {}), "NAME": self.template}
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
        self._made_template = True
        connection.close()
        return time.monotonic() - started

    def copy(self, name: str) -> str:
        """A fresh copy of the template named ``name``; Django's connection is pointed at it."""
        from django.db import connection, connections

        connections.close_all()
        with _admin_connect(self.settings_dict) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        if name not in self.copies:
            self.copies.append(name)
        connection.settings_dict["NAME"] = name
        return database_url(self.settings_dict, name)

    def drop(self, name: str) -> None:
        from django.db import connections

        connections.close_all()
        with _admin_connect(self.settings_dict) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name in list(self.copies):
            try:
                self.drop(name)
            except Exception as exc:
                log(f"warning: could not drop database {name}: {exc}")
        if self._made_template and not self.keep_template:
            try:
                self.drop(self.template)
            except Exception as exc:
                log(f"warning: could not drop database {self.template}: {exc}")


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------
class Process:
    """One child process in its own process group (so a kill reaches gunicorn's or Celery's children)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], logdir: Path, ready: str) -> None:
        self.name, self.cmd, self.env, self.ready = name, cmd, env, ready
        self.log = logdir / f"{name}.log"
        self._file = self.log.open("a")
        self._file.write(f"\n===== start {time.strftime('%H:%M:%S')} {' '.join(cmd)}\n")
        self._file.flush()
        self._offset = self.log.stat().st_size
        self.popen = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self._file, stderr=subprocess.STDOUT, start_new_session=True
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            with self.log.open() as f:
                f.seek(self._offset)
                return self.ready in f.read()

        wait_for(ready, timeout, f"{self.name} to be ready", interval=0.3)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """SIGKILL to the whole group: nothing can acknowledge or reject a message."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._file.close()


# ---------------------------------------------------------------------------
# The simulated fleet and the platform's catalogue
# ---------------------------------------------------------------------------
def fleet_raw(cpu_nodes: int = 8, gpu_nodes: int = 4, gpus_per_node: int = 8) -> dict[str, Any]:
    """A fleet with room for far more than 500 small servers and 32 GPUs (apps/pvesim/fleet.py format)."""
    big = {"cpu_model": "AMD EPYC 9654 96-Core Processor", "sockets": 2, "cores": 96, "threads": 2}
    return {
        "gpu_models": {"a100-80gb": {"id": "10de:20b5", "class": "0x030200", "name": "GA100 [A100 PCIe 80GB]"}},
        "clusters": [
            {
                "name": "mw",
                "datacentre": "PAR-1",
                "pools": ["customers"],
                "storages": [
                    {
                        "name": "ceph-nvme",
                        "type": "rbd",
                        "content": ["images", "rootdir"],
                        "shared": True,
                        "size_gb": 1_000_000,
                    },
                    {
                        "name": "local",
                        "type": "dir",
                        "content": ["iso", "vztmpl", "snippets", "backup"],
                        "shared": False,
                        "size_gb": 100,
                    },
                ],
                "node_groups": [
                    {"prefix": "cpu", "count": cpu_nodes, "memory_gb": 4096, **big},
                    {
                        "prefix": "gpu",
                        "count": gpu_nodes,
                        "memory_gb": 4096,
                        **big,
                        "gpus": [{"model": "a100-80gb", "count": gpus_per_node, "nvlink": "none"}],
                    },
                ],
                "templates": [
                    {
                        "vmid": 9000,
                        "name": "ubuntu-24.04",
                        "node": "cpu01",
                        "storage": "ceph-nvme",
                        "disk_gb": 10,
                        "tags": ["os-ubuntu-24.04"],
                    },
                    {
                        "vmid": 9001,
                        "name": "ubuntu-22.04-gpu",
                        "node": "cpu01",
                        "storage": "ceph-nvme",
                        "disk_gb": 20,
                        "bios": "ovmf",
                        "tags": ["os-ubuntu-22.04"],
                    },
                ],
            }
        ],
    }


def start_simulator(workdir: Path, **fleet_kwargs: int) -> Any:
    from apps.pvesim.fleet import parse_fleet
    from apps.pvesim.server import PveSimulator

    spec = parse_fleet(fleet_raw(**fleet_kwargs), source="many-workers").cluster()
    return PveSimulator(spec, task_seconds=0.0, ca_path=workdir / "pvesim-ca.pem").start()


@dataclass
class World:
    tokens: list[tuple[str, int]]  # (API token, project id), one per organisation
    cluster_id: int
    gpu_count: int


def build_world(sim: Any, organisations: int = 5) -> World:
    """Catalogue, cluster synced from the simulator, IP pools, organisations with a read-write API token each."""
    from apps.accounts.models import User
    from apps.catalogue import choices as cc
    from apps.catalogue.models import Datacentre, GpuModel, Offer, OsImage, ProductFamily
    from apps.infrastructure import services as infra
    from apps.infrastructure.models import GpuDevice, IpPool, Node
    from apps.teams.choices import TokenScope
    from apps.teams.services import api_token_create, organisation_create

    dc = Datacentre.objects.create(code="PAR-1", name="Paris", city="Paris", country="FR", tier="III+")
    vps = ProductFamily.objects.create(slug="vps", name="VPS", kind=cc.FamilyKind.VIRTUAL_MACHINE)
    gpu_family = ProductFamily.objects.create(slug="gpu", name="GPU", kind=cc.FamilyKind.VIRTUAL_MACHINE)
    a100 = GpuModel.objects.create(
        slug="a100-80gb", name="A100 80GB", vram_gb=80, pci_vendor_id="10de", pci_device_id="20b5"
    )
    for slug, version in (("ubuntu-24.04", "24.04"), ("ubuntu-22.04", "22.04")):
        OsImage.objects.create(slug=slug, family="Ubuntu", version=version, os_type="linux", support="official")
    common = {"tier": cc.Tier.values[0], "price_hourly": Decimal("0.01"), "price_monthly": Decimal("5.00")}
    cpu = Offer.objects.create(family=vps, code=CPU_OFFER, name="VPS", vcpu=1, ram_gb=1, disk_gb=10, **common)
    gpu = Offer.objects.create(
        family=gpu_family,
        code=GPU_OFFER,
        name="GPU",
        vcpu=2,
        ram_gb=4,
        disk_gb=20,
        gpu_model=a100,
        gpu_count=1,
        **common,
    )
    cpu.datacentres.add(dc)
    gpu.datacentres.add(dc)
    cluster = infra.cluster_create(
        datacentre=dc,
        name="mw",
        api_url=sim.url + "/api2/json",
        token_id=sim.token_id,
        token_secret=sim.token_secret,
        tls_ca_pem=sim.ca_path.read_text(),
    )
    infra.inventory_sync(cluster=cluster)
    Node.objects.update(cores=100_000, ram_gb=1_000_000)  # the ledger's view: room for every VM of the run
    IpPool.objects.create(datacentre=dc, family=4, cidr="10.20.0.0/16", gateway="10.20.0.1", dns_servers=["1.1.1.1"])
    IpPool.objects.create(datacentre=dc, family=6, cidr="2001:db8:20::/64", gateway="2001:db8:20::1")
    tokens = []
    for i in range(organisations):
        owner = User.objects.create_user(email=f"mw{i}@example.test", password=uuid.uuid4().hex)
        org = organisation_create(name=f"Many workers {i}", owner=owner, actor=owner)
        _row, secret = api_token_create(
            user=owner, organisation=org, name="bench", scope=TokenScope.READ_WRITE, expires_at=None
        )
        tokens.append((secret, org.projects.get().pk))
    return World(tokens=tokens, cluster_id=cluster.pk, gpu_count=GpuDevice.objects.count())


# ---------------------------------------------------------------------------
# The stack: web and worker processes around one database and one vhost
# ---------------------------------------------------------------------------
QUEUES = "provisioning,default,billing,notifications"


@dataclass
class Stack:
    workdir: Path
    database_url: str
    broker_url: str
    redis_url: str = ""
    webs: int = 2
    workers: int = 3
    worker_concurrency: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    web_procs: list[Process] = field(default_factory=list)
    worker_procs: list[Process] = field(default_factory=list)
    # One beat, as in production: its safety nets (the resend of tasks the broker refused, the
    # resume of actions whose message was lost) are part of "nothing lost".
    beat: bool = True
    beat_procs: list[Process] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    _restarts: int = 0

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            # VMCLOUD_STACK_SETTINGS: try a settings change under the benchmark or the drill (a module
            # importing config.settings.test, on PYTHONPATH) without editing the shared settings.
            "DJANGO_SETTINGS_MODULE": os.environ.get("VMCLOUD_STACK_SETTINGS", "config.settings.test"),
            "DATABASE_URL": self.database_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_BROKER_URL": self.broker_url,
            "ORDERS_QUOTA_MAX_INSTANCES": "1000000",
            "ORDERS_QUOTA_MAX_GPUS": "100000",
            "API_RATE_LIMIT_TOKEN": "1000000",
            "INSTANCES_DRIVER_OPTIONS": json.dumps(
                {"task_poll_interval": 0.02, "retries": 6, "backoff_base": 0.2, "backoff_cap": 2.0}
            ),
            "INSTANCES_GUEST_AGENT_WAIT_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for i in range(self.webs):
            self.ports.append(free_port())
            self.web_procs.append(self._web(i))
        for i in range(self.workers):
            self.worker_procs.append(self._worker(i))
        if self.beat:
            self.beat_procs.append(self._beat())
        for proc in [*self.web_procs, *self.worker_procs, *self.beat_procs]:
            proc.wait_ready(timeout=180)

    def _beat(self) -> Process:
        cmd = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"]
        return Process("beat", cmd, self.env(), self.workdir, ready="beat: Starting")

    def _web(self, i: int) -> Process:
        cmd = [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi:application",
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.ports[i]}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "120",
        ]
        return Process(f"web{i + 1}", cmd, self.env(), self.workdir, ready="Booting worker")

    def _worker(self, i: int) -> Process:
        self._restarts += 1
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            QUEUES,
            "--pool=prefork",
            f"--concurrency={self.worker_concurrency}",
            "--prefetch-multiplier=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            f"--hostname=mw{i + 1}-{self._restarts}@%h",
        ]
        return Process(f"worker{i + 1}", cmd, self.env(), self.workdir, ready=" ready.")

    def kill_worker(self, index: int = 0) -> None:
        self.worker_procs[index].kill()

    def restart_worker(self, index: int = 0) -> None:
        old = self.worker_procs[index]
        old.stop()
        self.worker_procs[index] = self._worker(index)
        self.worker_procs[index].wait_ready(timeout=180)

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def wait_web(self, timeout: float = 90) -> None:
        import requests

        def answers() -> bool:
            try:
                return all(requests.get(url + "/healthz", timeout=5).status_code < 500 for url in self.urls())
            except requests.RequestException:
                return False

        wait_for(answers, timeout, "the web processes to answer /healthz")

    def close(self) -> None:
        for proc in [*self.beat_procs, *self.worker_procs, *self.web_procs]:
            try:
                proc.stop()
            except Exception as exc:
                log(f"warning: could not stop {proc.name}: {exc}")

    def tails(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.tail(2000)}" for p in [*self.web_procs, *self.worker_procs, *self.beat_procs]
        )


# ---------------------------------------------------------------------------
# Placing orders through the API, concurrently
# ---------------------------------------------------------------------------
@dataclass
class OrderResults:
    placed: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    accepted: list[tuple[str, dict[str, str], dict[str, Any], str]] = field(default_factory=list)  # url, headers,
    # body, order id: what a client needs to send an order again with its Idempotency-Key


def order_names(count: int, prefix: str = "mw") -> list[tuple[str, str]]:
    """(name, offer code): one GPU server in GPU_EVERY, the rest small VPS."""
    return [(f"{prefix}-{i:04d}", GPU_OFFER if i % GPU_EVERY == GPU_EVERY - 1 else CPU_OFFER) for i in range(count)]


def place_orders(
    urls: list[str],
    world: World,
    orders: Iterable[tuple[str, str]],
    *,
    threads: int = 8,
    attempts: int = 40,
    pace: float = 0.0,
    on_progress: Callable[[int], None] | None = None,
) -> OrderResults:
    """POST every order (round robin over web processes and tokens), retrying transport errors and 5xx
    with the same ``Idempotency-Key`` as a careful client does (apps/docs/content/api.md); ``pace``
    seconds between two orders."""
    import requests

    results = OrderResults()
    lock = threading.Lock()
    local = threading.local()

    def one(index: int, name: str, offer: str) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        token, project = world.tokens[index % len(world.tokens)]
        image = "ubuntu-22.04" if offer == GPU_OFFER else "ubuntu-24.04"
        body = {"project": project, "offer": offer, "datacentre": "PAR-1", "image": image, "name": name}
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        last = ""
        for attempt in range(attempts):
            url = urls[(index + attempt) % len(urls)] + "/api/v1/orders/"
            try:
                response = session.post(url, json=body, headers=headers, timeout=60)
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                with lock:
                    results.statuses[response.status_code] += 1
                if response.status_code in (201, 202):
                    with lock:
                        results.placed += 1
                        results.accepted.append((url, headers, body, str(response.json().get("id"))))
                        if on_progress:
                            on_progress(results.placed)
                    return
                last = f"{response.status_code} {response.text[:300]}"
                if response.status_code < 500 and response.status_code != 429:
                    break
            with lock:
                results.retries += 1
            time.sleep(min(5.0, 0.2 * (attempt + 1)))
        with lock:
            results.errors.append(f"{name}: {last}")

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = []
        for i, (name, offer) in enumerate(orders):
            futures.append(pool.submit(one, i, name, offer))
            if pace:  # a steady flow of orders, so a fault lands in the middle of it
                time.sleep(pace)
        for future in futures:
            future.result()
    return results


# ---------------------------------------------------------------------------
# Convergence and the checks
# ---------------------------------------------------------------------------
def open_counts(prefix: str = "") -> dict[str, int]:
    from django.db import connections

    from apps.orders.models import Order

    connections.close_all()  # a fresh connection: the database may have restarted
    return dict(Counter(Order.objects.filter(name__startswith=prefix).values_list("state", flat=True)))


class NotConverged(TimeoutError):
    """Orders still open when the wait ended (timeout, or no progress for ``stall`` seconds)."""


def wait_converged(expected: int, timeout: float, label: str = "", stall: float = 90.0, prefix: str = "") -> float:
    """Wait until ``expected`` orders exist and none is pending or provisioning; returns when (monotonic).

    Raises ``NotConverged`` at ``timeout``, or sooner when the counts have not moved for ``stall`` seconds
    (an order whose task was never sent waits for hours: INSTANCES_STUCK_AFTER_SECONDS).
    """
    from apps.orders.choices import OPEN_STATES

    deadline = time.monotonic() + timeout
    last_print = 0.0
    last_counts: dict[str, int] = {}
    moved_at = time.monotonic()
    while True:
        try:
            counts = open_counts(prefix)
        except Exception as exc:
            counts = {"error": 1}
            detail = str(exc).splitlines()[0][:120]
        else:
            detail = ""
        total = sum(v for k, v in counts.items() if k != "error")
        still_open = sum(counts.get(state, 0) for state in OPEN_STATES)
        if "error" not in counts and total >= expected and not still_open:
            return time.monotonic()
        now = time.monotonic()
        if counts != last_counts:
            last_counts, moved_at = counts, now
        if now - last_print > 10:
            log(f"    {label}waiting: {counts} {detail}".rstrip())
            last_print = now
        if now > deadline:
            raise NotConverged(f"not converged after {timeout:.0f} s: {counts}")
        if now - moved_at > stall:
            raise NotConverged(f"no progress for {stall:.0f} s: {counts}")
        time.sleep(0.5)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def _dupes(values: Iterable[Any]) -> list[Any]:
    return [v for v, n in Counter(values).items() if n > 1]


def verify(
    sim: Any, expected: int, *, gpu_expected: int | None = None, prefix: str = "", fresh: bool = True
) -> list[Check]:
    """The truth after a run, from the database and from the simulated cluster.

    ``prefix``: the completeness checks (``expected`` orders completed, servers running, actions closed)
    cover the orders whose name starts with it (one step of the drill); the duplicate and leak checks
    always cover everything. ``fresh``: read on new connections (the database may have restarted);
    tests inside a transaction pass False.
    """
    from django.db import connections
    from django.db.models import Q

    from apps.infrastructure.models import GpuDevice, IpAllocation, Reservation, VmidAllocation
    from apps.instances.choices import OPEN_ACTION_STATUSES, InstanceStatus
    from apps.instances.models import Action, Instance
    from apps.orders.models import Order

    if fresh:
        connections.close_all()
    checks: list[Check] = []
    orders = Order.objects.filter(name__startswith=prefix)
    states = Counter(orders.values_list("state", flat=True))
    checks.append(
        Check(
            "every order completed",
            states.get("completed", 0) == expected and sum(states.values()) == expected,
            f"{dict(states)} (expected {expected} completed)",
        )
    )
    live = Instance.objects.exclude(status__in=[InstanceStatus.DELETED])
    scoped = live.filter(name__startswith=prefix)
    statuses = Counter(scoped.values_list("status", flat=True))
    checks.append(
        Check(
            "every server running once",
            statuses.get(InstanceStatus.RUNNING, 0) == expected and scoped.count() == expected,
            f"{dict(statuses)}",
        )
    )
    per_order = Counter(orders.exclude(instance=None).values_list("instance_id", flat=True))
    checks.append(
        Check(
            "one server per order",
            not _dupes(per_order.elements()) and len(per_order) == expected,
            f"{len(per_order)} orders with a server",
        )
    )
    names = list(live.values_list("name", flat=True))
    checks.append(Check("no duplicate server name", not _dupes(names), str(_dupes(names)[:5])))
    vmids = list(live.exclude(vmid=None).values_list("cluster_id", "vmid"))
    missing_vmid = scoped.filter(vmid=None).count()
    checks.append(
        Check(
            "no duplicate VMID (database)",
            not _dupes(vmids) and not missing_vmid,
            f"duplicates {_dupes(vmids)[:5]}, {missing_vmid} servers without a VMID",
        )
    )
    ipv4 = list(live.exclude(ipv4=None).values_list("ipv4", flat=True))
    ipv6 = list(live.exclude(ipv6=None).values_list("ipv6", flat=True))
    missing_ip = scoped.filter(ipv4=None).count()
    checks.append(
        Check(
            "no duplicate IP (database)",
            not _dupes(ipv4) and not _dupes(ipv6) and not missing_ip,
            f"v4 {_dupes(ipv4)[:5]} v6 {_dupes(ipv6)[:5]}, {missing_ip} servers without an IPv4",
        )
    )
    held = list(GpuDevice.objects.exclude(reservation=None).values_list("reservation_id", flat=True))
    gpu_servers = [i for i in live if i.gpu_mappings]
    gpu_running = sum(1 for i in gpu_servers if i.status == InstanceStatus.RUNNING)
    gpu_ok = len(held) == len(gpu_servers)
    scoped_gpu = sum(1 for i in gpu_servers if i.name.startswith(prefix))
    if gpu_expected is not None:
        gpu_ok = gpu_ok and scoped_gpu == gpu_expected
    checks.append(
        Check(
            "no duplicate GPU (database)",
            gpu_ok,
            f"{len(held)} GPUs held, {len(gpu_servers)} GPU servers ({scoped_gpu} in scope, expected {gpu_expected})",
        )
    )
    open_actions = Action.objects.filter(status__in=OPEN_ACTION_STATUSES, instance__in=scoped).count()
    checks.append(Check("no action left open", open_actions == 0, f"{open_actions} open"))
    # Uncommitted reservations of this scope's servers, or of no server at all (leaked by a failed order).
    reserved = (
        Reservation.objects.filter(state="reserved").filter(Q(instance__in=scoped) | Q(instance__isnull=True)).count()
    )
    checks.append(Check("no reservation left uncommitted", reserved == 0, f"{reserved} reserved"))
    # Allocations only belong to reservations of live servers (nothing leaked by a retried task).
    live_reservations = set(live.values_list("reservation_id", flat=True))
    stray_ip = IpAllocation.objects.exclude(reservation=None).exclude(reservation_id__in=live_reservations).count()
    stray_vmid = VmidAllocation.objects.exclude(reservation=None).exclude(reservation_id__in=live_reservations).count()
    checks.append(
        Check(
            "no leaked IP or VMID allocation",
            stray_ip == 0 and stray_vmid == 0,
            f"{stray_ip} IPs, {stray_vmid} VMIDs held by no live server",
        )
    )

    with sim.cluster.lock:
        vms = {vmid: vm for vmid, vm in sim.cluster.vms.items() if not vm.template}
        running_vmids = {vmid for vmid, vm in vms.items() if vm.running}
        sim_gpus = [gpu for vm in vms.values() for gpu in vm.gpus]
        sim_ips = [str(vm.config.get("ipconfig0", "")).split(",")[0] for vm in vms.values()]
    db_vmids = {v for _c, v in vmids}
    scoped_vmids = set(scoped.exclude(vmid=None).values_list("vmid", flat=True))
    orphans = set(vms) - db_vmids
    checks.append(
        Check(
            "Proxmox: one VM per server",
            not orphans and scoped_vmids <= set(vms) and len(scoped_vmids) == expected,
            f"{len(vms)} VMs; {len(orphans)} VMs no server owns; "
            f"{len(scoped_vmids - set(vms))} servers in scope without a VM",
        )
    )
    not_running = len(scoped_vmids - running_vmids)
    checks.append(Check("Proxmox: every VM running", not not_running, f"{not_running} VMs in scope not running"))
    checks.append(Check("Proxmox: no duplicate IP", not _dupes(sim_ips), str(_dupes(sim_ips)[:5])))
    checks.append(
        Check(
            "Proxmox: no GPU in two VMs",
            not _dupes(sim_gpus) and len(sim_gpus) == gpu_running,
            f"{len(sim_gpus)} GPUs in use by VMs, {gpu_running} GPU servers running",
        )
    )
    return checks


def print_checks(checks: list[Check]) -> bool:
    for check in checks:
        log(f"    [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    return all(c.ok for c in checks)
