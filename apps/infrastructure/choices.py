"""Enumerations of the infrastructure app, shared by models, the API and templates."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClusterStatus(models.TextChoices):
    ACTIVE = "active", _("Active")  # synced and used by placement
    DISABLED = "disabled", _("Disabled")  # neither synced nor used by placement


class SyncStatus(models.TextChoices):
    NEVER = "never", _("Never synced")
    OK = "ok", _("In sync")
    DRIFT = "drift", _("Synced, with drift")
    FAILED = "failed", _("Failed")


class NodeStatus(models.TextChoices):
    # The values of PVE's GET /nodes `status` (docs/dev/proxmox-behaviour.md#discovery).
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")
    UNKNOWN = "unknown", _("Unknown")


class GpuState(models.TextChoices):
    FREE = "free", _("Free")
    RESERVED = "reserved", _("Reserved")  # held by a reservation, VM not delivered yet
    IN_USE = "in_use", _("In use")  # the reservation was committed: a VM owns it
    FAULTY = "faulty", _("Faulty")  # taken out of service by staff or by drift


class StorageTier(models.TextChoices):
    NVME = "nvme", _("NVMe")
    SSD = "ssd", _("SSD")
    HDD = "hdd", _("HDD")
    UNKNOWN = "unknown", _("Unknown")


class IpFamily(models.IntegerChoices):
    V4 = 4, _("IPv4")
    V6 = 6, _("IPv6")


class ReservationState(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    COMMITTED = "committed", _("Committed")
    RELEASED = "released", _("Released")


class UnavailableCode:
    """Stable error codes of ``Unavailable`` raised by placement (public API contract)."""

    NOT_ORDERABLE = "offer_not_orderable"
    NOT_IN_DATACENTRE = "offer_not_in_datacentre"
    DATACENTRE_MAINTENANCE = "datacentre_maintenance"
    NO_CAPACITY = "no_capacity"
    GPU_ENVELOPE = "gpu_envelope_reached"
    NO_TEMPLATE = "no_template"
    NO_VMID = "no_vmid"
    NO_IPV4 = "no_ipv4"
    NO_IPV6 = "no_ipv6"
