"""Enumerations of the catalogue, shared by models, the API and templates."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FamilyKind(models.TextChoices):
    """How an offer of the family is delivered."""

    VIRTUAL_MACHINE = "vm", _("Virtual machine (automated on Proxmox)")
    MANAGED_SERVICE = "service", _("Managed service (fulfilled by staff)")


class Tier(models.TextChoices):
    STARTER = "starter", _("Starter")
    PRO = "pro", _("Pro")
    BUSINESS = "business", _("Business")
    ENTERPRISE = "enterprise", _("Enterprise")
    PREMIUM = "premium", _("Premium")


class OfferStatus(models.TextChoices):
    ACTIVE = "active", _("Active")  # listed and orderable
    HIDDEN = "hidden", _("Hidden")  # orderable by direct code, not listed
    RETIRED = "retired", _("Retired")  # no new orders; existing resources keep running


class HourlyPriceRule(models.TextChoices):
    """Where an offer's hourly price comes from (see ``apps.catalogue.rules.pricing``)."""

    DERIVED = "derived", _("Derived: monthly price / 730")
    LIST = "list", _("List price (set by staff, e.g. GPU offers)")


class BillingUnit(models.TextChoices):
    MONTH = "month", _("per month")
    GB_MONTH = "gb_month", _("per GB per month")


class StorageType(models.TextChoices):
    NVME = "nvme", _("NVMe")
    SSD_SATA = "ssd_sata", _("SSD SATA")
    NVME_PCIE3 = "nvme_pcie3", _("NVMe PCIe 3.0")
    NVME_PCIE4 = "nvme_pcie4", _("NVMe PCIe 4.0")
    NVME_RAID10 = "nvme_raid10", _("NVMe RAID 10")


class CdnCoverage(models.TextChoices):
    EUROPE = "europe", _("Europe")
    EU_US = "eu_us", _("EU/US")
    WORLDWIDE = "worldwide", _("Worldwide")


class WafLevel(models.TextChoices):
    NONE = "none", _("None")
    BASIC = "basic", _("Basic")
    ADVANCED = "advanced", _("Advanced")
    CUSTOM_RULES = "custom_rules", _("Custom rules")


class ImageSupport(models.TextChoices):
    OFFICIAL = "official", _("Official")
    COMMUNITY = "community", _("Community")


class OsType(models.TextChoices):
    LINUX = "linux", _("Linux")
    WINDOWS = "windows", _("Windows")


class WindowsLicensing(models.TextChoices):
    NOT_APPLICABLE = "n/a", _("Not applicable")
    BYOL_OR_INCLUDED = "byol_or_included", _("Bring your own licence, or licence included")


class ImageStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    DEPRECATED = "deprecated", _("Deprecated")


class DatacentreStatus(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    MAINTENANCE = "maintenance", _("Maintenance")


class GpuPresence(models.TextChoices):
    AVAILABLE = "available", _("Available")
    PLANNED = "planned", _("Planned")


class CapacityResource(models.TextChoices):
    VCPU = "vcpu", _("vCPU")
    RAM = "ram", _("RAM")
    GPU = "gpu", _("GPU")
    STORAGE = "storage", _("Storage")
