"""Floating IPs: N running servers each get a floating IP (reserved and assigned at once), every address then
moves to the next server, is unassigned and released, on the Proxmox simulator.

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/floating_ip_bench.py [--count 50]

Everything runs in this process with Celery eager, as a single worker would:
the servers are ordered first (``order_place``, not measured). An assign
writes the VM's ``ipfilter-net0`` IP set and announces the route (the table
backend); a move writes both servers' sets. The database is a throwaway
PostgreSQL one (``test_vmcloud_fipbench``, recreated each run).

Printed: seconds per phase, Proxmox API calls and database queries per
operation (both should stay flat as N grows).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ.setdefault("ORDERS_QUOTA_MAX_INSTANCES", "100000")

import logging

import django

django.setup()
logging.disable(logging.WARNING)

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from provision_bench import FLEET, HttpTimer, _world  # noqa: E402

BENCH_DB = "test_vmcloud_fipbench"


def _database() -> None:
    if connection.vendor != "postgresql":
        sys.exit("floating_ip_bench needs PostgreSQL (DJANGO_SETTINGS_MODULE=config.settings.test).")
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    call_command("flush", interactive=False, verbosity=0)


def _offer() -> None:
    """The add-on offer (its data migration's row is gone with the flush)."""
    from decimal import Decimal

    from apps.catalogue.models import Offer, ProductFamily

    family, _ = ProductFamily.objects.get_or_create(slug="add-ons", defaults={"name": "Add-ons", "kind": "service"})
    Offer.objects.get_or_create(
        code=settings.FLOATING_IPS_OFFER_CODE,
        defaults={
            "family": family,
            "name": "Floating IPv4",
            "tier": "starter",
            "status": "retired",
            "price_monthly": Decimal("3.00"),
            "price_hourly": Decimal("0.004110"),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()

    from apps.floating_ips import services
    from apps.floating_ips.models import FloatingIp, FloatingIpRoute
    from apps.instances.models import Action, Instance
    from apps.orders.services import order_place, order_sync
    from apps.pvesim.fleet import load_fleet
    from apps.pvesim.server import PveSimulator

    _database()
    _offer()
    settings.INSTANCES_DRIVER_OPTIONS = {"task_poll_interval": 0.001, "retries": 2}
    settings.INSTANCES_GUEST_AGENT_WAIT_SECONDS = 5
    settings.FLOATING_IPS_DEFAULT_QUOTAS = {"max_floating_ips": 100_000}
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "vmcloud-fipbench"  # noqa: S108 - local scratch
    sim = PveSimulator(load_fleet(FLEET).cluster(), task_seconds=0.0, ca_path=workdir / "ca.pem").start()
    phases: dict[str, tuple[float, int, int]] = {}
    try:
        world = _world(sim)
        for i in range(args.count):
            order = order_place(
                actor=world["owner"],
                organisation=world["org"],
                project=world["project"],
                offer=world["offer"],
                datacentre=world["dc"],
                image=world["image"],
                name=f"fip-{i:04d}",
            )
            order_sync(order=order)
        servers = list(Instance.objects.filter(status="running").order_by("id"))
        timer = HttpTimer()
        queries = [0]

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries[0] += 1
            return execute(sql, params, many, context)

        owner = world["owner"]

        def phase(name: str, work: Any) -> None:
            calls0, queries0, t0 = timer.calls, queries[0], time.perf_counter()
            work()
            phases[name] = (time.perf_counter() - t0, timer.calls - calls0, queries[0] - queries0)

        def create_assigned() -> None:
            for server in servers:
                services.floating_ip_create(
                    actor=owner,
                    organisation=world["org"],
                    project=world["project"],
                    name=f"vip-{server.pk}",
                    server=server,
                )

        def move() -> None:
            fips = list(FloatingIp.objects.order_by("id"))
            for index, fip in enumerate(fips):
                services.floating_ip_assign(actor=owner, floating_ip=fip, server=servers[(index + 1) % len(servers)])

        def unassign() -> None:
            for fip in FloatingIp.objects.order_by("id"):
                services.floating_ip_unassign(actor=owner, floating_ip=fip)

        def release() -> None:
            for fip in FloatingIp.objects.order_by("id"):
                services.floating_ip_delete(actor=owner, floating_ip=fip)

        with connection.execute_wrapper(count):
            phase("reserve + assign", create_assigned)
            routed = FloatingIpRoute.objects.count()
            phase("move", move)
            phase("unassign", unassign)
            phase("release", release)
    finally:
        sim.stop()

    n = max(1, len(servers))
    print(f"servers:                  {len(servers)} running; {routed} routes recorded after assign")
    for name, (seconds, calls, n_queries) in phases.items():
        print(
            f"{name + ':':<26}{seconds:.2f} s ({n / seconds:.1f}/s); per floating IP {calls / n:.1f} Proxmox calls, "
            f"{n_queries / n:.0f} queries"
        )
    failed = Action.objects.filter(resource_type="floating_ip", status="error").count()
    released = FloatingIp.objects.filter(status="released").count()
    if routed != len(servers) or released != len(servers) or failed or FloatingIpRoute.objects.exists():
        sys.exit(f"error: {routed} routed, {released} released, {failed} failed actions")


if __name__ == "__main__":
    main()
