"""Firewall propagation: one rule change applied to 200 servers on the Proxmox simulator (goal: <= 20 s).

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/firewall_apply_bench.py [--count 200]

Everything runs in this process, as a single Celery worker would: the Proxmox simulator
(``apps.pvesim``, HTTPS on loopback, tasks of zero length) holds ``--count`` running VMs,
the platform has a server row for each, and Celery is eager. Setup (not timed): the VMs and
server rows. Timed:

1. creating a firewall whose label selector matches every server (the first ``apply``:
   security group written, then every VM gets its ``group`` rule, options and NIC check);
2. the goal: one rule change (``set_rules``), whose ``apply`` Action rewrites the security
   group and re-checks every VM, until the action is ``success`` and every server is ``applied``.

The database is a throwaway PostgreSQL one (``test_vmcloud_fwbench``, recreated each run).
Printed: seconds for each, Proxmox API calls and database queries per server.
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

import logging

import django

django.setup()
logging.disable(logging.WARNING)  # the driver logs every call at INFO: not what is measured

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

BENCH_DB = "test_vmcloud_fwbench"
FLEET = Path(__file__).resolve().parent.parent / "apps" / "pvesim" / "fleets" / "test.yaml"
FIRST_VMID = 500_000


def _database() -> None:
    if connection.vendor != "postgresql":
        sys.exit("firewall_apply_bench needs PostgreSQL (DJANGO_SETTINGS_MODULE=config.settings.test).")
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    call_command("flush", interactive=False, verbosity=0)


class Counter:
    """Proxmox API calls (requests' ``Session.send``, which proxmoxer uses)."""

    def __init__(self) -> None:
        import requests

        self.calls = 0
        original = requests.Session.send

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(session, request, **kwargs)

        requests.Session.send = send  # type: ignore[method-assign]


def _world(sim: Any, count: int) -> dict[str, Any]:
    from apps.accounts.models import User
    from apps.catalogue import choices as cc
    from apps.catalogue.models import Datacentre, Offer, OsImage, ProductFamily
    from apps.infrastructure import services as infra
    from apps.instances.models import Instance
    from apps.pvesim.state import SimVm
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
    cluster = infra.cluster_create(
        datacentre=dc,
        name="bench",
        api_url=sim.url + "/api2/json",
        token_id=sim.token_id,
        token_secret=sim.token_secret,
        tls_ca_pem=sim.ca_path.read_text(),
    )
    infra.inventory_sync(cluster=cluster)
    owner = User.objects.create_user(email="bench@example.test", password="x")  # noqa: S106 - throwaway
    org = organisation_create(name="Bench", owner=owner, actor=owner)
    project = org.projects.get()
    node = sorted(sim.cluster.nodes)[0]
    rows = []
    for i in range(count):
        vmid = FIRST_VMID + i
        sim.cluster.vms[vmid] = SimVm(
            vmid=vmid,
            node=node,
            config={"name": f"bench-{i:04d}", "net0": f"virtio=BC:24:11:00:{i // 256:02X}:{i % 256:02X},bridge=vmbr0"},
            running=True,
        )
        rows.append(
            Instance(
                organisation=org,
                project=project,
                name=f"bench-{i:04d}",
                labels={"role": "web"},
                offer=offer,
                datacentre=dc,
                image=image,
                status="running",
                cluster=cluster,
                node_name=node,
                vmid=vmid,
                price_hourly=Decimal("0.01"),
                price_monthly=Decimal("5.00"),
                created_by=owner,
            )
        )
    Instance.objects.bulk_create(rows)
    return {"owner": owner, "org": org, "project": project}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()

    from apps.firewalls import services
    from apps.firewalls.models import Firewall, FirewallServer
    from apps.instances.models import Action
    from apps.pvesim.fleet import load_fleet
    from apps.pvesim.server import PveSimulator

    _database()
    settings.INSTANCES_DRIVER_OPTIONS = {"task_poll_interval": 0.001, "retries": 2}
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "vmcloud-fwbench"  # noqa: S108 - local scratch
    sim = PveSimulator(load_fleet(FLEET).cluster(), task_seconds=0.0, ca_path=workdir / "ca.pem").start()
    web = {"direction": "in", "protocol": "tcp", "port": "80", "source_ips": ["0.0.0.0/0", "::/0"]}
    ssh = {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["198.51.100.0/24"]}
    try:
        world = _world(sim, args.count)
        counter = Counter()
        started = time.perf_counter()
        firewall, _actions = services.firewall_create(
            actor=world["owner"],
            organisation=world["org"],
            project=world["project"],
            name="web",
            rules_data=[web],
            label_selectors=["role=web"],
        )
        first = time.perf_counter() - started
        first_calls = counter.calls
        firewall = Firewall.objects.get(pk=firewall.pk)
        counter.calls = 0
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            action = services.firewall_set_rules(firewall=firewall, actor=world["owner"], rules_data=[web, ssh])
            change = time.perf_counter() - started
    finally:
        sim.stop()
    action.refresh_from_db()
    applied = FirewallServer.objects.filter(firewall=firewall, status="applied").count()
    groups = {vm.vmid for vm in sim.cluster.vms.values() if not vm.template}
    failed = Action.objects.filter(resource_type="firewall").exclude(status="success").count()
    n = max(1, args.count)
    print(
        f"servers:                  {args.count} ({applied} applied, {len(groups)} VMs, {failed} actions not success)"
    )
    print(f"first apply (create):     {first:.2f} s  ({first_calls} Proxmox calls, {first_calls / n:.1f} per server)")
    print(f"one rule change, applied: {change:.2f} s  (goal <= 20 s for 200 servers on 2 cores)")
    print(f"  Proxmox API calls:      {counter.calls} ({counter.calls / n:.1f} per server)")
    print(f"  database queries:       {len(queries)} ({len(queries) / n:.1f} per server)")
    if action.status != "success" or applied != args.count or failed:
        sys.exit(f"error: the change was not applied everywhere ({action.status}: {action.error_detail[:300]})")


if __name__ == "__main__":
    main()
