"""Provisioning throughput: 200 instances from order to running against the Proxmox simulator (goal: <= 20 s).

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/provision_bench.py [--count 200]

Everything runs in this process, one order after another, as a single worker
would: the Proxmox simulator (``apps.pvesim``, HTTPS on loopback, tasks of
zero length) serves the test fleet with a larger node; Celery is eager, so
``order_place`` reserves capacity (placement), creates the instance and runs
the whole provisioning chain (VMID check, clone, configure, resize, start,
guest agent) before it returns. The database is a throwaway PostgreSQL one
(``test_vmcloud_provbench``, recreated each run).

Printed: instances per second, Proxmox API calls per instance, and the
platform's own overhead per Proxmox call (wall time minus the time spent
inside HTTP round trips to the simulator, divided by the number of calls).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ.setdefault("ORDERS_QUOTA_MAX_INSTANCES", "100000")

import logging

import django

django.setup()
logging.disable(logging.WARNING)  # the driver logs every call at INFO: not what is measured

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

BENCH_DB = "test_vmcloud_provbench"
FLEET = Path(__file__).resolve().parent.parent / "apps" / "pvesim" / "fleets" / "test.yaml"


def _database() -> None:
    if connection.vendor != "postgresql":
        sys.exit("provision_bench needs PostgreSQL (DJANGO_SETTINGS_MODULE=config.settings.test).")
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    # A fresh database each run: a kept one goes stale when migrations change.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    # TRUNCATE every table (the append-only audit log refuses DELETE).
    call_command("flush", interactive=False, verbosity=0)


class HttpTimer:
    """Time spent inside HTTP round trips (requests' ``Session.send``, which proxmoxer uses)."""

    def __init__(self) -> None:
        import requests

        self.seconds = 0.0
        self.calls = 0
        original = requests.Session.send

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(session, request, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        requests.Session.send = send  # type: ignore[method-assign]


def _world(sim: Any) -> dict[str, Any]:
    from apps.accounts.models import User
    from apps.catalogue import choices as cc
    from apps.catalogue.models import Datacentre, Offer, OsImage, ProductFamily
    from apps.infrastructure import services as infra
    from apps.infrastructure.models import IpPool, Node
    from apps.teams.services import organisation_create

    dc = Datacentre.objects.create(code="PAR-1", name="Paris", city="Paris", country="FR", tier="III+")
    family = ProductFamily.objects.create(slug="vps", name="VPS", kind=cc.FamilyKind.VIRTUAL_MACHINE)
    image = OsImage.objects.create(
        slug="ubuntu-24.04", family="Ubuntu", version="24.04", os_type="linux", support="official"
    )
    offer = Offer.objects.create(
        family=family,
        code="VPS-BENCH",
        tier=cc.Tier.values[0],
        name="VPS bench",
        vcpu=1,
        ram_gb=1,
        disk_gb=10,
        price_hourly=Decimal("0.01"),
        price_monthly=Decimal("5.00"),
    )
    offer.datacentres.add(dc)
    cluster = infra.cluster_create(
        datacentre=dc,
        name="bench",
        api_url=sim.url + "/api2/json",
        token_id=sim.token_id,
        token_secret=sim.token_secret,
        tls_ca_pem=sim.ca_path.read_text(),
    )
    infra.inventory_sync(cluster=cluster)
    Node.objects.update(cores=4096, ram_gb=16384)  # the ledger's view: room for every VM of the run
    IpPool.objects.create(datacentre=dc, family=4, cidr="10.20.0.0/16", gateway="10.20.0.1", dns_servers=["1.1.1.1"])
    IpPool.objects.create(datacentre=dc, family=6, cidr="2001:db8:20::/64", gateway="2001:db8:20::1")
    owner = User.objects.create_user(email="bench@example.test", password="x")  # noqa: S106 - throwaway
    org = organisation_create(name="Bench", owner=owner, actor=owner)
    return {"dc": dc, "offer": offer, "image": image, "owner": owner, "org": org, "project": org.projects.get()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()

    from apps.instances.choices import InstanceStatus
    from apps.instances.models import Instance
    from apps.orders.models import Order
    from apps.orders.services import order_place, order_sync
    from apps.pvesim.fleet import load_fleet
    from apps.pvesim.server import PveSimulator

    _database()
    settings.INSTANCES_DRIVER_OPTIONS = {"task_poll_interval": 0.001, "retries": 2}
    settings.INSTANCES_GUEST_AGENT_WAIT_SECONDS = 5
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "vmcloud-provbench"  # noqa: S108 - local scratch
    sim = PveSimulator(load_fleet(FLEET).cluster(), task_seconds=0.0, ca_path=workdir / "ca.pem").start()
    try:
        world = _world(sim)
        timer = HttpTimer()
        queries = [0]

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries[0] += 1
            return execute(sql, params, many, context)

        sim.clear_requests()
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            for i in range(args.count):
                order = order_place(
                    actor=world["owner"],
                    organisation=world["org"],
                    project=world["project"],
                    offer=world["offer"],
                    datacentre=world["dc"],
                    image=world["image"],
                    name=f"bench-{i:04d}",
                )
                order_sync(order=order)
        elapsed = time.perf_counter() - started
    finally:
        sim.stop()

    running = Instance.objects.filter(status=InstanceStatus.RUNNING).count()
    completed = Order.objects.filter(state="completed").count()
    vms = len([vm for vm in sim.cluster.vms.values() if not vm.template])
    calls = timer.calls
    overhead = elapsed - timer.seconds
    print(f"instances ordered:        {args.count} ({running} running, {completed} orders completed, {vms} VMs)")
    print(f"order -> running:         {elapsed:.2f} s  ({args.count / elapsed:.1f} instances/s; goal 200 in <= 20 s)")
    print(f"Proxmox API calls:        {calls} ({calls / max(1, args.count):.1f} per instance)")
    print(f"database queries:         {queries[0]} ({queries[0] / max(1, args.count):.0f} per instance)")
    print(f"time in HTTP round trips: {timer.seconds:.2f} s ({1000 * timer.seconds / max(1, calls):.2f} ms per call)")
    print(
        f"platform overhead:        {overhead:.2f} s ({1000 * overhead / max(1, calls):.2f} ms per Proxmox call, "
        f"{1000 * overhead / max(1, args.count):.1f} ms per instance)"
    )
    if running != args.count or vms != args.count:
        sys.exit("error: not every instance reached running with exactly one VM")


if __name__ == "__main__":
    main()
