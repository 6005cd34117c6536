"""Private networks: one network, N running servers attached to it, then detached, on the Proxmox simulator.

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/network_attach_bench.py [--count 100]

Everything runs in this process with Celery eager, as a single worker would:
the servers are ordered first (``order_place``, not measured), then one network
is created (zone, VNet, subnet, ``PUT /cluster/sdn`` and its task), every server
is attached (NIC on the VNet, ``ipconfig1``, cloud-init drive regenerated) and
detached again. The database is a throwaway PostgreSQL one
(``test_vmcloud_netbench``, recreated each run).

Printed: seconds and attaches per second, Proxmox API calls and database
queries per attach and per detach (both should stay flat as N grows), and the
attaches' time spent in HTTP round trips to the simulator.
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

BENCH_DB = "test_vmcloud_netbench"


def _database() -> None:
    if connection.vendor != "postgresql":
        sys.exit("network_attach_bench needs PostgreSQL (DJANGO_SETTINGS_MODULE=config.settings.test).")
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    call_command("flush", interactive=False, verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()

    from apps.infrastructure.models import Cluster
    from apps.instances.models import Action, Instance
    from apps.networks import services
    from apps.networks.models import Attachment, NetworkZone
    from apps.orders.services import order_place, order_sync
    from apps.pvesim.fleet import load_fleet
    from apps.pvesim.server import PveSimulator

    _database()
    settings.INSTANCES_DRIVER_OPTIONS = {"task_poll_interval": 0.001, "retries": 2}
    settings.INSTANCES_GUEST_AGENT_WAIT_SECONDS = 5
    settings.NETWORKS_PLATFORM_RANGES = []
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "vmcloud-netbench"  # noqa: S108 - local scratch
    sim = PveSimulator(load_fleet(FLEET).cluster(), task_seconds=0.0, ca_path=workdir / "ca.pem").start()
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
                name=f"net-{i:04d}",
            )
            order_sync(order=order)
        servers = list(Instance.objects.filter(status="running").order_by("id"))
        NetworkZone.objects.create(
            cluster=Cluster.objects.get(), name="benchnet", zone_type="vxlan", options={"peers": "10.255.0.1"}
        )
        timer = HttpTimer()
        queries = [0]

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries[0] += 1
            return execute(sql, params, many, context)

        owner = world["owner"]
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            network, _action = services.network_create(
                actor=owner,
                organisation=world["org"],
                project=world["project"],
                name="bench",
                datacentre=world["dc"],
                ip_range="10.50.0.0/16",
            )
            created = time.perf_counter() - started
            network.refresh_from_db()
            calls0, queries0, t0, http0 = timer.calls, queries[0], time.perf_counter(), timer.seconds
            for server in servers:
                services.network_attach(actor=owner, network=network, server=server)
            attach_s = time.perf_counter() - t0
            attach_calls, attach_queries = timer.calls - calls0, queries[0] - queries0
            attach_http = timer.seconds - http0
            calls0, queries0, t0 = timer.calls, queries[0], time.perf_counter()
            for server in servers:
                services.network_detach(actor=owner, network=network, server=server)
            detach_s = time.perf_counter() - t0
            detach_calls, detach_queries = timer.calls - calls0, queries[0] - queries0
    finally:
        sim.stop()

    n = max(1, len(servers))
    attached = Attachment.objects.filter(network=network).count()
    detached = Attachment.objects.filter(network=network, status="detached").count()
    failed = Action.objects.filter(resource_type="network", status="error").count()
    print(f"servers:                  {len(servers)} running; network {network.status} in {created:.2f} s")
    print(f"attach all:               {attach_s:.2f} s ({n / attach_s:.1f} attaches/s)")
    print(f"  per attach:             {attach_calls / n:.1f} Proxmox calls, {attach_queries / n:.0f} queries")
    print(
        f"  in HTTP round trips:    {attach_http:.2f} s ({1000 * attach_http / max(1, attach_calls):.1f} ms per call)"
    )
    print(f"detach all:               {detach_s:.2f} s ({n / detach_s:.1f} detaches/s)")
    print(f"  per detach:             {detach_calls / n:.1f} Proxmox calls, {detach_queries / n:.0f} queries")
    if attached != len(servers) or detached != len(servers) or failed:
        sys.exit(f"error: {attached} attached, {detached} detached, {failed} failed actions")


if __name__ == "__main__":
    main()
