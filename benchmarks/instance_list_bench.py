"""Instance list API throughput vs a bare Django JSON view, same run, gunicorn on loopback (goal: ratio >= 1/5).

    python benchmarks/instance_list_bench.py [--seconds 10] [--clients 4] [--workers 2] [--rounds 4] [--no-extras]

Puts 10,000 instances in a throwaway PostgreSQL database
(``test_vmcloud_listbench``, recreated each run), with what issue 13 puts
around them (volumes, a private network card, firewalls, some floating IPs:
about 200 values on a page of 50, which the API shows; ``--no-extras`` leaves
them out, as the data was before), measures both endpoints in-process (ms per
request, queries of a page of 1 and of 50 servers: the run fails if they
differ), then starts gunicorn (sync
workers) on a free loopback port with ``benchmarks.listbench.settings`` (the
test settings plus a ``/bench/bare/`` view in the benchmark's own URLconf),
then drives each endpoint for the same time with the same number of client
processes, alternating them in ``--rounds`` slices so a neighbour's load
falls on both alike:

* ``GET /api/v1/instances/?per_page=50`` with a bearer API token (DRF: token
  auth, rate-limit counters, teams scoping, pagination with a count,
  serializers), and
* ``GET /bench/bare/``: the same 50 rows from one ``.values()`` query and a
  ``JsonResponse``.

Prints requests per second for both and their ratio. The client processes
share the machine with gunicorn, so absolute figures depend on the host's load.

Where an API request's time goes (in-process through Django's test client, best of 10x30,
2-core host shared with other jobs; the bare view takes 0.94 ms end to end, the API 5.5 ms):

* 4 queries: the token, with its holder's role and its project limit as subqueries
  (``apps.teams.access.token_auth_queryset``): 0.75 ms with the ORM; the visible project ids
  (``restrict_to_actor``; for a token whose role covers the read, a plain ``organisation_id =``
  query): 0.45 ms; ``COUNT(*)`` over the 10,000 visible rows: 1.15 ms, most of it in PostgreSQL
  (all rows match, so a sequential scan); the page of 50 rows with its three joins, read as
  tuples: 1.1 ms;
* the rate limit: one EVALSHA to Redis, 0.05 ms;
* JSON of the 50 rows (``apps/instances/api/listing.py``): 0.2 ms;
* the rest (about 1.8 ms): DRF's request, negotiation, permission and rendering, pagination
  links, and the middleware stack (no query for a bearer request without a session cookie).

Before the token's role and project limit joined the token query (5 queries: a separate M2M
query for the limit and a membership/grant subquery for the project ids), the API took 9.0 ms
in-process and the benchmark gave 1/6.0-1/6.1; after, 5.5-5.9 ms and 1/4.7-1/5.1 in the
quieter runs (the ratio moves by ±0.5 with the host's other load).
Model instances and ``InstanceOutputSerializer`` cost 2.5-3 ms more CPU per page
before the list read tuples (1/10.1 before, 1/8.0 after, in quiet runs).

When the benchmark fell to 1/5.6, the largest new cost in the list's own code was the strict
list queries (``apps/core/api/queries.py``): ``list_query`` built the list's query serializer
twice per request (once for its field names, once to validate; each build deep-copies a dozen
fields and makes ``sort`` anew), about 1 ms of CPU. The field names are now read once per
class and a query of plain integers (``per_page=50``) is validated without the serializer:
0.05 ms. With that, the pagination links built from one absolute URL and the rows' UTC
datetimes formatted without ``astimezone``, the CPU per API request (gunicorn workers plus
PostgreSQL backends, both versions and endpoints interleaved, a host at load 6-11 on 2 cores)
went from 19.7-23.8 ms to 17.1-19.8 ms, the bare view's staying at 4.2-5.3 ms: 1/4.5-1/4.7
before, 1/4.0-1/4.1 after, in CPU. On such a host the req/s ratio is squeezed and follows the
load (1/3.6 before at load 6.7, 1/2.7 after at load 9.4): compare req/s on a quiet host only.

The ``COUNT(*)`` is a sequential scan of the table with PostgreSQL's default
``random_page_cost = 4``: the planner rates it 439 against 484 for the index-only scan on
``instance_live_project_idx``, which costs a third of the backend CPU (0.95 against 3.0-3.5 ms,
same loaded host) and is chosen with ``random_page_cost`` at 2 or below (the usual setting on
SSDs, a database setting rather than the application's).

The server fields of issue 13 (volumes, private networks, firewalls, floating IPs:
``apps.instances.selectors.server_extras``, one ``UNION ALL`` query for the page) took the benchmark from
1/4.4 to 1/6.5. Most of that was not the query but building and compiling its four querysets
on every request: 4-8 ms of wall time on a loaded host, against 0.8-1.8 ms to execute the SQL.
The query is now compiled once per process, its text the same for every page (the page's keys
one array parameter), and the uuid text PostgreSQL sends is used as it comes. With about 200
values on the page (this benchmark's data), in CPU per request (this process plus its
PostgreSQL backend, the variants interleaved, median of 6 rounds, host at load 6-11): bare view
2.96 ms; API without the fields 15.2 ms (1/5.1); with them as they were 23.4 ms (1/7.9); with
them now 17.2 ms (1/5.8), of which ``server_extras`` 0.66 ms in Django and about 1.3 ms in
PostgreSQL (half of it planning the four-branch query). Five queries per page, whatever its length.
This benchmark's own in-process CPU figure, before and after in consecutive runs: API 21.3 ms
against a bare 2.1 ms (1/10.0), then 18.2 against 3.1 (1/5.8). Its req/s ratio on that host
(load 4-11 from other jobs, never quiet) went 1/5.5, 1/5.5, 1/6.0 before and 1/3.6, 1/4.9,
1/3.1 after, squeezed by the load as described above: take it again on a quiet host.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SETTINGS = "benchmarks.listbench.settings"
os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

INSTANCES = 10_000
PAGE = 50


def _database() -> None:
    if connection.vendor != "postgresql":
        sys.exit("instance_list_bench needs PostgreSQL.")
    name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = name
    # A fresh database each run: a kept one goes stale when migrations change.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)


def _server_extras_data(org: Any) -> None:
    """What issue 13 puts around a server, on every one of the servers: a volume (two on every third
    server), a card on a private network, the firewall "web" (and "ssh" on every second server), and a
    floating IP on every fourth server. A page of 50 servers shows about 200 of these values."""
    from apps.catalogue import choices as cc
    from apps.catalogue.models import Datacentre, Offer, ProductFamily
    from apps.firewalls.models import Firewall, FirewallServer
    from apps.floating_ips.models import FloatingIp
    from apps.floating_ips.services import floating_ip_offer_placeholder_ensure
    from apps.infrastructure.models import Cluster, IpPool
    from apps.instances.models import Instance
    from apps.networks.models import Attachment, Network, NetworkZone, Subnet
    from apps.volumes.models import Volume

    project = org.projects.get()
    dc = Datacentre.objects.get(code="PAR-1")
    servers = list(Instance.objects.order_by("id").values_list("pk", flat=True))
    storage = ProductFamily.objects.create(slug="storage", name="Storage", kind=cc.FamilyKind.MANAGED_SERVICE)
    ssd = Offer.objects.create(
        family=storage,
        code="STORAGE-SSD",
        name="SSD",
        tier=cc.Tier.values[0],
        price_hourly=Decimal("0.000137"),
        price_monthly=Decimal("0.10"),
    )
    owned = {"organisation": org, "project": project, "datacentre": dc}
    price = {"price_hourly": Decimal("0.002055"), "price_monthly": Decimal("1.50")}
    Volume.objects.bulk_create(
        [
            Volume(**owned, **price, name=f"data-{pk}-{n}", tier=ssd, size_gb=10, server_id=pk, status="in_use")
            for pk in servers
            for n in range(2 if pk % 3 == 0 else 1)
        ],
        batch_size=2000,
    )
    cluster = Cluster.objects.create(name="bench", datacentre=dc, api_url="https://pve.bench.test:8006")
    zone = NetworkZone.objects.create(cluster=cluster, name="benchnet", zone_type="vxlan")
    network = Network.objects.create(
        **owned,
        name="backend",
        ip_range="10.20.0.0/16",
        status="available",
        cluster=cluster,
        zone=zone,
        vnet="vnb1",
        tag=1001,
    )
    subnet = Subnet.objects.create(network=network, cidr="10.20.0.0/16")
    Attachment.objects.bulk_create(
        [
            Attachment(
                network=network,
                subnet=subnet,
                instance_id=pk,
                address=f"10.20.{n // 250}.{n % 250 + 2}",
                nic_index=1,
                status="attached",
            )
            for n, pk in enumerate(servers)
        ],
        batch_size=2000,
    )
    web = Firewall.objects.create(organisation=org, project=project, name="web")
    ssh = Firewall.objects.create(organisation=org, project=project, name="ssh")
    FirewallServer.objects.bulk_create(
        [FirewallServer(firewall=web, instance_id=pk, direct=True, status="applied") for pk in servers]
        + [FirewallServer(firewall=ssh, instance_id=pk, direct=True, status="applied") for pk in servers[::2]],
        batch_size=2000,
    )
    pool = IpPool.objects.create(datacentre=dc, family=4, cidr="198.18.0.0/15", gateway="198.18.0.1")
    offer = floating_ip_offer_placeholder_ensure()
    FloatingIp.objects.bulk_create(
        [
            FloatingIp(
                **owned,
                **price,
                name=f"vip-{pk}",
                address=f"198.18.{n // 250}.{n % 250 + 2}",
                pool=pool,
                offer=offer,
                server_id=pk,
                status="assigned",
            )
            for n, pk in enumerate(servers[::4])
        ],
        batch_size=2000,
    )


def _data(*, extras: bool) -> str:
    """10,000 instances of one organisation (with what surrounds them unless ``extras`` is off), and a
    fresh read-only token; returns the token."""
    from django.core.management import call_command

    from apps.accounts.models import User
    from apps.teams.choices import TokenScope
    from apps.teams.services import api_token_create
    from benchmarks.benchdata import servers_of_one_organisation

    call_command("flush", interactive=False, verbosity=0)
    owner, org = servers_of_one_organisation(INSTANCES)
    if extras:
        _server_extras_data(org)
    with connection.cursor() as cursor:
        # What autovacuum does to a table in service: statistics, and the visibility map an
        # index-only scan of instance_live_project_idx needs (the COUNT uses one only when
        # random_page_cost makes it cheaper than a sequential scan: see the docstring).
        cursor.execute("VACUUM ANALYZE")
    owner = User.objects.get(email="bench@example.test")
    org = owner.memberships.get().organisation
    _token, secret = api_token_create(
        user=owner, organisation=org, name=f"bench-{time.time_ns()}", scope=TokenScope.READ_ONLY, expires_at=None
    )
    return secret


def _in_process(token: str) -> dict[str, float]:
    """Per request through Django's test client, the two endpoints interleaved in 6 rounds of 30: wall
    milliseconds (best round) and CPU milliseconds (median round) of this process plus its PostgreSQL
    backend (``/proc``, Linux), the figure a loaded host disturbs least; and the queries of an API page
    of 1 and of 50 servers. The figures behind the req/s of the run."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    auth = {"Authorization": f"Bearer {token}"}
    api = f"/api/v1/instances/?per_page={PAGE}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = f"/proc/{cursor.fetchone()[0]}/stat"
    tick = os.sysconf("SC_CLK_TCK")

    def backend_cpu() -> float:
        try:
            with open(backend) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # not Linux, or PostgreSQL on another host: this process's CPU only
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick

    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "api": []}
    for _round in range(6):
        for name, path, headers in (("bare", "/bench/bare/", {}), ("api", api, auth)):
            for _ in range(3):
                client.get(path, headers=headers)
            started, cpu, pg = time.perf_counter(), time.process_time(), backend_cpu()
            for _ in range(30):
                client.get(path, headers=headers)
            wall = (time.perf_counter() - started) / 30 * 1000
            runs[name].append((wall, (time.process_time() - cpu + backend_cpu() - pg) / 30 * 1000))
    figures: dict[str, float] = {}
    for name, values in runs.items():
        figures[f"{name}_ms"] = min(wall for wall, _cpu in values)
        figures[f"{name}_cpu"] = sorted(cpu for _wall, cpu in values)[len(values) // 2]
    for per_page in (1, PAGE):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/instances/?per_page={per_page}", headers=auth).status_code == 200
        figures[f"queries_{per_page}"] = len(queries)
    connection.close()
    return figures


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _client(port: int, path: str, headers: dict[str, str], until: float, out: multiprocessing.Queue) -> None:
    done = errors = 0
    while time.monotonic() < until:
        status, _body = _get(port, path, headers)
        if status == 200:
            done += 1
        else:
            errors += 1
    out.put((done, errors))


def _drive(
    port: int, path: str, headers: dict[str, str], *, seconds: float, clients: int, warm_up: float = 1.0
) -> tuple[float, int]:
    """Requests per second of ``clients`` processes hammering ``path`` for ``seconds`` (after a warm-up)."""
    warm = time.monotonic() + warm_up
    while time.monotonic() < warm:
        _get(port, path, headers)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    started = time.monotonic()
    until = started + seconds
    procs = [multiprocessing.Process(target=_client, args=(port, path, headers, until, queue)) for _ in range(clients)]
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    return sum(r[0] for r in results) / elapsed, sum(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4, help="alternate the two endpoints this many times")
    parser.add_argument(
        "--no-extras",
        action="store_true",
        help="servers without volumes, networks, firewalls or floating IPs (the data before issue 13)",
    )
    args = parser.parse_args()

    _database()
    token = _data(extras=not args.no_extras)
    figures = _in_process(token)
    connection.close()
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS}
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={args.workers}",
            "--worker-class=sync",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        api = f"/api/v1/instances/?per_page={PAGE}"
        auth = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _get(port, api, auth)
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("gunicorn did not start")
                time.sleep(0.2)
        if status != 200 or body.count(b'"id"') < PAGE:
            sys.exit(f"the API answered {status}: {body[:300]!r}")
        if not args.no_extras and body.count(b'"network_id"') != PAGE:
            sys.exit(f"the API's servers do not show their private networks: {body[:600]!r}")
        status, body = _get(port, "/bench/bare/", {})
        if status != 200 or body.count(b'"public_id"') != PAGE:
            sys.exit(f"the bare view answered {status}: {body[:300]!r}")

        # Interleaved rounds: the two endpoints see the same share of whatever else loads the host.
        rounds = max(1, args.rounds)
        slice_ = args.seconds / rounds
        bare_runs, drf_runs = [], []
        for n in range(rounds):
            warm_up = 1.0 if n == 0 else 0.2
            bare_runs.append(_drive(port, "/bench/bare/", {}, seconds=slice_, clients=args.clients, warm_up=warm_up))
            drf_runs.append(_drive(port, api, auth, seconds=slice_, clients=args.clients, warm_up=warm_up))
        bare = sum(r[0] for r in bare_runs) / rounds
        drf = sum(r[0] for r in drf_runs) / rounds
        bare_errors = sum(r[1] for r in bare_runs)
        drf_errors = sum(r[1] for r in drf_runs)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)

    print(f"instances in the database: {INSTANCES}; {PAGE} per page")
    print(
        "around each server:         "
        + ("nothing (--no-extras)" if args.no_extras else "1-2 volumes, 1 network card, 1-2 firewalls, 1/4 floating IP")
    )
    print(
        f"in-process, wall ms/request: bare {figures['bare_ms']:.2f}, API {figures['api_ms']:.2f} "
        f"(1/{figures['api_ms'] / figures['bare_ms']:.1f}; best round, Django's test client)"
    )
    print(
        f"in-process, CPU ms/request:  bare {figures['bare_cpu']:.2f}, API {figures['api_cpu']:.2f} "
        f"(1/{figures['api_cpu'] / figures['bare_cpu']:.1f}; median round, Django + its PostgreSQL backend)"
    )
    print(f"queries per API page:       {figures['queries_50']} ({PAGE} servers), {figures['queries_1']} (1 server)")
    print(f"gunicorn sync workers:      {args.workers}; client processes: {args.clients}")
    print(f"bare Django JSON view:      {bare:8.1f} req/s ({bare_errors} errors)")
    print(f"DRF /api/v1/instances/:     {drf:8.1f} req/s ({drf_errors} errors)")
    print(f"ratio API / bare:           1/{bare / drf:.1f} (goal: at least 1/5)")
    print(
        "per round (bare / API):     "
        + ", ".join(f"{b[0]:.0f}/{d[0]:.0f}" for b, d in zip(bare_runs, drf_runs, strict=True))
    )
    if figures["queries_50"] != figures["queries_1"]:
        sys.exit("the API's query count grows with the page's length")


if __name__ == "__main__":
    main()
