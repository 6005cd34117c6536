"""VMCloud's product catalogue of December 2025, as seeded (docs/dev/catalogue.md#seed).

Every figure of the seed's catalogue is typed here once, in plain Python data,
and loaded by ``manage.py load_catalogue`` (``services.catalogue_load_seed``).
Staff own the rows afterwards in the admin; the loader never overwrites them
unless told to (``--reset``).

Units (see ``models`` docstring): storage and traffic in decimal GB/TB as the
seed writes them (1.28 TB = 1 280 GB, 1 PB = 1 000 TB); RAM in binary GB
(1 TB RAM = 1 024 GB). Prices are EUR excluding VAT, as strings turned into
``Decimal`` by the loader. Hourly prices of non-GPU offers are not typed here:
they follow the rule in ``apps.catalogue.rules.pricing``.

Readings of the seed where it is silent or contradicts itself are written as
comments beside the data they affect ("Reading:").
"""

from __future__ import annotations

from typing import Any

from apps.catalogue.choices import (
    CapacityResource,
    CdnCoverage,
    DatacentreStatus,
    FamilyKind,
    GpuPresence,
    HourlyPriceRule,
    ImageStatus,
    ImageSupport,
    OsType,
    StorageType,
    Tier,
    WafLevel,
    WindowsLicensing,
)

CPU_MODEL = "AMD EPYC 7003"

# ---------------------------------------------------------------------------
# GPU models (§2.2, §3). PCI ids from docs/dev/proxmox-behaviour.md#pci-hardware (checked
# against pci.ids); A40 and L40S ids from pci.ids (GA102GL [A40], AD102GL [L40S]).
# ---------------------------------------------------------------------------
GPU_MODELS: list[dict[str, Any]] = [
    {"slug": "t4", "name": "Tesla T4", "vram_gb": 16, "pci_vendor_id": "10de", "pci_device_id": "1eb8"},
    {"slug": "rtx-4090", "name": "GeForce RTX 4090", "vram_gb": 24, "pci_vendor_id": "10de", "pci_device_id": "2684"},
    {"slug": "a100-40gb", "name": "A100 40GB", "vram_gb": 40, "pci_vendor_id": "10de", "pci_device_id": "20f1"},
    {"slug": "a100-80gb", "name": "A100 80GB", "vram_gb": 80, "pci_vendor_id": "10de", "pci_device_id": "20b5"},
    {"slug": "a40", "name": "A40", "vram_gb": 48, "pci_vendor_id": "10de", "pci_device_id": "2235"},
    {"slug": "l40s", "name": "L40S", "vram_gb": 48, "pci_vendor_id": "10de", "pci_device_id": "26b9"},
]

# ---------------------------------------------------------------------------
# Datacentres (§3 "Datacenters").
# Reading: the seed's table lists "A100" for PAR-1 and FRA-1 without a size;
# the fleet has both A100 40 GB and 80 GB, so both are recorded.
# Reading (contradiction): §3 counts 25 Tesla T4 in the fleet and sells
# GPU-STARTER on a T4, yet no datacentre lists T4. We record the T4s in PAR-1,
# the III+ site that already holds the sold NVIDIA fleet, so GPU-STARTER is
# orderable somewhere; the fleet (infrastructure) places the 25 T4 hosts there.
# Reading (contradiction): AMS-1 lists A40 and L40S, which neither the
# inventory (85 GPUs: T4, RTX 4090, A100) nor any offer mentions. They are kept
# as present in AMS-1 with no offer and no capacity envelope until staff add them.
# ---------------------------------------------------------------------------
DATACENTRES: list[dict[str, Any]] = [
    {
        "code": "PAR-1",
        "name": "Paris 1",
        "city": "Paris",
        "country": "FR",
        "tier": "III+",
        "status": DatacentreStatus.OPERATIONAL,
        "status_message": "",
        "position": 1,
        "gpus": [
            ("t4", GpuPresence.AVAILABLE),
            ("rtx-4090", GpuPresence.AVAILABLE),
            ("a100-40gb", GpuPresence.AVAILABLE),
            ("a100-80gb", GpuPresence.AVAILABLE),
        ],
    },
    {
        "code": "AMS-1",
        "name": "Amsterdam 1",
        "city": "Amsterdam",
        "country": "NL",
        "tier": "III",
        "status": DatacentreStatus.OPERATIONAL,
        "status_message": "",
        "position": 2,
        "gpus": [("a40", GpuPresence.AVAILABLE), ("l40s", GpuPresence.AVAILABLE)],
    },
    {
        "code": "FRA-1",
        "name": "Frankfurt 1",
        "city": "Frankfurt",
        "country": "DE",
        "tier": "III",
        "status": DatacentreStatus.MAINTENANCE,
        "status_message": "Under maintenance: no new orders. A100 capacity is planned.",
        "position": 3,
        "gpus": [("a100-40gb", GpuPresence.PLANNED), ("a100-80gb", GpuPresence.PLANNED)],
    },
]

# ---------------------------------------------------------------------------
# Where offers are orderable (Offer.datacentres). Reading of §3:
# - VM families (VPS, GPU) are orderable in operational datacentres only;
#   FRA-1 is in maintenance, so staff add it to offers when it reopens.
# - A GPU offer is orderable where its GPU model is *available* (not planned):
#   every sold GPU model (T4, RTX 4090, A100 40/80) is in PAR-1 only.
# - Managed services (web hosting, PaaS, load balancers, storage, CDN) are
#   orderable in PAR-1 and AMS-1, the two operational sites.
# ---------------------------------------------------------------------------
OPERATIONAL_DATACENTRES = ["PAR-1", "AMS-1"]
SERVICE_DATACENTRES = ["PAR-1", "AMS-1"]

# ---------------------------------------------------------------------------
# Families (§1 "Catalogue produits" and the feature blocks of §2).
# features: [{"title": str, "items": [str, ...]}].
# ---------------------------------------------------------------------------
FAMILIES: list[dict[str, Any]] = [
    {
        "slug": "vps",
        "name": "VPS",
        "tagline": "High-performance virtual servers on AMD EPYC",
        "description": (
            "The heart of VMCloud: high-performance virtual private servers on AMD EPYC, "
            "with advanced options and expert human support."
        ),
        "kind": FamilyKind.VIRTUAL_MACHINE,
        "hourly_price_rule": HourlyPriceRule.DERIVED,
        "position": 1,
        "features": [
            {
                "title": "CPU",
                "items": ["AMD EPYC 7003 Series (Zen 3)", "Base 2.9 GHz", "Boost 3.7 GHz", "L3 cache 32 MB"],
            },
            {"title": "RAM", "items": ["DDR4 ECC 3200 MHz", "Dual channel"]},
            {
                "title": "Storage",
                "items": ["NVMe PCIe 4.0", "50,000+ random IOPS", "7,000 MB/s sequential read"],
            },
            {"title": "Network", "items": ["10 Gbps port", "DDoS protection included", "Native IPv6"]},
        ],
    },
    {
        "slug": "gpu",
        "name": "GPU Cloud",
        "tagline": "GPU compute for AI/ML and rendering",
        "description": (
            "GPU compute for AI/ML training and inference first, then 3D rendering and B2B cloud "
            "workstations. Multi-GPU offers use NVLink."
        ),
        "kind": FamilyKind.VIRTUAL_MACHINE,
        "hourly_price_rule": HourlyPriceRule.LIST,
        "position": 2,
        "features": [
            {
                "title": "Software stack",
                "items": [
                    "CUDA 11.8 / 12.x",
                    "cuDNN 8.9.x (optimised)",
                    "TensorRT 8.6 LTS",
                    "Frameworks: PyTorch, TensorFlow, JAX",
                    "ML tools: Jupyter Lab, MLflow, W&B",
                    "Containers: Docker + NVIDIA Container Toolkit",
                    "OS: Ubuntu 22.04, Rocky Linux 9",
                ],
            },
            {
                "title": "Use cases",
                "items": [
                    "AI/ML training (primary): A100, RTX 4090, for AI start-ups and R&D labs",
                    "LLM inference (primary): A100, T4, for AI SaaS and chatbots",
                    "3D rendering (secondary): RTX 4090, for studios and architectural visualisation",
                    "Cloud workstations (secondary): RTX 4090, for B2B and remote work",
                    "Cloud gaming (tertiary): RTX 4090, T4, through Hackboot",
                ],
            },
            {
                "title": "Spot instances (planned, not active)",
                "items": [
                    "Up to -70% on interruptible workloads",
                    "Batch processing, non-critical training",
                    "Pre-emption with 2 minutes' notice",
                ],
            },
        ],
    },
    {
        "slug": "web-hosting",
        "name": "Web Hosting",
        "tagline": "Shared and dedicated web hosting",
        "description": "Shared and dedicated web hosting with a broad language stack and 1-click apps.",
        "kind": FamilyKind.MANAGED_SERVICE,
        "hourly_price_rule": HourlyPriceRule.DERIVED,
        "position": 3,
        "features": [
            {
                "title": "Web stack",
                "items": [
                    "PHP 7.4, 8.0, 8.1, 8.2, 8.3",
                    "Node.js 16, 18, 20, 21 LTS",
                    "Python 3.8 - 3.12",
                    "Ruby 2.7 - 3.2",
                    ".NET 6.0, 7.0, 8.0",
                    "Databases: MySQL 8, PostgreSQL 16, MariaDB 11, MongoDB 7, Redis 7",
                    "Web servers: Apache 2.4, Nginx",
                    "Cache: Redis, Memcached, Varnish",
                ],
            },
            {
                "title": "1-click apps",
                "items": [
                    "WordPress",
                    "Joomla",
                    "Drupal",
                    "WooCommerce",
                    "PrestaShop",
                    "Magento",
                    "Discourse",
                    "phpBB",
                    "NodeBB",
                    "GitLab CE",
                    "Jenkins",
                    "Matomo",
                    "Plausible",
                ],
            },
        ],
    },
    {
        "slug": "paas",
        "name": "PaaS",
        "tagline": "Container platform as a service",
        "description": "Deploy containers from your Git provider, with private registry, scaling and rollbacks.",
        "kind": FamilyKind.MANAGED_SERVICE,
        "hourly_price_rule": HourlyPriceRule.DERIVED,
        "position": 4,
        "features": [
            {
                "title": "PaaS features",
                # Reading (contradiction): orchestration is Nomad with Kubernetes on the
                # roadmap (§2.4, §4 "Kubernetes managé: Roadmap Q3"), yet PAAS-KUBERNETES
                # is sold as a Kubernetes cluster. Both are kept as the seed writes them.
                "items": [
                    "Container runtime: Docker 24.x",
                    "Orchestration: Nomad (Kubernetes on the roadmap)",
                    "Registry: private registry included",
                    "CI/CD: GitHub, GitLab, Bitbucket webhooks",
                    "Scaling: horizontal and vertical",
                    "Environments: dev / staging / prod",
                    "Rollback: 1-click, instant",
                    "Blue-green: zero-downtime deploys",
                ],
            },
        ],
    },
    {
        "slug": "load-balancer",
        "name": "Load Balancer",
        "tagline": "L4/L7 load balancing",
        "description": "Layer 4 and layer 7 load balancing in front of your servers.",
        "kind": FamilyKind.MANAGED_SERVICE,
        "hourly_price_rule": HourlyPriceRule.DERIVED,
        "position": 5,
        "features": [],
    },
    {
        "slug": "storage",
        "name": "Storage",
        "tagline": "NVMe/SSD block storage",
        "description": "Block storage volumes on SSD and NVMe, priced per GB per month.",
        "kind": FamilyKind.MANAGED_SERVICE,
        "hourly_price_rule": HourlyPriceRule.DERIVED,
        "position": 6,
        "features": [],
    },
    {
        "slug": "cdn",
        "name": "CDN",
        "tagline": "Content delivery network",
        "description": "Content delivery from points of presence in Europe, the US and worldwide, with a WAF.",
        "kind": FamilyKind.MANAGED_SERVICE,
        "hourly_price_rule": HourlyPriceRule.DERIVED,
        "position": 7,
        "features": [],
    },
]

# Snapshot quota (manual snapshots kept per instance): not in the seed, decided
# here. VPS grow with the tier; GPU offers keep 5 (their disks are large);
# managed services take no VM snapshots.
VPS_SNAPSHOT_QUOTA = {Tier.STARTER: 3, Tier.PRO: 5, Tier.BUSINESS: 7, Tier.ENTERPRISE: 10, Tier.PREMIUM: 10}
GPU_SNAPSHOT_QUOTA = 5


def _vps(
    position: int, tier: Tier, code: str, vcpu: int, ram: int, disk: int, bw: int | None, price: str, sla: str
) -> dict[str, Any]:
    return {
        "family": "vps",
        "code": code,
        "tier": tier,
        "position": position,
        "vcpu": vcpu,
        "cpu_model": CPU_MODEL,
        "ram_gb": ram,
        "disk_gb": disk,
        "storage_type": StorageType.NVME,
        "bandwidth_tb": bw,
        "bandwidth_unlimited": bw is None,
        "sla_percent": sla,
        "price_monthly": price,
        "snapshot_quota": VPS_SNAPSHOT_QUOTA[tier],
        "datacentres": OPERATIONAL_DATACENTRES,
    }


def _gpu(
    position: int,
    tier: Tier,
    code: str,
    gpu: str,
    count: int,
    vram: int,
    vcpu: int,
    ram: int,
    disk: int,
    hourly: str,
    monthly: str,
) -> dict[str, Any]:
    return {
        "family": "gpu",
        "code": code,
        "tier": tier,
        "position": position,
        "gpu_model": gpu,
        "gpu_count": count,
        "gpu_vram_gb": vram,
        "vcpu": vcpu,
        "cpu_model": CPU_MODEL,
        "ram_gb": ram,
        "disk_gb": disk,
        # Reading: the GPU table gives no storage type; §3 says the whole fleet's
        # storage is NVMe, so GPU disks are NVMe.
        "storage_type": StorageType.NVME,
        "price_hourly": hourly,
        "price_monthly": monthly,
        "snapshot_quota": GPU_SNAPSHOT_QUOTA,
        # Every sold GPU model is available in PAR-1 only (see DATACENTRES).
        "datacentres": ["PAR-1"],
    }


def _web(
    position: int,
    tier: Tier,
    code: str,
    sites: int | None,
    disk: int,
    bw: int | None,
    dbs: int | None,
    mail: int | None,
    price: str,
) -> dict[str, Any]:
    # None = "Illimité" (unlimited) in the seed.
    return {
        "family": "web-hosting",
        "code": code,
        "tier": tier,
        "position": position,
        "web_sites": sites,
        "web_sites_unlimited": sites is None,
        "disk_gb": disk,
        "bandwidth_tb": bw,
        "bandwidth_unlimited": bw is None,
        "web_databases": dbs,
        "web_databases_unlimited": dbs is None,
        "web_mailboxes": mail,
        "web_mailboxes_unlimited": mail is None,
        "price_monthly": price,
        "datacentres": SERVICE_DATACENTRES,
    }


def _paas(
    position: int, tier: Tier, code: str, containers: int | None, ram: int | None, deploys: int | None, price: str
) -> dict[str, Any]:
    return {
        "family": "paas",
        "code": code,
        "tier": tier,
        "position": position,
        # None containers = "Cluster K8s"; None RAM = "Configurable"; None deploys = "Illimité".
        "paas_containers": containers,
        "paas_kubernetes_cluster": containers is None,
        "paas_ram_per_container_gb": ram,
        "paas_ram_configurable": ram is None,
        "paas_deployments_per_day": deploys,
        "paas_deployments_per_day_unlimited": deploys is None,
        "price_monthly": price,
        "datacentres": SERVICE_DATACENTRES,
    }


# Reading: the load balancer protocols column is cumulative ("+ WebSocket"
# adds to the tier below, "+ gRPC/HTTP3" to the one below that).
_LB_STARTER = ["HTTP", "HTTPS"]
_LB_BUSINESS = [*_LB_STARTER, "TCP", "UDP"]
_LB_ENTERPRISE = [*_LB_BUSINESS, "WebSocket"]
_LB_GLOBAL = [*_LB_ENTERPRISE, "gRPC", "HTTP/3"]


def _lb(
    position: int,
    tier: Tier,
    code: str,
    backends: int | None,
    rps: int,
    rps_or_more: bool,
    protocols: list[str],
    price: str,
) -> dict[str, Any]:
    return {
        "family": "load-balancer",
        "code": code,
        "tier": tier,
        "position": position,
        "lb_backends": backends,
        "lb_backends_unlimited": backends is None,
        "lb_requests_per_second": rps,
        "lb_requests_per_second_or_more": rps_or_more,
        "lb_protocols": protocols,
        "price_monthly": price,
        "datacentres": SERVICE_DATACENTRES,
    }


def _storage(
    position: int,
    tier: Tier,
    code: str,
    storage_type: StorageType,
    iops: int,
    iops_or_more: bool,
    latency_ms: str,
    price_per_gb: str,
) -> dict[str, Any]:
    return {
        "family": "storage",
        "code": code,
        "tier": tier,
        "position": position,
        "storage_type": storage_type,
        "storage_iops_per_tb": iops,
        "storage_iops_per_tb_or_more": iops_or_more,
        # The seed writes "< 1ms": the field holds the bound ("latency below").
        "storage_latency_ms": latency_ms,
        "billing_unit": "gb_month",
        "price_monthly": price_per_gb,
        "datacentres": SERVICE_DATACENTRES,
    }


def _cdn(
    position: int,
    tier: Tier,
    code: str,
    pops: int,
    pops_or_more: bool,
    coverage: CdnCoverage,
    traffic_tb: int,
    waf: WafLevel,
    price: str,
) -> dict[str, Any]:
    return {
        "family": "cdn",
        "code": code,
        "tier": tier,
        "position": position,
        "cdn_pops": pops,
        "cdn_pops_or_more": pops_or_more,
        "cdn_coverage": coverage,
        "cdn_traffic_tb": traffic_tb,
        "cdn_waf": waf,
        "price_monthly": price,
        "datacentres": SERVICE_DATACENTRES,
    }


T = Tier
OFFERS: list[dict[str, Any]] = [
    # §2.1 VPS: tier, code, vCPU, RAM GB, storage GB (NVMe), bandwidth TB (None = unlimited), EUR/month, SLA %.
    _vps(1, T.STARTER, "VPS-NANO", 1, 2, 40, 5, "29", "99.9"),
    _vps(2, T.STARTER, "VPS-STARTER", 2, 4, 80, 10, "49", "99.9"),
    _vps(3, T.PRO, "VPS-PERFORMANCE", 4, 8, 160, 20, "99", "99.9"),
    _vps(4, T.BUSINESS, "VPS-BUSINESS", 6, 16, 320, 30, "199", "99.95"),
    _vps(5, T.ENTERPRISE, "VPS-ENTERPRISE", 8, 32, 640, 50, "399", "99.99"),
    _vps(6, T.ENTERPRISE, "VPS-ELITE", 16, 64, 1280, 100, "799", "99.99"),
    _vps(7, T.PREMIUM, "VPS-TITANIUM", 32, 128, 2560, 200, "1599", "99.99"),
    _vps(8, T.PREMIUM, "VPS-QUANTUM", 48, 256, 5000, None, "3199", "99.99"),
    # §2.2 GPU: tier, code, GPU model, count, total VRAM GB, vCPU, RAM GB, storage GB, EUR/hour, EUR/month.
    _gpu(1, T.STARTER, "GPU-STARTER", "t4", 1, 16, 8, 32, 500, "0.85", "469"),
    _gpu(2, T.PRO, "GPU-PRO", "rtx-4090", 1, 24, 16, 64, 1000, "1.50", "829"),
    _gpu(3, T.BUSINESS, "GPU-BUSINESS", "rtx-4090", 2, 48, 32, 128, 2000, "2.90", "1599"),
    _gpu(4, T.ENTERPRISE, "GPU-ENTERPRISE", "a100-40gb", 1, 40, 48, 192, 4000, "4.20", "2319"),
    _gpu(5, T.PREMIUM, "GPU-QUANTUM", "a100-40gb", 2, 80, 64, 256, 8000, "8.40", "4639"),
    _gpu(6, T.PREMIUM, "GPU-TITAN", "a100-80gb", 1, 80, 96, 384, 16000, "5.50", "3035"),
    _gpu(7, T.PREMIUM, "GPU-CLUSTER", "a100-40gb", 4, 160, 128, 512, 32000, "16.80", "9279"),
    _gpu(8, T.PREMIUM, "GPU-SUPERCOMPUTE", "a100-80gb", 8, 640, 256, 1024, 64000, "33.60", "18559"),
    # §2.3 Web hosting: sites, storage GB, bandwidth TB, databases, mailboxes (None = unlimited), EUR/month.
    _web(1, T.STARTER, "WEB-STARTER", 1, 50, 1, 5, 10, "19"),
    _web(2, T.BUSINESS, "WEB-BUSINESS", 10, 200, 5, 25, 100, "49"),
    _web(3, T.PRO, "WEB-PRO", 50, 500, 20, 100, 500, "99"),
    _web(4, T.ENTERPRISE, "WEB-ENTERPRISE", None, 2000, None, None, None, "199"),
    # §2.4 PaaS: containers (None = Kubernetes cluster), RAM/container GB (None = configurable),
    # deployments/day (None = unlimited), EUR/month.
    _paas(1, T.STARTER, "PAAS-CONTAINER", 1, 2, 10, "59"),
    _paas(2, T.BUSINESS, "PAAS-BUSINESS", 5, 4, 50, "239"),
    _paas(3, T.PRO, "PAAS-SCALE", 20, 8, 200, "719"),
    _paas(4, T.ENTERPRISE, "PAAS-KUBERNETES", None, None, None, "1199"),
    # §2.5 Load balancer: backends (None = unlimited), requests/s ("1M+" = 1 000 000 or more), protocols.
    _lb(1, T.STARTER, "LB-STARTER", 5, 10_000, False, _LB_STARTER, "29"),
    _lb(2, T.BUSINESS, "LB-BUSINESS", 20, 50_000, False, _LB_BUSINESS, "99"),
    _lb(3, T.ENTERPRISE, "LB-ENTERPRISE", 100, 200_000, False, _LB_ENTERPRISE, "299"),
    _lb(4, T.PREMIUM, "LB-GLOBAL", None, 1_000_000, True, _LB_GLOBAL, "999"),
    # §2.6 Storage: type, IOPS per TB ("500K+" = 500 000 or more), latency below (ms), EUR/GB/month.
    _storage(1, T.STARTER, "STORAGE-SSD", StorageType.SSD_SATA, 10_000, False, "1", "0.10"),
    _storage(2, T.PRO, "STORAGE-NVME", StorageType.NVME_PCIE3, 50_000, False, "0.5", "0.15"),
    _storage(3, T.BUSINESS, "STORAGE-EXTREME", StorageType.NVME_PCIE4, 200_000, False, "0.1", "0.25"),
    _storage(4, T.PREMIUM, "STORAGE-DEDICATED", StorageType.NVME_RAID10, 500_000, True, "0.05", "0.40"),
    # §2.7 CDN: PoPs ("150+" = 150 or more), coverage, traffic included TB (1 PB = 1 000 TB), WAF, EUR/month.
    _cdn(1, T.STARTER, "CDN-STARTER", 10, False, CdnCoverage.EUROPE, 1, WafLevel.NONE, "19"),
    _cdn(2, T.PRO, "CDN-PRO", 25, False, CdnCoverage.EU_US, 10, WafLevel.BASIC, "99"),
    _cdn(3, T.BUSINESS, "CDN-BUSINESS", 50, False, CdnCoverage.WORLDWIDE, 100, WafLevel.ADVANCED, "499"),
    _cdn(4, T.PREMIUM, "CDN-GLOBAL", 150, True, CdnCoverage.WORLDWIDE, 1000, WafLevel.CUSTOM_RULES, "2499"),
]
# The seed's names are the codes (VPS-NANO ...); staff may rename offers later.
for _offer in OFFERS:
    _offer.setdefault("name", _offer["code"])


# ---------------------------------------------------------------------------
# OS images (§2.1 "OS Supportés").
# Reading (contradiction): the seed announces 16 images, "Linux (14)", but its
# own tables list 15 Linux versions + 2 Windows = 17. All 17 are kept (every
# figure of the seed is in the data). CentOS Stream 8 reached end of life on
# 31 May 2024 (https://blog.centos.org/2023/04/end-dates-are-coming-for-centos-stream-8-and-centos-linux-7/),
# so it is recorded as deprecated: 16 images (14 Linux + 2 Windows) are offered
# for new servers, which is the seed's count.
# Minimums are not in the seed: Linux 1 GB RAM / 10 GB disk (the model's
# defaults); Windows Server 4 GB RAM and 40 GB disk (Microsoft asks for 32 GB:
# https://learn.microsoft.com/windows-server/get-started/hardware-requirements).
# Custom images are not offered yet (seed: "Images custom: non disponible").
# ---------------------------------------------------------------------------
def _linux(position: int, slug: str, family: str, version: str, support: ImageSupport, **extra: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "family": family,
        "version": version,
        "os_type": OsType.LINUX,
        "support": support,
        "windows_licensing": WindowsLicensing.NOT_APPLICABLE,
        "status": ImageStatus.AVAILABLE,
        "min_ram_gb": 1,
        "min_disk_gb": 10,
        "position": position,
        **extra,
    }


OFFICIAL, COMMUNITY = ImageSupport.OFFICIAL, ImageSupport.COMMUNITY
OS_IMAGES: list[dict[str, Any]] = [
    _linux(1, "ubuntu-20.04", "Ubuntu", "20.04 LTS", OFFICIAL),
    _linux(2, "ubuntu-22.04", "Ubuntu", "22.04 LTS", OFFICIAL),
    _linux(3, "ubuntu-24.04", "Ubuntu", "24.04 LTS", OFFICIAL),
    _linux(4, "debian-11", "Debian", "11 (Bullseye)", OFFICIAL),
    _linux(5, "debian-12", "Debian", "12 (Bookworm)", OFFICIAL),
    _linux(6, "rocky-8", "Rocky Linux", "8", OFFICIAL),
    _linux(7, "rocky-9", "Rocky Linux", "9", OFFICIAL),
    _linux(8, "almalinux-8", "AlmaLinux", "8", OFFICIAL),
    _linux(9, "almalinux-9", "AlmaLinux", "9", OFFICIAL),
    _linux(10, "centos-stream-8", "CentOS Stream", "8", OFFICIAL, status=ImageStatus.DEPRECATED),
    _linux(11, "centos-stream-9", "CentOS Stream", "9", OFFICIAL),
    _linux(12, "fedora-39", "Fedora", "39", COMMUNITY),
    _linux(13, "fedora-40", "Fedora", "40", COMMUNITY),
    _linux(14, "opensuse-leap-15", "openSUSE Leap", "15", COMMUNITY),
    _linux(15, "arch-linux", "Arch Linux", "Rolling", COMMUNITY),
    {
        "slug": "windows-server-2019",
        "family": "Windows Server",
        "version": "2019",
        "os_type": OsType.WINDOWS,
        "support": OFFICIAL,
        "windows_licensing": WindowsLicensing.BYOL_OR_INCLUDED,
        "status": ImageStatus.AVAILABLE,
        "min_ram_gb": 4,
        "min_disk_gb": 40,
        "position": 16,
    },
    {
        "slug": "windows-server-2022",
        "family": "Windows Server",
        "version": "2022",
        "os_type": OsType.WINDOWS,
        "support": OFFICIAL,
        "windows_licensing": WindowsLicensing.BYOL_OR_INCLUDED,
        "status": ImageStatus.AVAILABLE,
        "min_ram_gb": 4,
        "min_disk_gb": 40,
        "position": 17,
    },
]
# Reading: the seed gives Windows a licence column but no support column; we
# support the images we build ourselves, so Windows Server is "official".

# ---------------------------------------------------------------------------
# GPU software stacks (§2.2 "Stack logicielle GPU"): one image variant per base
# OS (Ubuntu 22.04, Rocky Linux 9) and CUDA line (11.8, 12.x); the rest of the
# stack is the same on all four.
# ---------------------------------------------------------------------------
_GPU_FRAMEWORKS = ["PyTorch", "TensorFlow", "JAX"]
_GPU_TOOLS = ["Jupyter Lab", "MLflow", "W&B"]
_GPU_RUNTIME = "Docker + NVIDIA Container Toolkit"


def _stack(slug: str, name: str, base: str, cuda: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": name,
        "base_image": base,
        "cuda_version": cuda,
        "cudnn_version": "8.9.x",
        "tensorrt_version": "8.6 LTS",
        "frameworks": _GPU_FRAMEWORKS,
        "tools": _GPU_TOOLS,
        "container_runtime": _GPU_RUNTIME,
        "status": ImageStatus.AVAILABLE,
    }


GPU_STACKS: list[dict[str, Any]] = [
    _stack("ubuntu-22.04-cuda-11.8", "Ubuntu 22.04 + CUDA 11.8", "ubuntu-22.04", "11.8"),
    _stack("ubuntu-22.04-cuda-12", "Ubuntu 22.04 + CUDA 12.x", "ubuntu-22.04", "12.x"),
    _stack("rocky-9-cuda-11.8", "Rocky Linux 9 + CUDA 11.8", "rocky-9", "11.8"),
    _stack("rocky-9-cuda-12", "Rocky Linux 9 + CUDA 12.x", "rocky-9", "12.x"),
]

# ---------------------------------------------------------------------------
# Capacity envelopes (§3 "Enveloppes de capacité"). physical_capacity keeps the
# seed's fleet-wide figures, in base units: vCPU, GB of RAM (15 TB = 60 servers
# x 256 GB = 15 360 GB), GPUs, GB of storage (100 TB decimal = 100 000 GB).
# Sellable = physical x oversell x target: 3 840 x 2 x 0.7 = 5 376 vCPU (seed
# "~5 400"); RAM 10.5 TB; T4 20; RTX 4090 16; A100 (30 + 10) x 0.9 = 36; storage 60 TB.
# Reading: the seed gives one A100 line (40 GPUs, 90%); the inventory splits it
# into 30 x 40 GB and 10 x 80 GB, so each model gets its own envelope at 90%.
# A40 and L40S have no envelope (no figure in the seed, no offer).
# ---------------------------------------------------------------------------
CAPACITY_ENVELOPES: list[dict[str, Any]] = [
    {
        "resource": CapacityResource.VCPU,
        "gpu_model": None,
        "oversell_ratio": "2.00",
        "target_utilisation": "0.700",
        "physical_capacity": "3840",
        "unit": "vCPU",
        "notes": "60 x AMD EPYC 7003 servers: ~3 840 vCPUs (~7 680 with x2 overselling); seed sellable ~5 400.",
    },
    {
        "resource": CapacityResource.RAM,
        "gpu_model": None,
        "oversell_ratio": "1.00",
        "target_utilisation": "0.700",
        "physical_capacity": "15360",
        "unit": "GB",
        "notes": "60 servers x 256 GB = ~15 TB; seed sellable ~10.5 TB.",
    },
    {
        "resource": CapacityResource.GPU,
        "gpu_model": "t4",
        "oversell_ratio": "1.00",
        "target_utilisation": "0.800",
        "physical_capacity": "25",
        "unit": "GPU",
        "notes": "25 x Tesla T4 16GB; seed sellable 20 instances.",
    },
    {
        "resource": CapacityResource.GPU,
        "gpu_model": "rtx-4090",
        "oversell_ratio": "1.00",
        "target_utilisation": "0.800",
        "physical_capacity": "20",
        "unit": "GPU",
        "notes": "20 x RTX 4090 24GB; seed sellable 16-20 instances.",
    },
    {
        "resource": CapacityResource.GPU,
        "gpu_model": "a100-40gb",
        "oversell_ratio": "1.00",
        "target_utilisation": "0.900",
        "physical_capacity": "30",
        "unit": "GPU",
        "notes": "30 x A100 40GB; seed: A100 (40 GB + 80 GB) 40 GPUs at 90% = 36 instances.",
    },
    {
        "resource": CapacityResource.GPU,
        "gpu_model": "a100-80gb",
        "oversell_ratio": "1.00",
        "target_utilisation": "0.900",
        "physical_capacity": "10",
        "unit": "GPU",
        "notes": "10 x A100 80GB; seed: A100 (40 GB + 80 GB) 40 GPUs at 90% = 36 instances.",
    },
    {
        "resource": CapacityResource.STORAGE,
        "gpu_model": None,
        "oversell_ratio": "1.00",
        "target_utilisation": "0.600",
        "physical_capacity": "100000",
        "unit": "GB",
        "notes": "NVMe ~100 TB; seed sellable ~60 TB.",
    },
]
