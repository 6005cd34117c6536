"""Every figure of the seed's catalogue is in the data.

The tables below are copied from VMCloud's product catalogue (docs/dev/catalogue.md#seed) as the seed
writes them (French notation included) and parsed here, independently of
apps/catalogue/services/seed_data.py, so a typo in either side fails the test.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from apps.catalogue import choices
from apps.catalogue.models import (
    CapacityEnvelope,
    Datacentre,
    GpuModel,
    GpuSoftwareStack,
    Offer,
    OsImage,
    ProductFamily,
)

pytestmark = pytest.mark.django_db

UNLIMITED = "Illimité"

# §2.1 | Tier | Nom | vCPU | RAM | Storage | Bandwidth | Prix/mois | SLA |
VPS = """
| Starter | VPS-NANO | 1× EPYC | 2 GB | 40 GB NVMe | 5 TB | 29€ | 99.9% |
| Starter | VPS-STARTER | 2× EPYC | 4 GB | 80 GB NVMe | 10 TB | 49€ | 99.9% |
| Pro | VPS-PERFORMANCE | 4× EPYC | 8 GB | 160 GB NVMe | 20 TB | 99€ | 99.9% |
| Business | VPS-BUSINESS | 6× EPYC | 16 GB | 320 GB NVMe | 30 TB | 199€ | 99.95% |
| Enterprise | VPS-ENTERPRISE | 8× EPYC | 32 GB | 640 GB NVMe | 50 TB | 399€ | 99.99% |
| Enterprise | VPS-ELITE | 16× EPYC | 64 GB | 1.28 TB NVMe | 100 TB | 799€ | 99.99% |
| Premium | VPS-TITANIUM | 32× EPYC | 128 GB | 2.56 TB NVMe | 200 TB | 1 599€ | 99.99% |
| Premium | VPS-QUANTUM | 48× EPYC | 256 GB | 5 TB NVMe | Illimité | 3 199€ | 99.99% |
"""
# §2.2 | Tier | Nom | GPU | VRAM | vCPU | RAM | Storage | Prix/heure | Prix/mois |
GPU = """
| Starter | GPU-STARTER | 1× Tesla T4 | 16 GB | 8× EPYC | 32 GB | 500 GB | 0.85€ | 469€ |
| Pro | GPU-PRO | 1× RTX 4090 | 24 GB | 16× EPYC | 64 GB | 1 TB | 1.50€ | 829€ |
| Business | GPU-BUSINESS | 2× RTX 4090 | 48 GB | 32× EPYC | 128 GB | 2 TB | 2.90€ | 1 599€ |
| Enterprise | GPU-ENTERPRISE | 1× A100 40GB | 40 GB | 48× EPYC | 192 GB | 4 TB | 4.20€ | 2 319€ |
| Premium | GPU-QUANTUM | 2× A100 40GB | 80 GB | 64× EPYC | 256 GB | 8 TB | 8.40€ | 4 639€ |
| Premium | GPU-TITAN | 1× A100 80GB | 80 GB | 96× EPYC | 384 GB | 16 TB | 5.50€ | 3 035€ |
| Premium | GPU-CLUSTER | 4× A100 40GB | 160 GB | 128× EPYC | 512 GB | 32 TB | 16.80€ | 9 279€ |
| Premium | GPU-SUPERCOMPUTE | 8× A100 80GB | 640 GB | 256× EPYC | 1 TB | 64 TB | 33.60€ | 18 559€ |
"""
# §2.3 | Tier | Nom | Sites | Storage | Bandwidth | DB | Emails | Prix/mois |
WEB = """
| Starter | WEB-STARTER | 1 | 50 GB | 1 TB | 5 | 10 | 19€ |
| Business | WEB-BUSINESS | 10 | 200 GB | 5 TB | 25 | 100 | 49€ |
| Pro | WEB-PRO | 50 | 500 GB | 20 TB | 100 | 500 | 99€ |
| Enterprise | WEB-ENTERPRISE | Illimité | 2 TB | Illimité | Illimité | Illimité | 199€ |
"""
# §2.4 | Tier | Nom | Containers | RAM/container | Deployments/jour | Prix/mois |
PAAS = """
| Starter | PAAS-CONTAINER | 1 | 2 GB | 10 | 59€ |
| Business | PAAS-BUSINESS | 5 | 4 GB | 50 | 239€ |
| Pro | PAAS-SCALE | 20 | 8 GB | 200 | 719€ |
| Enterprise | PAAS-KUBERNETES | Cluster K8s | Configurable | Illimité | 1 199€ |
"""
# §2.5 | Tier | Nom | Backends | Requests/s | Protocoles | Prix/mois |
LB = """
| Starter | LB-STARTER | 5 | 10K | HTTP/HTTPS | 29€ |
| Business | LB-BUSINESS | 20 | 50K | HTTP/HTTPS/TCP/UDP | 99€ |
| Enterprise | LB-ENTERPRISE | 100 | 200K | + WebSocket | 299€ |
| Premium | LB-GLOBAL | Illimité | 1M+ | + gRPC/HTTP3 | 999€ |
"""
# §2.6 | Tier | Nom | Type | IOPS/TB | Latence | Prix/GB/mois |
STORAGE = """
| Starter | STORAGE-SSD | SSD SATA | 10K | < 1ms | 0.10€ |
| Pro | STORAGE-NVME | NVMe PCIe 3.0 | 50K | < 0.5ms | 0.15€ |
| Business | STORAGE-EXTREME | NVMe PCIe 4.0 | 200K | < 0.1ms | 0.25€ |
| Premium | STORAGE-DEDICATED | NVMe RAID 10 | 500K+ | < 0.05ms | 0.40€ |
"""
# §2.7 | Tier | Nom | PoPs | Traffic inclus | WAF | Prix/mois |
CDN = """
| Starter | CDN-STARTER | 10 Europe | 1 TB | ❌ | 19€ |
| Pro | CDN-PRO | 25 EU/US | 10 TB | Basic | 99€ |
| Business | CDN-BUSINESS | 50 Mondial | 100 TB | Advanced | 499€ |
| Premium | CDN-GLOBAL | 150+ Mondial | 1 PB | Custom rules | 2 499€ |
"""


def rows(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in table.strip().splitlines()]


def price(text: str) -> Decimal:
    return Decimal(text.replace("€", "").replace(" ", ""))


def size_gb(text: str) -> int:
    """Decimal sizes: '1.28 TB' -> 1280, '500 GB' -> 500, '1 PB' -> 1 000 000."""
    number, unit = re.match(r"([\d.]+) (GB|TB|PB)", text).groups()
    return int(Decimal(number) * {"GB": 1, "TB": 1000, "PB": 1_000_000}[unit])


def ram_gb(text: str) -> int:
    """Binary RAM: '1 TB' -> 1024."""
    number, unit = re.match(r"([\d.]+) (GB|TB)", text).groups()
    return int(Decimal(number) * {"GB": 1, "TB": 1024}[unit])


def count(text: str) -> tuple[int | None, bool, bool]:
    """(value, unlimited, or_more): 'Illimité', '1M+', '10K', '150+'."""
    if text == UNLIMITED:
        return None, True, False
    or_more = text.endswith("+")
    text = text.rstrip("+")
    factor = {"K": 1000, "M": 1_000_000}.get(text[-1], 1)
    return int(text.rstrip("KM")) * factor, False, or_more


def tier(text: str) -> str:
    return text.lower()


def hourly_rule(monthly: Decimal) -> Decimal:
    # The published rule, typed independently of apps.catalogue.rules.pricing.
    from decimal import ROUND_HALF_UP

    return (monthly / 730).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def offer(code: str) -> Offer:
    return Offer.objects.select_related("family", "gpu_model").get(code=code)


def test_the_catalogue_has_7_families_and_36_offers(catalogue):
    assert ProductFamily.objects.count() == 7
    assert Offer.objects.count() == 36
    expected_codes = {r[1] for t in (VPS, GPU, WEB, PAAS, LB, STORAGE, CDN) for r in rows(t)}
    assert len(expected_codes) == 36
    assert set(Offer.objects.values_list("code", flat=True)) == expected_codes
    assert not Offer.objects.exclude(status=choices.OfferStatus.ACTIVE).exists()


@pytest.mark.parametrize("row", rows(VPS), ids=lambda r: r[1])
def test_vps_offer_matches_the_seed(catalogue, row):
    t, code, vcpu, ram, storage, bandwidth, monthly, sla = row
    o = offer(code)
    assert o.family.slug == "vps"
    assert o.tier == tier(t)
    assert o.vcpu == int(vcpu.split("×")[0])
    assert o.cpu_model == "AMD EPYC 7003"
    assert o.ram_gb == ram_gb(ram)
    assert o.disk_gb == size_gb(storage)
    assert o.storage_type == choices.StorageType.NVME
    bw_value, bw_unlimited, _ = count(bandwidth) if bandwidth == UNLIMITED else (size_gb(bandwidth) // 1000, False, 0)
    assert (o.bandwidth_tb, o.bandwidth_unlimited) == (bw_value, bw_unlimited)
    assert o.price_monthly == price(monthly)
    assert o.price_hourly == hourly_rule(price(monthly))
    assert o.sla_percent == Decimal(sla.rstrip("%"))
    assert o.gpu_model is None


@pytest.mark.parametrize("row", rows(GPU), ids=lambda r: r[1])
def test_gpu_offer_matches_the_seed_with_its_hourly_price(catalogue, row):
    t, code, gpu, vram, vcpu, ram, storage, hourly, monthly = row
    o = offer(code)
    gpu_count, gpu_name = gpu.split("× ")
    assert o.family.slug == "gpu"
    assert o.tier == tier(t)
    assert o.gpu_count == int(gpu_count)
    assert o.gpu_model.name.endswith(gpu_name.replace("Tesla ", "").strip()) or o.gpu_model.name == gpu_name
    assert o.gpu_vram_gb == int(vram.split()[0])
    assert o.gpu_vram_gb == o.gpu_count * o.gpu_model.vram_gb
    assert o.vcpu == int(vcpu.split("×")[0])
    assert o.ram_gb == ram_gb(ram)
    assert o.disk_gb == size_gb(storage)
    assert o.price_hourly == price(hourly)  # the seed's, not monthly / 730
    assert o.price_monthly == price(monthly)


@pytest.mark.parametrize("row", rows(WEB), ids=lambda r: r[1])
def test_web_hosting_offer_matches_the_seed(catalogue, row):
    t, code, sites, storage, bandwidth, dbs, mails, monthly = row
    o = offer(code)
    assert o.family.slug == "web-hosting"
    assert o.tier == tier(t)
    assert (o.web_sites, o.web_sites_unlimited) == count(sites)[:2]
    assert o.disk_gb == size_gb(storage)
    if bandwidth == UNLIMITED:
        assert (o.bandwidth_tb, o.bandwidth_unlimited) == (None, True)
    else:
        assert (o.bandwidth_tb, o.bandwidth_unlimited) == (size_gb(bandwidth) // 1000, False)
    assert (o.web_databases, o.web_databases_unlimited) == count(dbs)[:2]
    assert (o.web_mailboxes, o.web_mailboxes_unlimited) == count(mails)[:2]
    assert o.price_monthly == price(monthly)
    assert o.price_hourly == hourly_rule(price(monthly))


@pytest.mark.parametrize("row", rows(PAAS), ids=lambda r: r[1])
def test_paas_offer_matches_the_seed(catalogue, row):
    t, code, containers, ram, deploys, monthly = row
    o = offer(code)
    assert o.family.slug == "paas"
    assert o.tier == tier(t)
    if containers == "Cluster K8s":
        assert (o.paas_containers, o.paas_kubernetes_cluster) == (None, True)
    else:
        assert (o.paas_containers, o.paas_kubernetes_cluster) == (int(containers), False)
    if ram == "Configurable":
        assert (o.paas_ram_per_container_gb, o.paas_ram_configurable) == (None, True)
    else:
        assert (o.paas_ram_per_container_gb, o.paas_ram_configurable) == (ram_gb(ram), False)
    assert (o.paas_deployments_per_day, o.paas_deployments_per_day_unlimited) == count(deploys)[:2]
    assert o.price_monthly == price(monthly)
    assert o.price_hourly == hourly_rule(price(monthly))


def test_load_balancer_offers_match_the_seed(catalogue):
    protocols: list[str] = []
    for t, code, backends, rps, protos, monthly in rows(LB):
        o = offer(code)
        # "+ X" adds to the tier below; the seed writes HTTP/3 as "HTTP3".
        names = [{"HTTP3": "HTTP/3"}.get(p, p) for p in protos.removeprefix("+ ").split("/")]
        protocols = [*protocols, *names] if protos.startswith("+") else names
        assert o.family.slug == "load-balancer"
        assert o.tier == tier(t)
        assert (o.lb_backends, o.lb_backends_unlimited) == count(backends)[:2]
        value, _, or_more = count(rps)
        assert (o.lb_requests_per_second, o.lb_requests_per_second_or_more) == (value, or_more)
        assert o.lb_protocols == protocols
        assert o.price_monthly == price(monthly)
        assert o.price_hourly == hourly_rule(price(monthly))
    assert offer("LB-GLOBAL").lb_requests_per_second == 1_000_000


STORAGE_TYPES = {
    "SSD SATA": choices.StorageType.SSD_SATA,
    "NVMe PCIe 3.0": choices.StorageType.NVME_PCIE3,
    "NVMe PCIe 4.0": choices.StorageType.NVME_PCIE4,
    "NVMe RAID 10": choices.StorageType.NVME_RAID10,
}


@pytest.mark.parametrize("row", rows(STORAGE), ids=lambda r: r[1])
def test_storage_offer_matches_the_seed_priced_per_gb(catalogue, row):
    t, code, kind, iops, latency, per_gb = row
    o = offer(code)
    assert o.family.slug == "storage"
    assert o.tier == tier(t)
    assert o.storage_type == STORAGE_TYPES[kind]
    value, _, or_more = count(iops)
    assert (o.storage_iops_per_tb, o.storage_iops_per_tb_or_more) == (value, or_more)
    assert o.storage_latency_ms == Decimal(latency.strip("< ms"))
    assert o.billing_unit == choices.BillingUnit.GB_MONTH
    assert o.price_monthly == price(per_gb)
    # Per GB hourly at 6 decimal places (4 would distort by up to 27%).
    assert o.price_hourly == (price(per_gb) / 730).quantize(Decimal("0.000001"))


COVERAGE = {"Europe": "europe", "EU/US": "eu_us", "Mondial": "worldwide"}
WAF = {"❌": "none", "Basic": "basic", "Advanced": "advanced", "Custom rules": "custom_rules"}


@pytest.mark.parametrize("row", rows(CDN), ids=lambda r: r[1])
def test_cdn_offer_matches_the_seed(catalogue, row):
    t, code, pops, traffic, waf, monthly = row
    o = offer(code)
    pop_count, coverage = pops.split(" ", 1)
    value, _, or_more = count(pop_count)
    assert o.family.slug == "cdn"
    assert o.tier == tier(t)
    assert (o.cdn_pops, o.cdn_pops_or_more) == (value, or_more)
    assert o.cdn_coverage == COVERAGE[coverage]
    assert o.cdn_traffic_tb == size_gb(traffic) // 1000
    assert o.cdn_waf == WAF[waf]
    assert o.price_monthly == price(monthly)
    assert o.price_hourly == hourly_rule(price(monthly))


# §1 | Produit | Offres | Prix range |
FAMILIES = [
    ("vps", "VPS", 8, "29", "3199"),
    ("gpu", "GPU Cloud", 8, "469", "18559"),
    ("web-hosting", "Web Hosting", 4, "19", "199"),
    ("paas", "PaaS", 4, "59", "1199"),
    ("load-balancer", "Load Balancer", 4, "29", "999"),
    ("storage", "Storage", 4, "0.10", "0.40"),
    ("cdn", "CDN", 4, "19", "2499"),
]


@pytest.mark.parametrize(("slug", "name", "n", "low", "high"), FAMILIES)
def test_family_overview_matches_the_seed(catalogue, slug, name, n, low, high):
    from apps.catalogue.selectors import family_list

    family = family_list().get(slug=slug)
    assert family.name == name
    assert family.active_offer_count == n
    assert (family.price_monthly_min, family.price_monthly_max) == (Decimal(low), Decimal(high))


def test_family_feature_lists_carry_the_seed_blocks(catalogue):
    def items(slug: str) -> str:
        return " ".join(i for g in ProductFamily.objects.get(slug=slug).features for i in g["items"])

    vps = items("vps")
    for fact in ("EPYC 7003", "2.9 GHz", "3.7 GHz", "32 MB", "DDR4 ECC 3200", "PCIe 4.0", "50,000", "7,000 MB/s"):
        assert fact in vps
    assert "10 Gbps" in vps and "DDoS" in vps and "IPv6" in vps
    gpu = items("gpu")
    for fact in ("11.8", "12.x", "8.9.x", "8.6 LTS", "PyTorch", "TensorFlow", "JAX", "Jupyter Lab", "MLflow", "W&B"):
        assert fact in gpu
    assert "NVIDIA Container Toolkit" in gpu and "-70%" in gpu and "2 minutes" in gpu
    web = items("web-hosting")
    for fact in ("PHP 7.4, 8.0, 8.1, 8.2, 8.3", "Node.js 16, 18, 20, 21", "3.8 - 3.12", "2.7 - 3.2", "MongoDB 7"):
        assert fact in web
    for app in ("WordPress", "PrestaShop", "Magento", "Discourse", "NodeBB", "GitLab CE", "Jenkins", "Plausible"):
        assert app in web
    paas = items("paas")
    for fact in ("Docker 24.x", "Nomad", "private registry", "Bitbucket", "Blue-green", "Rollback"):
        assert fact in paas


# §2.1 "OS Supportés"
IMAGES = {
    ("Ubuntu", "20.04 LTS"): "official",
    ("Ubuntu", "22.04 LTS"): "official",
    ("Ubuntu", "24.04 LTS"): "official",
    ("Debian", "11 (Bullseye)"): "official",
    ("Debian", "12 (Bookworm)"): "official",
    ("Rocky Linux", "8"): "official",
    ("Rocky Linux", "9"): "official",
    ("AlmaLinux", "8"): "official",
    ("AlmaLinux", "9"): "official",
    ("CentOS Stream", "8"): "official",
    ("CentOS Stream", "9"): "official",
    ("Fedora", "39"): "community",
    ("Fedora", "40"): "community",
    ("openSUSE Leap", "15"): "community",
    ("Arch Linux", "Rolling"): "community",
    ("Windows Server", "2019"): "official",
    ("Windows Server", "2022"): "official",
}


def test_every_os_image_of_the_seed_exists_with_its_support_level(catalogue):
    got = {(i.family, i.version): i.support for i in OsImage.objects.all()}
    assert got == IMAGES
    # The seed announces 16 images: CentOS Stream 8 (end of life) is kept but deprecated.
    available = OsImage.objects.filter(status=choices.ImageStatus.AVAILABLE)
    assert available.count() == 16
    assert available.filter(os_type=choices.OsType.LINUX).count() == 14
    windows = OsImage.objects.filter(os_type=choices.OsType.WINDOWS)
    assert windows.count() == 2
    assert {w.windows_licensing for w in windows} == {choices.WindowsLicensing.BYOL_OR_INCLUDED}
    assert {w.min_ram_gb for w in windows} == {4}
    assert not OsImage.objects.filter(os_type=choices.OsType.LINUX).exclude(
        windows_licensing=choices.WindowsLicensing.NOT_APPLICABLE
    )


def test_gpu_software_stacks_cover_both_bases_and_cuda_lines(catalogue):
    stacks = GpuSoftwareStack.objects.select_related("base_image")
    assert {(s.base_image.slug, s.cuda_version) for s in stacks} == {
        ("ubuntu-22.04", "11.8"),
        ("ubuntu-22.04", "12.x"),
        ("rocky-9", "11.8"),
        ("rocky-9", "12.x"),
    }
    for s in stacks:
        assert (s.cudnn_version, s.tensorrt_version) == ("8.9.x", "8.6 LTS")
        assert s.frameworks == ["PyTorch", "TensorFlow", "JAX"]
        assert s.tools == ["Jupyter Lab", "MLflow", "W&B"]
        assert s.container_runtime == "Docker + NVIDIA Container Toolkit"


def test_gpu_models_have_memory_and_pci_ids(catalogue):
    got = {g.slug: (g.vram_gb, f"{g.pci_vendor_id}:{g.pci_device_id}") for g in GpuModel.objects.all()}
    assert got == {
        "t4": (16, "10de:1eb8"),
        "rtx-4090": (24, "10de:2684"),
        "a100-40gb": (40, "10de:20f1"),
        "a100-80gb": (80, "10de:20b5"),
        "a40": (48, "10de:2235"),
        "l40s": (48, "10de:26b9"),
    }


def test_datacentres_match_the_seed(catalogue):
    def gpus(code: str) -> dict[str, str]:
        return {p.gpu_model.slug: p.presence for p in Datacentre.objects.get(code=code).gpu_presence.all()}

    got = {d.code: (d.city, d.country, d.tier, d.status) for d in Datacentre.objects.all()}
    assert got == {
        "PAR-1": ("Paris", "FR", "III+", "operational"),
        "AMS-1": ("Amsterdam", "NL", "III", "operational"),
        "FRA-1": ("Frankfurt", "DE", "III", "maintenance"),
    }
    # PAR-1: A100 and RTX 4090 (plus the T4s, our reading); AMS-1: A40, L40S; FRA-1: A100 planned.
    assert gpus("PAR-1") == {
        "a100-40gb": "available",
        "a100-80gb": "available",
        "rtx-4090": "available",
        "t4": "available",
    }
    assert gpus("AMS-1") == {"a40": "available", "l40s": "available"}
    assert gpus("FRA-1") == {"a100-40gb": "planned", "a100-80gb": "planned"}


def test_offers_are_orderable_where_the_reading_says(catalogue):
    def dcs(code: str) -> set[str]:
        return set(offer(code).datacentres.values_list("code", flat=True))

    # Nothing is orderable in FRA-1 (maintenance).
    assert not Offer.objects.filter(datacentres__code="FRA-1").exists()
    assert dcs("VPS-NANO") == {"PAR-1", "AMS-1"}
    for o in Offer.objects.filter(family__slug="gpu").select_related("gpu_model"):
        assert dcs(o.code) == {"PAR-1"}
        assert o.gpu_model.datacentre_presence.filter(datacentre__code="PAR-1", presence="available").exists()
    assert dcs("CDN-GLOBAL") == dcs("WEB-STARTER") == {"PAR-1", "AMS-1"}


def test_snapshot_quotas_grow_with_vps_tier(catalogue):
    quotas = dict(Offer.objects.filter(family__slug="vps").values_list("code", "snapshot_quota"))
    assert quotas["VPS-NANO"] == 3 and quotas["VPS-QUANTUM"] == 10
    assert sorted(quotas.values()) == [quotas[r[1]] for r in rows(VPS)]  # never decreases with the tier
    assert set(Offer.objects.filter(family__slug="gpu").values_list("snapshot_quota", flat=True)) == {5}


# §3 "Enveloppes de capacité": | Ressource | Capacité max | Objectif | Capacité vendable |
def test_capacity_envelopes_give_the_seed_sellable_figures(catalogue):
    def env(resource: str, gpu: str | None = None) -> CapacityEnvelope:
        return (
            CapacityEnvelope.objects.get(resource=resource, gpu_model__slug=gpu)
            if gpu
            else CapacityEnvelope.objects.get(resource=resource, gpu_model=None)
        )

    vcpu = env("vcpu")
    assert (vcpu.physical_capacity, vcpu.oversell_ratio, vcpu.target_utilisation) == (3840, 2, Decimal("0.7"))
    assert vcpu.sellable(vcpu.physical_capacity) == 5376  # seed: ~5 400 of 7 680 oversold
    ram = env("ram")
    assert ram.sellable(ram.physical_capacity) / 1024 == Decimal("10.5")  # 15 TB -> ~10.5 TB
    assert env("gpu", "t4").sellable(25) == 20
    assert env("gpu", "t4").physical_capacity == 25
    assert env("gpu", "rtx-4090").sellable(20) == 16
    assert env("gpu", "rtx-4090").physical_capacity == 20
    a100 = env("gpu", "a100-40gb").sellable(30) + env("gpu", "a100-80gb").sellable(10)
    assert a100 == 36
    assert (env("gpu", "a100-40gb").physical_capacity, env("gpu", "a100-80gb").physical_capacity) == (30, 10)
    storage = env("storage")
    assert storage.sellable(storage.physical_capacity) == 60_000  # GB: ~60 TB of 100 TB
    assert CapacityEnvelope.objects.count() == 7
