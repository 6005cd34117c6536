"""The Proxmox VE fleet as the platform knows it, and what placement reserved on it.

Inventory (clusters, nodes, GPU devices, storages, templates) is pulled from
each cluster by ``services.inventory_sync``; staff own the fields the cluster
cannot know (maintenance, GPU model assignment, storage tier). The ledger
(GPU states, node allocation counters, VMID and IP allocations, reservations)
is the platform's own: Proxmox has no way to reserve a GPU or a VMID
(docs/dev/proxmox-behaviour.md#gpu-allocation, #vmid-allocation), so placement keeps the truth here, under row locks.

Units: RAM and storage in GB (decimal, as the catalogue writes them); vCPU in
logical CPUs as PVE's ``maxcpu`` reports them.
"""

from __future__ import annotations

import ipaddress
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre, GpuModel, GpuSoftwareStack, Offer, OsImage
from apps.core.models import TimeStampedModel
from apps.infrastructure import choices
from apps.infrastructure.rules import crypto

# The platform's VMID range by default (docs/dev/proxmox-behaviour.md#vmid-allocation: humans keep 100..99999 in
# datacenter.cfg ``next-id: lower=100,upper=100000``).
DEFAULT_VMID_START = 100_000
DEFAULT_VMID_END = 899_999
# PVE's ``pve-storage-id`` format (pve-storage PVE/JSONSchema: ``[a-z][a-z0-9\-\_\.]*[a-z0-9]``).
SNIPPETS_STORAGE_RE = r"^[a-z][a-z0-9\-_.]*[a-z0-9]$"


class Cluster(TimeStampedModel):
    """A Proxmox VE cluster the platform drives through one API token.

    The token secret is stored encrypted (``crypto``): it is written through
    ``set_token_secret`` and read back only by the driver factory. TLS trust is
    a CA bundle (PEM stored here, or a file on the workers, e.g. the simulator's
    ``var/pvesim/ca.pem``), else the system CAs; the certificate's SHA-256
    fingerprint is recorded for staff to compare.
    """

    name = models.CharField(_("name"), max_length=64, unique=True)
    datacentre = models.ForeignKey(
        Datacentre, on_delete=models.PROTECT, related_name="clusters", verbose_name=_("datacentre")
    )
    api_url = models.URLField(
        _("API URL"), max_length=255, help_text=_("e.g. https://pve1.par1.vmcloud.internal:8006/api2/json")
    )
    token_id = models.CharField(
        _("API token id"), max_length=128, help_text=_("user@realm!tokenname, e.g. vmcloud@pve!portal")
    )
    token_secret_encrypted = models.TextField(_("API token secret (encrypted)"), editable=False, default="")
    tls_ca_pem = models.TextField(_("TLS CA (PEM)"), blank=True, help_text=_("CA that signed the API certificate."))
    tls_ca_file = models.CharField(
        _("TLS CA file"),
        max_length=255,
        blank=True,
        help_text=_("Path of a CA bundle on the workers, read at each call (when no PEM is stored)."),
    )
    tls_fingerprint = models.CharField(
        _("TLS fingerprint"),
        max_length=128,
        blank=True,
        help_text=_("SHA-256 fingerprint of the API certificate (AA:BB:...), when no CA is given."),
    )
    vmid_range_start = models.PositiveIntegerField(
        _("first VMID"), default=DEFAULT_VMID_START, validators=[MinValueValidator(100)]
    )
    vmid_range_end = models.PositiveIntegerField(_("last VMID"), default=DEFAULT_VMID_END)
    # The last VMID handed out: VMIDs go round-robin so a freed VMID is not
    # reused at once (a stale task or log line would be ambiguous).
    vmid_cursor = models.PositiveIntegerField(_("last VMID handed out"), default=0, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=choices.ClusterStatus.choices, default=choices.ClusterStatus.ACTIVE
    )
    sync_status = models.CharField(
        _("sync status"), max_length=16, choices=choices.SyncStatus.choices, default=choices.SyncStatus.NEVER
    )
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_sync_error = models.TextField(_("last sync error"), blank=True)
    # cloud-init user-data travels as a snippet file (``cicustom``, docs/dev/proxmox-behaviour.md#vm-config): PVE's API
    # cannot upload snippets, so the workers write them into a shared storage every node also mounts.
    snippets_storage = models.CharField(
        _("snippets storage"),
        max_length=64,
        blank=True,
        default="",
        validators=[RegexValidator(SNIPPETS_STORAGE_RE, _("A PVE storage id, e.g. snippets-nfs."))],
        help_text=_(
            "PVE storage with 'snippets' content, shared by every node (NFS, CephFS), e.g. snippets-nfs. "
            "Empty: customers cannot give cloud-init user-data in this cluster."
        ),
    )
    snippets_path = models.CharField(
        _("snippets path on the workers"),
        max_length=255,
        blank=True,
        default="",
        help_text=_(
            "Absolute path where the platform's workers mount that storage's root, e.g. /mnt/pve/snippets-nfs; "
            "files are written into its snippets/ directory."
        ),
    )

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        ordering = ["datacentre__position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vmid_range_start__lt=models.F("vmid_range_end")), name="cluster_vmid_range_ordered"
            ),
            models.CheckConstraint(
                condition=Q(vmid_range_start__gte=100, vmid_range_end__lte=999_999_999),
                name="cluster_vmid_range_in_pve_bounds",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.vmid_range_start and self.vmid_range_end and self.vmid_range_start >= self.vmid_range_end:
            raise ValidationError({"vmid_range_end": _("The last VMID must be above the first.")})
        if bool(self.snippets_storage) != bool(self.snippets_path):
            field = "snippets_path" if self.snippets_storage else "snippets_storage"
            raise ValidationError({field: _("Give both the snippets storage and its path, or neither.")})
        if self.snippets_path and not self.snippets_path.startswith("/"):
            raise ValidationError({"snippets_path": _("Give an absolute path, e.g. /mnt/pve/snippets-nfs.")})

    @property
    def has_snippets(self) -> bool:
        """Whether cloud-init user-data can be delivered to VMs of this cluster."""
        return bool(self.snippets_storage and self.snippets_path)

    def set_token_secret(self, secret: str) -> None:
        """Store ``secret`` encrypted (the caller saves the row)."""
        self.token_secret_encrypted = crypto.encrypt(secret)

    def get_token_secret(self) -> str:
        """The decrypted secret; raises ``crypto.DecryptionError`` if no configured key fits."""
        return crypto.decrypt(self.token_secret_encrypted) if self.token_secret_encrypted else ""

    @property
    def has_token_secret(self) -> bool:
        return bool(self.token_secret_encrypted)


class Node(TimeStampedModel):
    """A Proxmox node (server). Placement uses only online nodes out of maintenance.

    ``allocated_*`` are the ledger's counters of what reservations hold on the
    node (disk is counted on ``Storage``, which may be shared); placement
    raises them with a conditional UPDATE (the row lock that
    UPDATE takes serialises placements on one node), release lowers them.
    ``services.node_recount`` rebuilds them from the reservations.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="nodes", verbose_name=_("cluster"))
    datacentre = models.ForeignKey(
        Datacentre, on_delete=models.PROTECT, related_name="nodes", verbose_name=_("datacentre")
    )
    name = models.CharField(_("name"), max_length=64, help_text=_("The PVE node name."))
    cpu_model = models.CharField(_("CPU model"), max_length=120, blank=True)
    cores = models.PositiveIntegerField(
        _("logical CPUs"), default=0, help_text=_("PVE maxcpu: threads, before oversell.")
    )
    ram_gb = models.PositiveIntegerField(_("RAM (GB)"), default=0)
    gpu_count = models.PositiveSmallIntegerField(_("GPUs"), default=0, help_text=_("Set by the sync."))
    status = models.CharField(
        _("status"), max_length=16, choices=choices.NodeStatus.choices, default=choices.NodeStatus.UNKNOWN
    )
    maintenance = models.BooleanField(
        _("maintenance (drained)"), default=False, help_text=_("Drained nodes receive no new VMs. Staff-owned.")
    )
    maintenance_reason = models.CharField(_("maintenance reason"), max_length=200, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    missing_since = models.DateTimeField(
        _("missing since"), null=True, blank=True, help_text=_("Drift: the cluster no longer lists this node.")
    )
    allocated_vcpu = models.PositiveIntegerField(_("allocated vCPU"), default=0)
    allocated_ram_gb = models.PositiveIntegerField(_("allocated RAM (GB)"), default=0)

    class Meta:
        verbose_name = _("node")
        verbose_name_plural = _("nodes")
        ordering = ["cluster__name", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "name"], name="uniq_node_name_per_cluster")]
        indexes = [models.Index(fields=["datacentre", "status", "maintenance"])]

    def __str__(self) -> str:
        return f"{self.cluster.name}/{self.name}" if self.cluster_id else self.name

    @property
    def accepts_vms(self) -> bool:
        return self.status == choices.NodeStatus.ONLINE and not self.maintenance and self.missing_since is None


class Reservation(models.Model):
    """What placement reserved for one VM: node, GPUs, VMID and addresses.

    Created ``reserved`` by ``placement_reserve``; ``committed`` once the VM
    exists; ``released`` when the VM is gone or the order failed. The holder
    (an instance, higher up) is referred to by ``holder_ref`` only, so this app
    never imports the apps above it. ``vcpu``/``ram_gb``/``disk_gb`` are what
    was added to the node's counters, so release subtracts exactly that.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=choices.ReservationState.choices,
        default=choices.ReservationState.RESERVED,
        db_index=True,
    )
    holder_ref = models.UUIDField(_("holder"), null=True, blank=True, db_index=True)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="+", verbose_name=_("offer"))
    datacentre = models.ForeignKey(Datacentre, on_delete=models.PROTECT, related_name="+")
    os_image = models.ForeignKey(OsImage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    gpu_stack = models.ForeignKey(GpuSoftwareStack, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="reservations")
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="reservations")
    storage = models.ForeignKey("Storage", on_delete=models.PROTECT, null=True, blank=True, related_name="reservations")
    template = models.ForeignKey(
        "VmTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("template")
    )
    vmid = models.PositiveIntegerField(_("VMID"))
    ipv4 = models.GenericIPAddressField(_("IPv4"), protocol="IPv4", null=True, blank=True)
    ipv6 = models.GenericIPAddressField(_("IPv6"), protocol="IPv6", null=True, blank=True)
    vcpu = models.PositiveIntegerField(_("vCPU"), default=0)
    ram_gb = models.PositiveIntegerField(_("RAM (GB)"), default=0)
    disk_gb = models.PositiveIntegerField(_("disk (GB)"), default=0)
    gpu_model = models.ForeignKey(GpuModel, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    gpu_count = models.PositiveSmallIntegerField(_("GPUs"), default=0)
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-created_at"]
        constraints = [
            # A VMID belongs to at most one live reservation per cluster.
            models.UniqueConstraint(
                fields=["cluster", "vmid"],
                condition=~Q(state="released"),
                name="uniq_live_reservation_vmid",
            ),
            models.CheckConstraint(
                condition=Q(state="released", released_at__isnull=False) | (~Q(state="released")),
                name="reservation_released_has_time",
            ),
        ]
        indexes = [models.Index(fields=["node", "state"])]

    def __str__(self) -> str:
        return f"VMID {self.vmid} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.state != choices.ReservationState.RELEASED


class GpuDevice(TimeStampedModel):
    """One physical GPU (a PCI function group) on a node, and its place in the ledger.

    Matched by node + PCI address at each sync. ``mapping_name`` is the cluster
    PCI resource mapping that holds this device (docs/dev/proxmox-behaviour.md#pci-mappings): VMs name the
    mapping (``hostpci0=mapping=<id>,pcie=1``), never the address, because API
    tokens may not pass raw addresses (docs/dev/proxmox-behaviour.md#hostpci). A GPU that disappears from the
    cluster gets ``missing_since`` and is never deleted.
    """

    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="gpus", verbose_name=_("node"))
    pci_address = models.CharField(_("PCI address"), max_length=32, help_text=_("e.g. 0000:41:00.0"))
    vendor_id = models.CharField(_("vendor id"), max_length=8, help_text=_("e.g. 10de"))
    device_id = models.CharField(_("device id"), max_length=8, help_text=_("e.g. 20b5"))
    device_name = models.CharField(_("device name"), max_length=200, blank=True)
    gpu_model = models.ForeignKey(
        GpuModel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("GPU model"),
        help_text=_("Set by the sync from the PCI ids when empty; staff-owned once set."),
    )
    iommu_group = models.IntegerField(_("IOMMU group"), null=True, blank=True)
    nvlink_peer_group = models.CharField(
        _("NVLink peer group"),
        max_length=64,
        blank=True,
        help_text=_("GPUs of one node bridged by NVLink share a label; multi-GPU VMs get peers first."),
    )
    mapping_name = models.CharField(_("PCI mapping"), max_length=64, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=choices.GpuState.choices, default=choices.GpuState.FREE, db_index=True
    )
    state_reason = models.CharField(_("state reason"), max_length=200, blank=True)
    reservation = models.ForeignKey(Reservation, on_delete=models.SET_NULL, null=True, blank=True, related_name="gpus")
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    missing_since = models.DateTimeField(
        _("missing since"), null=True, blank=True, help_text=_("Drift: the node no longer reports this device.")
    )

    class Meta:
        verbose_name = _("GPU device")
        verbose_name_plural = _("GPU devices")
        ordering = ["node__name", "pci_address"]
        constraints = [
            models.UniqueConstraint(fields=["node", "pci_address"], name="uniq_gpu_per_node_address"),
            models.CheckConstraint(
                condition=~Q(state__in=["reserved", "in_use"]) | Q(reservation__isnull=False),
                name="gpu_held_has_reservation",
            ),
            models.CheckConstraint(
                condition=~Q(state="free") | Q(reservation__isnull=True), name="gpu_free_has_no_reservation"
            ),
        ]
        indexes = [models.Index(fields=["gpu_model", "state", "node"])]

    def __str__(self) -> str:
        return f"{self.node.name} {self.pci_address}" if self.node_id else self.pci_address


class Storage(TimeStampedModel):
    """A PVE storage: local to a node (``node`` set) or shared by the cluster (``node`` empty).

    Storages holding VM disks (``images`` content) and ``enabled`` receive the
    disks of new VMs; ``allocated_gb`` is the ledger's counter, raised by
    placement with a conditional UPDATE like the node counters.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="storages")
    node = models.ForeignKey(Node, on_delete=models.PROTECT, null=True, blank=True, related_name="storages")
    name = models.CharField(_("storage id"), max_length=64)
    type = models.CharField(_("type"), max_length=32, blank=True, help_text=_("PVE plugin type: lvmthin, zfspool, rbd"))
    content = models.CharField(_("content"), max_length=200, blank=True, help_text=_("images,rootdir,..."))
    shared = models.BooleanField(_("shared"), default=False)
    tier = models.CharField(
        _("tier"),
        max_length=16,
        choices=choices.StorageTier.choices,
        default=choices.StorageTier.UNKNOWN,
        help_text=_("Staff-owned: the sync never changes it."),
    )
    capacity_gb = models.PositiveIntegerField(_("capacity (GB)"), default=0)
    used_gb = models.PositiveIntegerField(_("used (GB)"), default=0)
    enabled = models.BooleanField(_("used for VM disks"), default=True)
    allocated_gb = models.PositiveIntegerField(
        _("allocated (GB)"), default=0, help_text=_("What reservations hold on it (the ledger, not PVE's usage).")
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    missing_since = models.DateTimeField(_("missing since"), null=True, blank=True)

    class Meta:
        verbose_name = _("storage")
        verbose_name_plural = _("storages")
        ordering = ["cluster__name", "name", "node__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "node", "name"], condition=Q(node__isnull=False), name="uniq_local_storage"
            ),
            models.UniqueConstraint(
                fields=["cluster", "name"], condition=Q(node__isnull=True), name="uniq_shared_storage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.node.name}" if self.node_id and self.node else f"{self.name} (shared)"

    @property
    def holds_vm_disks(self) -> bool:
        return "images" in self.content.split(",")


class VmTemplate(TimeStampedModel):
    """A PVE template VM placement clones from, for one OS image (and GPU stack).

    ``node`` empty means the template's disks are on shared storage and any
    node of the cluster can clone it (``clone ... target=<node>``); otherwise
    only VMs on that node use it (docs/dev/proxmox-behaviour.md#gpu-allocation: a per-node template).
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="templates")
    node = models.ForeignKey(Node, on_delete=models.PROTECT, null=True, blank=True, related_name="templates")
    vmid = models.PositiveIntegerField(_("VMID"))
    name = models.CharField(_("name"), max_length=128)
    os_image = models.ForeignKey(
        OsImage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vm_templates",
        verbose_name=_("OS image"),
        help_text=_("Matched by the sync from the template's name or tags; staff-owned once set."),
    )
    gpu_stack = models.ForeignKey(
        GpuSoftwareStack, on_delete=models.PROTECT, null=True, blank=True, related_name="vm_templates"
    )
    gpu_ready = models.BooleanField(
        _("for GPU VMs"),
        default=False,
        help_text=_("OVMF/q35 template with the GPU drivers; GPU offers clone only these (tag 'gpu')."),
    )
    disk_gb = models.PositiveIntegerField(_("disk (GB)"), default=0)
    uefi_ready = models.BooleanField(
        _("UEFI-ready"),
        null=True,
        blank=True,
        help_text=_(
            "Set by the inventory sync: OVMF firmware and a persistent EFI disk without Secure Boot keys, "
            "as GPU VMs need. Empty: not checked yet."
        ),
    )
    uefi_problem = models.CharField(_("UEFI problem"), max_length=200, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    missing_since = models.DateTimeField(_("missing since"), null=True, blank=True)

    class Meta:
        verbose_name = _("VM template")
        verbose_name_plural = _("VM templates")
        ordering = ["cluster__name", "vmid"]
        constraints = [models.UniqueConstraint(fields=["cluster", "vmid"], name="uniq_template_vmid_per_cluster")]

    def __str__(self) -> str:
        return f"{self.name} ({self.vmid})"


class IpPool(TimeStampedModel):
    """An IPv4 or IPv6 subnet of a datacentre that VMs get addresses from.

    Addresses are handed out round-robin after ``cursor`` (the offset in the
    subnet last handed out), skipping the network, gateway and broadcast addresses and every
    address with an ``IpAllocation`` row; staff block an address by adding an
    allocation with no reservation.
    """

    datacentre = models.ForeignKey(Datacentre, on_delete=models.PROTECT, related_name="ip_pools")
    name = models.CharField(_("name"), max_length=64, blank=True)
    family = models.PositiveSmallIntegerField(_("family"), choices=choices.IpFamily.choices)
    cidr = models.CharField(_("subnet"), max_length=64, help_text=_("e.g. 203.0.113.0/24 or 2001:db8:10::/64"))
    gateway = models.GenericIPAddressField(_("gateway"))
    dns_servers = models.JSONField(_("DNS servers"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    cursor = models.BigIntegerField(_("last offset handed out"), default=0, editable=False)

    class Meta:
        verbose_name = _("IP pool")
        verbose_name_plural = _("IP pools")
        ordering = ["datacentre__position", "family", "cidr"]
        constraints = [models.UniqueConstraint(fields=["cidr"], name="uniq_ip_pool_cidr")]

    def __str__(self) -> str:
        return f"{self.datacentre_id and self.datacentre} {self.cidr}"

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr, strict=True)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        try:
            network = ipaddress.ip_network(self.cidr, strict=True)
        except ValueError as exc:
            raise ValidationError({"cidr": str(exc)}) from exc
        if network.version != self.family:
            errors["family"] = _("The subnet is not of this family.")
        if self.gateway and ipaddress.ip_address(self.gateway) not in network:
            errors["gateway"] = _("The gateway must be inside the subnet.")
        for server in self.dns_servers or []:
            try:
                ipaddress.ip_address(server)
            except ValueError:
                errors["dns_servers"] = _("Each DNS server must be an IP address.")
        if errors:
            raise ValidationError(errors)


class IpAllocation(models.Model):
    """One address taken from a pool: by a reservation, or blocked by staff (no reservation)."""

    pool = models.ForeignKey(IpPool, on_delete=models.PROTECT, related_name="allocations")
    address = models.GenericIPAddressField(_("address"), unique=True)
    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, null=True, blank=True, related_name="ip_allocations"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("IP allocation")
        verbose_name_plural = _("IP allocations")
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address


class VmidAllocation(models.Model):
    """One VMID of a cluster's platform range: held by a reservation, or blocked by staff.

    The unique constraint is the guard: PVE's ``/cluster/nextid`` reserves
    nothing (docs/dev/proxmox-behaviour.md#vmid-allocation), so two workers can only be kept apart here.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="vmid_allocations")
    vmid = models.PositiveIntegerField(_("VMID"))
    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, null=True, blank=True, related_name="vmid_allocations"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("VMID allocation")
        verbose_name_plural = _("VMID allocations")
        ordering = ["vmid"]
        constraints = [models.UniqueConstraint(fields=["cluster", "vmid"], name="uniq_vmid_per_cluster")]

    def __str__(self) -> str:
        return f"{self.cluster_id and self.cluster}:{self.vmid}"


class SyncReport(models.Model):
    """The outcome of one inventory sync of a cluster: counts and the drift found."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="sync_reports")
    started_at = models.DateTimeField(_("started at"), db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=choices.SyncStatus.choices)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    drift = models.JSONField(_("drift"), default=list, blank=True, help_text=_("One entry per difference found."))
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("sync report")
        verbose_name_plural = _("sync reports")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.cluster_id and self.cluster} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class DatacentreCapacity(Datacentre):
    """Proxy of a datacentre whose admin page is the capacity dashboard (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("capacity dashboard")
        verbose_name_plural = _("capacity dashboard")


class ClusterStorage(TimeStampedModel):
    """The PVE storage a cluster declares for one block storage tier (a STORAGE-* offer), set by staff.

    Customer volumes of that tier are allocated there, owned by the reserved
    ``holder_vmid`` so that no server's destroy can free them
    (docs/dev/proxmox-behaviour.md#volume-keeping). ``reserved_gb`` is the
    platform's ledger of what volumes hold (raised under this row's lock by
    ``apps.volumes``); it may not pass ``envelope_gb``: ``envelope_ratio`` of
    ``capacity_gb`` (the catalogue's 60 % of 100 TB). ``capacity_gb`` and
    ``free_gb`` are refreshed from ``GET /nodes/{node}/storage/{storage}/status``
    by ``services.volume_storage.cluster_storage_sync``.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="tier_storages")
    tier = models.ForeignKey(
        Offer,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tier"),
        limit_choices_to={"family__slug": "storage"},
        help_text=_("A STORAGE-* offer of the Storage family."),
    )
    storage = models.CharField(
        _("storage id"),
        max_length=64,
        validators=[RegexValidator(SNIPPETS_STORAGE_RE, _("Not a PVE storage id."))],
        help_text=_("The PVE storage holding this tier's volumes, e.g. ceph-nvme."),
    )
    node_name = models.CharField(
        _("node"),
        max_length=64,
        help_text=_("The node whose API allocates and frees volumes (any node of a shared storage)."),
    )
    shared = models.BooleanField(
        _("shared"), default=True, help_text=_("Shared storages attach to servers on any node; local ones only there.")
    )
    holder_vmid = models.PositiveIntegerField(
        _("holder VMID"),
        help_text=_("Reserved VMID that owns every volume of this storage; never given to a server."),
    )
    capacity_gb = models.PositiveIntegerField(_("capacity (GB)"), default=100_000)
    free_gb = models.PositiveIntegerField(_("free (GB)"), default=0, help_text=_("Set by the sync."))
    envelope_ratio = models.DecimalField(
        _("envelope"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.600"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Share of the capacity volumes may reserve."),
    )
    reserved_gb = models.PositiveBigIntegerField(
        _("reserved (GB)"), default=0, help_text=_("What volumes hold (the ledger, not PVE's usage).")
    )
    enabled = models.BooleanField(_("takes new volumes"), default=True)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_sync_error = models.CharField(_("last sync error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("storage per tier")
        verbose_name_plural = _("storages per tier")
        ordering = ["cluster__name", "tier__position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "tier"], name="uniq_cluster_storage_tier"),
        ]

    def __str__(self) -> str:
        return f"{self.storage} ({self.tier_id}) on {self.cluster_id}"

    @property
    def envelope_gb(self) -> int:
        return int(self.capacity_gb * self.envelope_ratio)
