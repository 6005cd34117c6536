"""Placement throughput: sequential reservations per second on PostgreSQL (goal: >= 100/s).

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/placement_bench.py [--count 1000]

Builds a fleet of 60 nodes and 85 GPUs (25 T4, 20 RTX 4090, 30 A100 40GB,
10 A100 80GB, as in the seed) in its own throwaway database
(``test_vmcloud_bench``, recreated each run), then times
``placement_reserve`` one call after another: CPU offers, then single-GPU
offers until the GPUs run out, then ``placement_release``. Each call is a full
transaction with its row locks and its audit event, as in production.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402

BENCH_DB = "test_vmcloud_bench"


def _database() -> None:
    """Point the default connection at the bench database, creating and migrating it once."""
    if connection.vendor != "postgresql":
        sys.exit("placement_bench needs PostgreSQL (DJANGO_SETTINGS_MODULE=config.settings.test).")
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    # A fresh database each run: a kept one goes stale when migrations change.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)


def _fleet() -> dict:
    from apps.catalogue import choices as cc
    from apps.catalogue.models import CapacityEnvelope, Datacentre, GpuModel, Offer, OsImage, ProductFamily
    from apps.core.models import AuditEvent
    from apps.infrastructure import models as m

    for model in (
        m.IpAllocation,
        m.VmidAllocation,
        m.GpuDevice,
        m.Reservation,
        m.VmTemplate,
        m.Storage,
        m.Node,
        m.SyncReport,
        m.Cluster,
        m.IpPool,
        Offer,
        CapacityEnvelope,
        GpuModel,
        OsImage,
        ProductFamily,
        Datacentre,
    ):
        model.objects.all().delete()
    with connection.cursor() as cursor:
        # The audit log is append-only (a trigger refuses DELETE): TRUNCATE is how a throwaway DB is emptied.
        cursor.execute(f"TRUNCATE {AuditEvent._meta.db_table}")

    dc = Datacentre.objects.create(code="PAR-1", name="Paris", city="Paris", country="FR", tier="III+")
    family = ProductFamily.objects.create(slug="bench", name="Bench", kind=cc.FamilyKind.VIRTUAL_MACHINE)
    image = OsImage.objects.create(
        slug="ubuntu-24.04", family="Ubuntu", version="24.04", os_type="linux", support="official"
    )
    gpu_specs = [
        ("t4", "20b0", 25, 5),
        ("rtx-4090", "2684", 20, 4),
        ("a100-40gb", "20f1", 30, 8),
        ("a100-80gb", "20b5", 10, 8),
    ]
    models = {
        slug: GpuModel.objects.create(slug=slug, name=slug, vram_gb=16, pci_vendor_id="10de", pci_device_id=dev)
        for slug, dev, _n, _per in gpu_specs
    }
    CapacityEnvelope.objects.create(resource="vcpu", oversell_ratio=2, target_utilisation=Decimal("0.7"))
    CapacityEnvelope.objects.create(resource="ram", target_utilisation=Decimal("0.7"))
    CapacityEnvelope.objects.create(resource="storage", target_utilisation=Decimal("0.6"))
    for model in models.values():
        CapacityEnvelope.objects.create(resource="gpu", gpu_model=model, target_utilisation=Decimal("1"))

    token_id = "bench@pve!bench"
    cluster = m.Cluster.objects.create(name="par1", datacentre=dc, api_url="https://127.0.0.1:8006", token_id=token_id)
    m.Storage.objects.create(cluster=cluster, name="ceph", type="rbd", content="images", shared=True, capacity_gb=10**7)
    m.VmTemplate.objects.create(cluster=cluster, vmid=9000, name="ubuntu-24.04", os_image=image)
    m.VmTemplate.objects.create(cluster=cluster, vmid=9001, name="ubuntu-24.04-gpu", os_image=image, gpu_ready=True)
    m.IpPool.objects.create(datacentre=dc, family=4, cidr="10.0.0.0/16", gateway="10.0.0.1")
    m.IpPool.objects.create(datacentre=dc, family=6, cidr="2001:db8::/64", gateway="2001:db8::1")

    nodes = 0
    for slug, _dev, count, per_node in gpu_specs:
        for start in range(0, count, per_node):
            node = m.Node.objects.create(
                cluster=cluster,
                datacentre=dc,
                name=f"{slug}-{start // per_node}",
                cores=128,
                ram_gb=1024,
                status="online",
                gpu_count=min(per_node, count - start),
            )
            nodes += 1
            for i in range(min(per_node, count - start)):
                m.GpuDevice.objects.create(
                    node=node,
                    pci_address=f"0000:{i + 1:02x}:00.0",
                    vendor_id="10de",
                    device_id=_dev,
                    gpu_model=models[slug],
                    mapping_name=slug,
                    nvlink_peer_group=f"{node.name}-{i // 2}",
                )
    for i in range(60 - nodes):
        m.Node.objects.create(
            cluster=cluster, datacentre=dc, name=f"cpu-{i:02d}", cores=64, ram_gb=256, status="online"
        )

    def offer(code: str, **kw: object) -> Offer:
        o = Offer.objects.create(
            family=family, code=code, name=code, tier="pro", price_monthly=1, price_hourly=1, disk_gb=40, **kw
        )
        o.datacentres.add(dc)
        # As the catalogue's selectors hand offers out: with their datacentres prefetched.
        return Offer.objects.prefetch_related("datacentres").get(pk=o.pk)

    return {
        "dc": dc,
        "image": image,
        "vps": offer("VPS-BENCH", vcpu=2, ram_gb=4),
        "gpu": offer("GPU-BENCH", vcpu=8, ram_gb=32, gpu_model=models["a100-40gb"], gpu_count=1),
        "gpu_models": models,
        "offer": offer,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="CPU reservations to time (per run).")
    args = parser.parse_args()
    _database()

    from apps.core.errors import Unavailable
    from apps.infrastructure import services
    from apps.infrastructure.models import GpuDevice, Node

    f = _fleet()
    print(f"fleet: {Node.objects.count()} nodes, {GpuDevice.objects.count()} GPUs (PostgreSQL, {BENCH_DB})")

    # Commits wait for the WAL flush (synchronous_commit=on, as in production): on a
    # shared or slow disk that flush dominates. The second run, with
    # synchronous_commit=off for this session only, shows the cost of placement
    # itself (queries, locks, Python).
    cpu = []
    for label, sync in (("synchronous_commit=on ", "on"), ("synchronous_commit=off", "off")):
        with connection.cursor() as cursor:
            cursor.execute(f"SET synchronous_commit = {sync}")
        started = time.perf_counter()
        batch = [
            services.placement_reserve(offer=f["vps"], datacentre=f["dc"], image=f["image"]) for _ in range(args.count)
        ]
        elapsed = time.perf_counter() - started
        cpu += batch
        rate = args.count / elapsed
        print(f"placement_reserve, CPU offer, {label}: {rate:7.1f}/s ({args.count} in {elapsed:.2f} s)")
        if sync == "on":
            print(f"  goal >= 100/s: {'met' if rate >= 100 else 'NOT MET'}")
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")

    gpu_offers = [
        f["offer"](f"GPU-{slug}", vcpu=8, ram_gb=32, gpu_model=model, gpu_count=1)
        for slug, model in f["gpu_models"].items()
    ]
    gpu = []
    started = time.perf_counter()
    for offer in gpu_offers:
        while True:
            try:
                gpu.append(services.placement_reserve(offer=offer, datacentre=f["dc"], image=f["image"]))
            except Unavailable:
                break
    elapsed = time.perf_counter() - started
    rate = len(gpu) / elapsed
    print(f"placement_reserve, 1-GPU offers:               {rate:7.1f}/s ({len(gpu)} GPUs in {elapsed:.2f} s)")

    started = time.perf_counter()
    for reservation in cpu + gpu:
        services.placement_release(reservation=reservation)
    elapsed = time.perf_counter() - started
    print(f"placement_release:                             {len(cpu + gpu) / elapsed:7.1f}/s")

    from apps.catalogue.models import Datacentre, Offer
    from apps.infrastructure.selectors import availability_matrix

    offers, dcs = list(Offer.objects.all()), list(Datacentre.objects.all())
    started = time.perf_counter()
    for _ in range(100):
        availability_matrix(offers=offers, datacentres=dcs)
    elapsed = time.perf_counter() - started
    print(f"availability_matrix ({len(offers)} offers x {len(dcs)} DC):     {1000 * elapsed / 100:7.2f} ms per call")


if __name__ == "__main__":
    main()
