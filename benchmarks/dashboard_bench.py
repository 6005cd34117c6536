"""The dashboard's server-side time for an organisation with 500 servers (issue 16), against one with 5.

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/dashboard_bench.py [--servers 500] [--rounds 30]

Builds the test personas and shop (``tests/factories.py``) in a throwaway PostgreSQL
database (``test_vmcloud_dashbench``, recreated each run), gives Acme's owner 5
servers, a managed service and a budget, and measures ``GET /dashboard/`` through
Django's test client (the whole view: middleware, the overview's counts and sums,
the checklist, this month's cost summary against the budget, the newest servers,
the template); then adds servers up to ``--servers`` (some stopped, some in error)
and measures again. Also ``GET /search/?q=web`` on the large organisation.

Printed per case: median and 90th percentile milliseconds over ``--rounds``
requests (after two warm-up requests) and the number of SQL queries, which must
not grow with the number of servers (the run fails if it does).

First figures (2-core host shared with four other test runs, 15 rounds): the dashboard 308 ms
median with 5 servers and 388 ms with 500, 58 queries both; the search 104 ms, 20 queries. Most of
the time is the overview's dozen scoped reads (each ``restrict_to_actor`` first reads the actor's
visible project ids) and this month's cost summary, not the number of servers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ.setdefault("ORDERS_QUOTA_MAX_INSTANCES", "100000")

import logging

import django

django.setup()
logging.disable(logging.WARNING)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

BENCH_DB = "test_vmcloud_dashbench"


def _database() -> None:
    if connection.vendor != "postgresql":
        sys.exit("dashboard_bench needs PostgreSQL (DJANGO_SETTINGS_MODULE=config.settings.test).")
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    call_command("flush", interactive=False, verbosity=0)


def _servers(personas, shop, count: int, start: int) -> None:
    from apps.instances.models import Instance

    statuses = ["running"] * 8 + ["stopped", "error"]
    Instance.objects.bulk_create(
        Instance(
            organisation=personas.org,
            project=personas.project,
            name=f"web-{n}",
            offer=shop.vps,
            datacentre=shop.dc,
            image=shop.image,
            status=statuses[n % len(statuses)],
            ipv4=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
            labels={"role": "web" if n % 2 else "db"},
            price_hourly=Decimal("0.0137"),
            price_monthly=Decimal("9.99"),
        )
        for n in range(start, start + count)
    )


def _measure(client: Client, path: str, rounds: int) -> tuple[float, float, int, int]:
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    times.sort()
    return (
        statistics.median(times),
        times[int(len(times) * 0.9) - 1],
        len(queries.captured_queries),
        len(response.content),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--servers", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    setup_test_environment()
    _database()
    from apps.billing import services as billing_services
    from apps.billing.models import VatRate
    from apps.orders import services as order_services
    from tests.factories import personas_create, shop_create

    personas = personas_create()
    shop = shop_create()
    VatRate.objects.get_or_create(country="EE", defaults={"rate": Decimal("22.00")})
    order_services.order_place(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        offer=shop.service,
        datacentre=shop.dc,
        image=None,
        name="web-shop",
        ssh_keys=[],
        user_data="",
        service={"domain": "example.com", "runtime": "php", "version": "8.3"},
    )
    billing_services.budget_create(organisation=personas.org, actor=personas.owner, name="Monthly", amount="5000")
    client = Client()
    client.force_login(personas.owner)

    rows = []
    _servers(personas, shop, 5, 0)
    rows.append(("dashboard, 5 servers", *_measure(client, "/dashboard/", args.rounds)))
    _servers(personas, shop, args.servers - 5, 5)
    rows.append((f"dashboard, {args.servers} servers", *_measure(client, "/dashboard/", args.rounds)))
    rows.append((f"search 'web', {args.servers} servers", *_measure(client, "/search/?q=web", args.rounds)))

    print(f"{'case':<32} {'median ms':>10} {'p90 ms':>8} {'queries':>8} {'bytes':>8}")
    for name, median, p90, queries, size in rows:
        print(f"{name:<32} {median:>10.1f} {p90:>8.1f} {queries:>8} {size:>8}")
    connection.creation.destroy_test_db(BENCH_DB, verbosity=0)
    if rows[1][3] > rows[0][3]:
        sys.exit(f"error: the dashboard's queries grew with the servers ({rows[0][3]} -> {rows[1][3]})")


if __name__ == "__main__":
    main()
