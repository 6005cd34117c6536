"""Block storage volumes and their quotas.

A ``Volume`` belongs to a project, has a tier (a STORAGE-* ``Offer``), a size,
a datacentre and at most one server. Its placement (cluster, node, storage,
volid) is fixed when created; the volid never changes because the volume is
owned by the storage's holder VMID (docs/dev/proxmox-behaviour.md#volume-keeping).
Prices are frozen at create (per-GB monthly price × size; hourly = monthly / 730).
A volume's asynchronous operations are rows of the shared ``apps.instances.models.Action``
(``resource_type="volume"``, ``resource_id`` = the volume's public id).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre, Offer
from apps.core.models import TimeStampedModel
from apps.core.money import RateField
from apps.infrastructure.models import Cluster, ClusterStorage
from apps.instances.choices import ActionResource
from apps.instances.models import Action, Instance
from apps.teams.models import Organisation, Project
from apps.volumes import choices, rules


class Volume(TimeStampedModel):
    """A customer's block storage volume (issue 13, "Block storage volumes")."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="volumes", verbose_name=_("organisation")
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="volumes", verbose_name=_("project"))
    name = models.CharField(_("name"), max_length=63)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    tier = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="+", verbose_name=_("tier"))
    size_gb = models.PositiveIntegerField(_("size (GB)"))
    datacentre = models.ForeignKey(Datacentre, on_delete=models.PROTECT, related_name="+", verbose_name=_("datacentre"))
    server = models.ForeignKey(
        Instance, on_delete=models.SET_NULL, null=True, blank=True, related_name="volumes", verbose_name=_("server")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=choices.VolumeStatus.choices, default=choices.VolumeStatus.CREATING
    )
    delete_protection = models.BooleanField(_("delete protection"), default=False)
    error_message = models.CharField(_("error (customer)"), max_length=300, blank=True)
    cluster_storage = models.ForeignKey(
        ClusterStorage, on_delete=models.PROTECT, null=True, blank=True, related_name="volumes"
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    node_name = models.CharField(_("node"), max_length=64, blank=True)
    storage = models.CharField(_("storage"), max_length=64, blank=True)
    volid = models.CharField(_("volume id"), max_length=200, blank=True)
    slot = models.CharField(_("disk slot"), max_length=16, blank=True, help_text=_("e.g. scsi1 while attached."))
    current_upid = models.CharField(_("current task"), max_length=200, blank=True)
    price_hourly = RateField(_("price per hour"))
    price_monthly = models.DecimalField(_("price per month"), max_digits=12, decimal_places=2)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("volume")
        verbose_name_plural = _("volumes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], condition=~Q(status="deleted"), name="uniq_volume_name_per_project"
            ),
            models.CheckConstraint(
                condition=Q(size_gb__gte=rules.SIZE_MIN_GB) & Q(size_gb__lte=rules.SIZE_MAX_GB),
                name="volume_size_bounds",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status"]), models.Index(fields=["server", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.size_gb} GB)"

    @property
    def holds_project(self) -> bool:
        """A deleted volume is history (teams.project_delete)."""
        return self.status != choices.VolumeStatus.DELETED

    @property
    def serial(self) -> str:
        return rules.device_serial(self.public_id.hex)

    @property
    def device_path(self) -> str:
        return rules.guest_device_path(self.serial)

    @property
    def actions(self) -> QuerySet[Action]:
        """The volume's actions (shared ``Action`` table), newest first."""
        return Action.objects.filter(resource_type=ActionResource.VOLUME, resource_id=self.public_id).order_by(
            "-created_at", "-id"
        )


class VolumeQuota(TimeStampedModel):
    """Volume limits of one organisation; a blank limit means the default (``VOLUMES_DEFAULT_QUOTAS``)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="volume_quota")
    max_volumes = models.PositiveIntegerField(_("max volumes"), null=True, blank=True)
    max_total_gb = models.PositiveIntegerField(_("max total size (GB)"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("volume quota")
        verbose_name_plural = _("volume quotas")

    def __str__(self) -> str:
        return str(self.organisation)
