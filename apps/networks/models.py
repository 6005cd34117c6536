"""Private networks on Proxmox SDN (issue 13, "Private networks").

* ``NetworkZone``: the SDN zone staff configure on a cluster (one per cluster);
  every customer network of that cluster is a VNet in it.
* ``Network``: a customer's network, in one project and one datacentre, with an
  RFC 1918 range, one VNet (``vnet``) and a ``tag`` (VLAN id or VXLAN VNI)
  unique per cluster among live networks: the database refuses a second one, so
  two creates racing for one tag give one network and a retry for the other;
  two organisations never share a VNet.
* ``Subnet``: a block of the range servers get addresses from.
* ``Attachment``: a server's card on a network (``net<nic_index>``) with its
  address. A live attachment holds its address (unique per subnet) and its NIC
  slot (unique per server); a detached one stays as history.
* ``NetworkQuota``: staff-editable limits per organisation.
"""

from __future__ import annotations

import ipaddress
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre
from apps.core.models import TimeStampedModel
from apps.infrastructure.models import Cluster
from apps.instances.models import Instance
from apps.networks import choices
from apps.teams.models import Organisation, Project

SDN_ID = RegexValidator(r"^[a-z][a-z0-9]{0,7}$", _("1 to 8 lower-case letters and digits, starting with a letter."))
LIVE = ~Q(status=choices.AttachmentStatus.DETACHED)
NOT_DELETED = ~Q(status=choices.NetworkStatus.DELETED)


class NetworkZone(TimeStampedModel):
    """The SDN zone of a cluster that holds its customer networks (docs/dev/proxmox-behaviour.md#sdn-zones)."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="network_zone")
    name = models.CharField(_("zone id"), max_length=8, validators=[SDN_ID], help_text=_("e.g. vmcnets"))
    zone_type = models.CharField(_("type"), max_length=8, choices=choices.ZoneType.choices, default="vxlan")
    options = models.JSONField(
        _("zone options"),
        default=dict,
        blank=True,
        help_text=_(
            'Options PVE needs for the type, e.g. {"peers": "10.10.0.1,10.10.0.2"} for vxlan, '
            '{"bridge": "vmbr1"} for vlan, {"mtu": 1450}.'
        ),
    )
    tag_min = models.PositiveIntegerField(_("first tag"), default=1000)
    tag_max = models.PositiveIntegerField(_("last tag"), default=4000)
    enabled = models.BooleanField(_("enabled"), default=True, help_text=_("Off: no new network on this cluster."))

    class Meta:
        verbose_name = _("SDN zone")
        verbose_name_plural = _("SDN zones")
        constraints = [models.CheckConstraint(condition=Q(tag_min__lte=models.F("tag_max")), name="zone_tag_range")]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone_type}) on {self.cluster}"


class Network(TimeStampedModel):
    """A customer's private network (one VNet of its cluster's zone)."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="networks", verbose_name=_("organisation")
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="networks", verbose_name=_("project"))
    name = models.CharField(_("name"), max_length=63)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    datacentre = models.ForeignKey(Datacentre, on_delete=models.PROTECT, related_name="+", verbose_name=_("datacentre"))
    ip_range = models.CharField(_("IP range"), max_length=18)
    status = models.CharField(
        _("status"), max_length=12, choices=choices.NetworkStatus.choices, default=choices.NetworkStatus.CREATING
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="networks", verbose_name=_("cluster"))
    zone = models.ForeignKey(NetworkZone, on_delete=models.PROTECT, related_name="networks", verbose_name=_("zone"))
    vnet = models.CharField(_("VNet"), max_length=8)
    tag = models.PositiveIntegerField(_("tag (VLAN id / VNI)"))
    current_upid = models.CharField(_("current task"), max_length=200, blank=True)
    error_message = models.CharField(_("error (customer)"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("network")
        verbose_name_plural = _("networks")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], condition=NOT_DELETED, name="uniq_network_name"),
            models.UniqueConstraint(fields=["cluster", "tag"], condition=NOT_DELETED, name="uniq_network_tag"),
            models.UniqueConstraint(fields=["cluster", "vnet"], condition=NOT_DELETED, name="uniq_network_vnet"),
        ]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.ip_range})"

    @property
    def holds_project(self) -> bool:
        """A deleted network is history (teams.project_delete)."""
        return self.status != choices.NetworkStatus.DELETED

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.ip_range)


class Subnet(models.Model):
    """A block of a network's range that servers get addresses from."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="subnets", verbose_name=_("network"))
    cidr = models.CharField(_("subnet"), max_length=18)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("subnet")
        verbose_name_plural = _("subnets")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["network", "cidr"], name="uniq_subnet_cidr")]

    def __str__(self) -> str:
        return self.cidr

    @property
    def block(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)


class Attachment(models.Model):
    """A server's card on a network and its address; kept (detached) as history when it leaves."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("network")
    )
    # SET_NULL: a subnet is deleted only when no live card uses it; its detached cards stay as history.
    subnet = models.ForeignKey(
        Subnet, on_delete=models.SET_NULL, null=True, related_name="attachments", verbose_name=_("subnet")
    )
    instance = models.ForeignKey(
        Instance, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("server")
    )
    server_name = models.CharField(_("server name"), max_length=63, blank=True)
    address = models.GenericIPAddressField(_("address"), protocol="IPv4")
    nic_index = models.PositiveSmallIntegerField(_("card"), help_text=_("N of the VM's netN."))
    status = models.CharField(
        _("status"), max_length=12, choices=choices.AttachmentStatus.choices, default=choices.AttachmentStatus.ATTACHING
    )
    needs_reboot = models.BooleanField(
        _("reboot needed"), default=False, help_text=_("Attached to a running server: the guest configures it at boot.")
    )
    detached_reason = models.CharField(_("detached because"), max_length=100, blank=True)
    drift = models.BooleanField(
        _("drift"),
        default=False,
        help_text=_("Set by reconciliation: the VM's card differs from the platform's."),
    )
    drift_detail = models.CharField(_("drift detail"), max_length=300, blank=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    attached_at = models.DateTimeField(_("attached at"), null=True, blank=True)
    detached_at = models.DateTimeField(_("detached at"), null=True, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subnet", "address"], condition=LIVE, name="uniq_attachment_address"),
            models.UniqueConstraint(fields=["network", "instance"], condition=LIVE, name="uniq_attachment_server"),
            models.UniqueConstraint(fields=["instance", "nic_index"], condition=LIVE, name="uniq_attachment_nic"),
        ]
        indexes = [models.Index(fields=["instance", "status"])]

    def __str__(self) -> str:
        return f"{self.server_name} {self.address} on {self.network_id}"


class NetworkQuota(TimeStampedModel):
    """Network limits of one organisation; a blank limit means the default (``NETWORKS_DEFAULT_QUOTAS``)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="network_quota")
    max_networks = models.PositiveIntegerField(_("max networks"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("network quota")
        verbose_name_plural = _("network quotas")

    def __str__(self) -> str:
        return str(self.organisation)
