"""Block storage volumes: N volumes created and attached to N running servers on the Proxmox simulator (goal:
200 in <= 30 s).

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/volume_attach_bench.py [--count 200]

Everything runs in this process with Celery eager, as a single worker would:
the servers are ordered first (``order_place``, not measured), the tier's
storage is declared on the cluster, then each volume is created attached to
its own server (``volume_create(server=…)``: capacity reserved under the
storage's lock, the disk allocated for the storage's holder VMID through the
storage API, then hot-plugged into the running VM's config by volume id with
the tier's throttles and a serial). The simulator's tasks take zero seconds.
The database is a throwaway PostgreSQL one (``test_vmcloud_volbench``,
recreated each run).

Printed: seconds for the whole run and volumes per second, Proxmox API calls
and database queries per volume (both should stay flat as N grows).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from decimal import Decimal
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

BENCH_DB = "test_vmcloud_volbench"
HOLDER_VMID = 899_999


def _database() -> None:
    if connection.vendor != "postgresql":
        sys.exit("volume_attach_bench needs PostgreSQL (DJANGO_SETTINGS_MODULE=config.settings.test).")
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    call_command("flush", interactive=False, verbosity=0)


def _tier(world: dict[str, Any]) -> Any:
    from apps.catalogue import choices as cc
    from apps.catalogue.models import Offer, ProductFamily
    from apps.infrastructure.models import Cluster, ClusterStorage

    family = ProductFamily.objects.create(slug="storage", name="Storage", kind=cc.FamilyKind.VIRTUAL_MACHINE)
    tier = Offer.objects.create(
        family=family,
        code="STORAGE-NVME",
        tier=cc.Tier.values[0],
        name="Storage NVMe",
        storage_iops_per_tb=50_000,
        billing_unit="gb_month",
        price_hourly=Decimal("0"),
        price_monthly=Decimal("0.15"),
    )
    tier.datacentres.add(world["dc"])
    ClusterStorage.objects.create(
        cluster=Cluster.objects.get(),
        tier=tier,
        storage="ceph-nvme",
        node_name="pve1",
        shared=True,
        holder_vmid=HOLDER_VMID,
        capacity_gb=10_000,
    )
    return tier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size-gb", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="print where the measured part spends its time")
    args = parser.parse_args()

    from apps.instances.models import Action, Instance
    from apps.orders.services import order_place, order_sync
    from apps.pvesim.fleet import load_fleet
    from apps.pvesim.server import PveSimulator
    from apps.volumes import services
    from apps.volumes.models import Volume

    _database()
    settings.INSTANCES_DRIVER_OPTIONS = {"task_poll_interval": 0.001, "retries": 2}
    settings.INSTANCES_GUEST_AGENT_WAIT_SECONDS = 5
    settings.VOLUMES_DEFAULT_QUOTAS = {"max_volumes": 1_000_000, "max_total_gb": 1_000_000_000}
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "vmcloud-volbench"  # noqa: S108 - local scratch
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
                name=f"vol-{i:04d}",
            )
            order_sync(order=order)
        servers = list(Instance.objects.filter(status="running").order_by("id"))
        tier = _tier(world)
        timer = HttpTimer()
        queries = [0]

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries[0] += 1
            return execute(sql, params, many, context)

        owner = world["owner"]
        profiler = cProfile.Profile() if args.profile else None
        with connection.execute_wrapper(count):
            if profiler is not None:
                profiler.enable()
            started, cpu_started = time.perf_counter(), time.process_time()
            for i, server in enumerate(servers):
                services.volume_create(
                    actor=owner,
                    organisation=world["org"],
                    project=world["project"],
                    name=f"data-{i:04d}",
                    tier=tier,
                    size_gb=args.size_gb,
                    datacentre=world["dc"],
                    server=server,
                )
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            if profiler is not None:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    finally:
        sim.stop()

    n = max(1, len(servers))
    in_use = Volume.objects.filter(status="in_use", server__isnull=False).count()
    failed = Action.objects.filter(resource_type="volume", status="error").count()
    holder_disks = sum(1 for volid in sim.cluster.volumes if f":vm-{HOLDER_VMID}-disk-" in volid)
    print(f"servers:                  {len(servers)} running")
    print(f"create + attach all:      {elapsed:.2f} s ({n / elapsed:.1f} volumes/s; goal 200 in <= 30 s)")
    print(f"  CPU of this process:    {cpu:.2f} s (platform and simulator; wall time above also waits on PostgreSQL)")
    print(f"  load average (1 min):   {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  volumes in use:         {in_use} ({failed} actions in error)")
    print(f"  holder VMID's disks:    {holder_disks} in the simulator")
    print(f"  per volume:             {timer.calls / n:.1f} Proxmox calls, {queries[0] / n:.0f} queries")
    print(f"time in HTTP round trips: {timer.seconds:.2f} s ({1000 * timer.seconds / max(1, timer.calls):.2f} ms/call)")
    if in_use != len(servers) or len(servers) != args.count or failed or holder_disks != len(servers):
        sys.exit("error: not every volume ended attached to its server")


if __name__ == "__main__":
    main()
