"""Catalogue data: families, offers, GPU models, images, datacentres, capacity envelopes.

Conventions:
- Money is ``Decimal`` EUR. ``price_monthly`` is the seed's price and the cap per
  calendar month; ``price_hourly`` is the seed's for GPU offers, and
  ``round(monthly / 730, 4)`` for the others (``apps.catalogue.rules.pricing``).
- "Unlimited" is a real value: quantities that can be unlimited have a
  ``*_unlimited`` boolean beside a nullable number, and a check constraint
  forbids both at once. A null number with ``*_unlimited`` false means the
  column does not apply to the offer's family.
- Quantities written "1M+" or "150+" in the seed keep the number and set
  ``*_or_more``.
- Sizes: storage and traffic in decimal GB/TB as the seed writes them
  (1.28 TB = 1 280 GB); RAM in GB (1 TB RAM = 1 024 GB).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalogue import choices
from apps.core.models import TimeStampedModel
from apps.core.money import MoneyField, RateField


def _unlimited_check(field: str, flag: str = "") -> models.CheckConstraint:
    flag = flag or f"{field}_unlimited"
    return models.CheckConstraint(
        condition=~(Q(**{f"{field}__isnull": False}) & Q(**{flag: True})),
        name=f"offer_{field}_not_both_value_and_unlimited",
    )


class ProductFamily(TimeStampedModel):
    """A product line (VPS, GPU Cloud, Web Hosting, PaaS, Load Balancer, Storage, CDN)."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    tagline = models.CharField(_("tagline"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("delivery"), max_length=16, choices=choices.FamilyKind.choices)
    # Bullet lists from the seed (VPS hardware, GPU software stack, web stack and
    # 1-click apps, PaaS features), as [{"title": str, "items": [str, ...]}, ...].
    features = models.JSONField(_("features"), default=list, blank=True)
    hourly_price_rule = models.CharField(
        _("hourly price rule"),
        max_length=16,
        choices=choices.HourlyPriceRule.choices,
        default=choices.HourlyPriceRule.DERIVED,
        help_text=_("Derived: the admin computes each offer's hourly price from its monthly price (monthly / 730)."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product family")
        verbose_name_plural = _("product families")
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name


class GpuModel(TimeStampedModel):
    """A GPU model the fleet may hold (T4, RTX 4090, A100 40/80 GB, A40, L40S)."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    vendor = models.CharField(_("vendor"), max_length=40, default="NVIDIA")
    vram_gb = models.PositiveIntegerField(_("VRAM (GB)"))
    # PCI ids as Proxmox reports them (hardware/pci "0x10de"; mappings "10de:20b5").
    pci_vendor_id = models.CharField(_("PCI vendor id"), max_length=6, blank=True, help_text="e.g. 10de")
    pci_device_id = models.CharField(_("PCI device id"), max_length=6, blank=True, help_text="e.g. 20b5")

    class Meta:
        verbose_name = _("GPU model")
        verbose_name_plural = _("GPU models")
        ordering = ["vram_gb", "name"]

    def __str__(self) -> str:
        return self.name


class Datacentre(TimeStampedModel):
    """A region customers pick (PAR-1, AMS-1, FRA-1)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=80)
    city = models.CharField(_("city"), max_length=80)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2"))
    tier = models.CharField(_("tier"), max_length=16, help_text=_("Uptime Institute tier, e.g. III+"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=choices.DatacentreStatus.choices,
        default=choices.DatacentreStatus.OPERATIONAL,
    )
    status_message = models.CharField(_("status message"), max_length=200, blank=True)
    gpu_models = models.ManyToManyField(
        GpuModel, through="DatacentreGpuModel", related_name="datacentres", blank=True, verbose_name=_("GPU models")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("datacentre")
        verbose_name_plural = _("datacentres")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.code

    @property
    def is_operational(self) -> bool:
        return self.status == choices.DatacentreStatus.OPERATIONAL


class DatacentreGpuModel(models.Model):
    """Which GPU models a datacentre holds, or plans to."""

    datacentre = models.ForeignKey(Datacentre, on_delete=models.CASCADE, related_name="gpu_presence")
    gpu_model = models.ForeignKey(GpuModel, on_delete=models.PROTECT, related_name="datacentre_presence")
    presence = models.CharField(
        _("presence"), max_length=16, choices=choices.GpuPresence.choices, default=choices.GpuPresence.AVAILABLE
    )

    class Meta:
        verbose_name = _("GPU model in datacentre")
        verbose_name_plural = _("GPU models in datacentres")
        constraints = [models.UniqueConstraint(fields=["datacentre", "gpu_model"], name="uniq_datacentre_gpu_model")]

    def __str__(self) -> str:
        return f"{self.datacentre} {self.gpu_model} ({self.presence})"


class Offer(TimeStampedModel):
    """One sellable plan, with every column of the seed's tables.

    Offers are never deleted once sold (orders protect them); retire them
    instead. Changing a price affects new orders only: orders freeze theirs.
    """

    family = models.ForeignKey(ProductFamily, on_delete=models.PROTECT, related_name="offers", verbose_name=_("family"))
    code = models.CharField(_("code"), max_length=40, unique=True, help_text=_("e.g. VPS-NANO"))
    name = models.CharField(_("name"), max_length=80)
    tier = models.CharField(_("tier"), max_length=16, choices=choices.Tier.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=choices.OfferStatus.choices,
        default=choices.OfferStatus.ACTIVE,
        db_index=True,
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    description = models.TextField(_("description"), blank=True)
    datacentres = models.ManyToManyField(Datacentre, related_name="offers", blank=True, verbose_name=_("orderable in"))

    # Prices (EUR, excluding VAT).
    billing_unit = models.CharField(
        _("billing unit"), max_length=16, choices=choices.BillingUnit.choices, default=choices.BillingUnit.MONTH
    )
    # The one money rule (apps.core.money): a monthly price in cents, a rate at 6 places.
    price_monthly = MoneyField(
        _("monthly price"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Per month, or per GB per month for storage. Also the cap per calendar month."),
    )
    price_hourly = RateField(
        _("hourly price"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Per started hour (per GB for storage)."),
    )

    # Compute (VPS, GPU).
    vcpu = models.PositiveIntegerField(_("vCPU"), null=True, blank=True)
    cpu_model = models.CharField(_("CPU model"), max_length=60, blank=True)
    ram_gb = models.PositiveIntegerField(_("RAM (GB)"), null=True, blank=True)
    disk_gb = models.PositiveIntegerField(_("storage (GB)"), null=True, blank=True)
    storage_type = models.CharField(_("storage type"), max_length=16, choices=choices.StorageType.choices, blank=True)
    bandwidth_tb = models.PositiveIntegerField(_("bandwidth (TB/month)"), null=True, blank=True)
    bandwidth_unlimited = models.BooleanField(_("unlimited bandwidth"), default=False)
    sla_percent = models.DecimalField(_("SLA (%)"), max_digits=6, decimal_places=3, null=True, blank=True)

    # GPU.
    gpu_model = models.ForeignKey(
        GpuModel, on_delete=models.PROTECT, null=True, blank=True, related_name="offers", verbose_name=_("GPU model")
    )
    gpu_count = models.PositiveSmallIntegerField(_("GPU count"), null=True, blank=True)
    gpu_vram_gb = models.PositiveIntegerField(_("total VRAM (GB)"), null=True, blank=True)

    # Web hosting.
    web_sites = models.PositiveIntegerField(_("websites"), null=True, blank=True)
    web_sites_unlimited = models.BooleanField(_("unlimited websites"), default=False)
    web_databases = models.PositiveIntegerField(_("databases"), null=True, blank=True)
    web_databases_unlimited = models.BooleanField(_("unlimited databases"), default=False)
    web_mailboxes = models.PositiveIntegerField(_("mailboxes"), null=True, blank=True)
    web_mailboxes_unlimited = models.BooleanField(_("unlimited mailboxes"), default=False)

    # PaaS.
    paas_containers = models.PositiveIntegerField(_("containers"), null=True, blank=True)
    paas_kubernetes_cluster = models.BooleanField(
        _("Kubernetes cluster"), default=False, help_text=_("A whole cluster instead of a container count.")
    )
    paas_ram_per_container_gb = models.PositiveIntegerField(_("RAM per container (GB)"), null=True, blank=True)
    paas_ram_configurable = models.BooleanField(_("RAM configurable"), default=False)
    paas_deployments_per_day = models.PositiveIntegerField(_("deployments per day"), null=True, blank=True)
    paas_deployments_per_day_unlimited = models.BooleanField(_("unlimited deployments"), default=False)

    # Load balancer.
    lb_backends = models.PositiveIntegerField(_("backends"), null=True, blank=True)
    lb_backends_unlimited = models.BooleanField(_("unlimited backends"), default=False)
    lb_requests_per_second = models.PositiveIntegerField(_("requests per second"), null=True, blank=True)
    lb_requests_per_second_or_more = models.BooleanField(_("or more (requests/s)"), default=False)
    lb_protocols = models.JSONField(_("protocols"), default=list, blank=True)

    # Block storage (priced per GB per month).
    storage_iops_per_tb = models.PositiveIntegerField(_("IOPS per TB"), null=True, blank=True)
    storage_iops_per_tb_or_more = models.BooleanField(_("or more (IOPS)"), default=False)
    storage_latency_ms = models.DecimalField(
        _("latency below (ms)"), max_digits=6, decimal_places=3, null=True, blank=True
    )

    # CDN.
    cdn_pops = models.PositiveIntegerField(_("points of presence"), null=True, blank=True)
    cdn_pops_or_more = models.BooleanField(_("or more (PoPs)"), default=False)
    cdn_coverage = models.CharField(_("coverage"), max_length=16, choices=choices.CdnCoverage.choices, blank=True)
    cdn_traffic_tb = models.PositiveIntegerField(_("traffic included (TB)"), null=True, blank=True)
    cdn_waf = models.CharField(_("WAF"), max_length=16, choices=choices.WafLevel.choices, blank=True)

    # Operations.
    snapshot_quota = models.PositiveSmallIntegerField(
        _("snapshot quota"), default=0, help_text=_("Manual snapshots kept per instance (VM offers).")
    )

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["family__position", "position", "code"]
        constraints = [
            _unlimited_check("bandwidth_tb", "bandwidth_unlimited"),
            _unlimited_check("web_sites"),
            _unlimited_check("web_databases"),
            _unlimited_check("web_mailboxes"),
            _unlimited_check("paas_deployments_per_day"),
            _unlimited_check("lb_backends"),
            models.CheckConstraint(
                condition=Q(gpu_model__isnull=True, gpu_count__isnull=True)
                | Q(gpu_model__isnull=False, gpu_count__gte=1),
                name="offer_gpu_model_and_count_together",
            ),
        ]
        indexes = [models.Index(fields=["status", "family"])]

    def __str__(self) -> str:
        return self.code

    @property
    def is_gpu(self) -> bool:
        return self.gpu_model_id is not None

    @property
    def is_orderable(self) -> bool:
        return self.status in (choices.OfferStatus.ACTIVE, choices.OfferStatus.HIDDEN)


# Image slugs carry versions ("ubuntu-24.04"), so dots are allowed, unlike SlugField.
image_slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9.-]*\Z", _("Use lower-case letters, digits, dots and hyphens."), code="invalid_slug"
)


class OsImage(TimeStampedModel):
    """An operating system image customers can install (16 in the seed). Custom images are not offered yet."""

    slug = models.CharField(
        _("slug"), max_length=60, unique=True, validators=[image_slug_validator], help_text=_("e.g. ubuntu-24.04")
    )
    family = models.CharField(_("distribution"), max_length=40, help_text=_("e.g. Ubuntu"))
    version = models.CharField(_("version"), max_length=40, help_text=_("e.g. 24.04 LTS"))
    os_type = models.CharField(_("OS type"), max_length=16, choices=choices.OsType.choices)
    support = models.CharField(_("support"), max_length=16, choices=choices.ImageSupport.choices)
    windows_licensing = models.CharField(
        _("Windows licensing"),
        max_length=20,
        choices=choices.WindowsLicensing.choices,
        default=choices.WindowsLicensing.NOT_APPLICABLE,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=choices.ImageStatus.choices, default=choices.ImageStatus.AVAILABLE
    )
    min_ram_gb = models.PositiveIntegerField(_("minimum RAM (GB)"), default=1)
    min_disk_gb = models.PositiveIntegerField(_("minimum disk (GB)"), default=10)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("OS image")
        verbose_name_plural = _("OS images")
        ordering = ["position", "family", "version"]

    def __str__(self) -> str:
        return f"{self.family} {self.version}"


class GpuSoftwareStack(TimeStampedModel):
    """A GPU image variant: a base image with CUDA, cuDNN, TensorRT and ML frameworks."""

    slug = models.CharField(
        _("slug"), max_length=60, unique=True, validators=[image_slug_validator], help_text=_("e.g. rocky-9-cuda-11.8")
    )
    name = models.CharField(_("name"), max_length=120)
    base_image = models.ForeignKey(OsImage, on_delete=models.PROTECT, related_name="gpu_stacks")
    cuda_version = models.CharField(_("CUDA"), max_length=20)
    cudnn_version = models.CharField(_("cuDNN"), max_length=20, blank=True)
    tensorrt_version = models.CharField(_("TensorRT"), max_length=20, blank=True)
    frameworks = models.JSONField(_("frameworks"), default=list, blank=True)
    tools = models.JSONField(_("tools"), default=list, blank=True)
    container_runtime = models.CharField(_("container runtime"), max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=choices.ImageStatus.choices, default=choices.ImageStatus.AVAILABLE
    )

    class Meta:
        verbose_name = _("GPU software stack")
        verbose_name_plural = _("GPU software stacks")
        ordering = ["base_image__position", "cuda_version"]

    def __str__(self) -> str:
        return self.name


class CapacityEnvelope(TimeStampedModel):
    """How much of a resource may be sold: physical capacity x oversell x target utilisation.

    One row per resource (and per GPU model for GPUs). The seed's global
    figures are kept for reference; the fleet's per-datacentre capacity is
    multiplied by ``oversell_ratio`` and ``target_utilisation`` to give what is
    sellable there.
    """

    resource = models.CharField(_("resource"), max_length=16, choices=choices.CapacityResource.choices)
    gpu_model = models.ForeignKey(
        GpuModel, on_delete=models.PROTECT, null=True, blank=True, related_name="capacity_envelopes"
    )
    oversell_ratio = models.DecimalField(
        _("oversell ratio"), max_digits=5, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(1)]
    )
    target_utilisation = models.DecimalField(
        _("target utilisation"),
        max_digits=4,
        decimal_places=3,
        help_text=_("Fraction of (physical x oversell) that may be sold, e.g. 0.700."),
    )
    physical_capacity = models.DecimalField(
        _("physical capacity (seed)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    unit = models.CharField(_("unit"), max_length=16, blank=True, help_text=_("vCPU, GB, GPU"))
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("capacity envelope")
        verbose_name_plural = _("capacity envelopes")
        ordering = ["resource", "gpu_model__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource"], condition=Q(gpu_model__isnull=True), name="uniq_envelope_per_resource"
            ),
            models.UniqueConstraint(
                fields=["resource", "gpu_model"], condition=Q(gpu_model__isnull=False), name="uniq_envelope_per_gpu"
            ),
            models.CheckConstraint(
                condition=Q(target_utilisation__gt=0, target_utilisation__lte=1), name="envelope_target_in_0_1"
            ),
            models.CheckConstraint(
                condition=Q(resource="gpu", gpu_model__isnull=False) | (~Q(resource="gpu") & Q(gpu_model__isnull=True)),
                name="envelope_gpu_model_iff_gpu",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_resource_display()} {self.gpu_model or ''}".strip()

    @property
    def sellable_fraction(self) -> Decimal:
        return self.oversell_ratio * self.target_utilisation

    def sellable(self, physical: Decimal | int) -> Decimal:
        """Sellable amount of ``physical`` units under this envelope."""
        return Decimal(physical) * self.sellable_fraction
