"""Data of the instances app: instances, actions, SSH keys, snapshots, schedules and drift.

Workflows live in ``services``; these models hold data and invariants only.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre, Offer, OsImage
from apps.core.models import TimeStampedModel
from apps.core.money import MoneyField, RateField
from apps.infrastructure.models import Cluster, Reservation, VmTemplate
from apps.instances import choices
from apps.teams.models import Organisation, Project


class Instance(TimeStampedModel):
    """A customer's virtual machine.

    ``status`` is the platform's lifecycle (``choices.ALLOWED_TRANSITIONS``),
    ``power_state`` what Proxmox last reported. Placement's ``Reservation``
    holds the node, VMID, GPUs and addresses; the columns ``vmid``/``node_name``
    copy them so lists need no join. ``provision_step`` with ``clone_upid`` and
    ``current_upid`` persist each step's identity before it is waited on, so a
    retried task resumes where the crashed one stopped (docs/dev/style.md#celery-tasks).
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="instances", verbose_name=_("organisation")
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="instances", verbose_name=_("project"))
    name = models.CharField(_("name"), max_length=63, help_text=_("Also the hostname (RFC 1123 label)."))
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="+", verbose_name=_("offer"))
    datacentre = models.ForeignKey(Datacentre, on_delete=models.PROTECT, related_name="+", verbose_name=_("datacentre"))
    image = models.ForeignKey(OsImage, on_delete=models.PROTECT, related_name="+", verbose_name=_("image"))
    template = models.ForeignKey(
        VmTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("template")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=choices.InstanceStatus.choices, default=choices.InstanceStatus.PROVISIONING
    )
    power_state = models.CharField(
        _("power state"), max_length=16, choices=choices.PowerState.choices, default=choices.PowerState.UNKNOWN
    )
    power_checked_at = models.DateTimeField(_("power state checked at"), null=True, blank=True)
    host_unreachable_since = models.DateTimeField(
        _("host unreachable since"),
        null=True,
        blank=True,
        help_text=_(
            "Set by reconciliation while Proxmox cannot reach the VM's node (status 'unknown'); nothing is "
            "changed on the instance until the node answers again."
        ),
    )
    error_message = models.CharField(_("error (customer)"), max_length=300, blank=True)
    error_detail = models.TextField(_("error detail (staff)"), blank=True)
    delete_protection = models.BooleanField(_("delete protection"), default=False)
    reservation = models.OneToOneField(
        Reservation, on_delete=models.PROTECT, null=True, blank=True, related_name="instance"
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    node_name = models.CharField(_("node"), max_length=64, blank=True)
    vmid = models.PositiveIntegerField(_("VMID"), null=True, blank=True)
    ipv4 = models.GenericIPAddressField(_("IPv4"), protocol="IPv4", null=True, blank=True)
    ipv6 = models.GenericIPAddressField(_("IPv6"), protocol="IPv6", null=True, blank=True)
    gpu_mappings = models.JSONField(_("GPU mappings"), default=list, blank=True)
    ssh_keys = models.JSONField(_("SSH public keys"), default=list, blank=True)
    user_data = models.TextField(_("cloud-init user-data"), blank=True)
    provision_step = models.CharField(
        _("provisioning step"), max_length=16, choices=choices.ProvisionStep.choices, default=choices.ProvisionStep.VMID
    )
    clone_upid = models.CharField(_("clone task"), max_length=200, blank=True)
    current_upid = models.CharField(_("current task"), max_length=200, blank=True)
    current_upid_step = models.CharField(_("current task step"), max_length=32, blank=True)
    # Frozen from the order (apps.core.money: a rate keeps its 6 places from the offer to the invoice).
    price_hourly = RateField(_("hourly price (EUR)"))
    price_monthly = MoneyField(_("monthly cap (EUR)"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    running_since = models.DateTimeField(_("running since"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("instance")
        verbose_name_plural = _("instances")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two live instances never share a VMID of one cluster.
            models.UniqueConstraint(
                fields=["cluster", "vmid"],
                condition=~Q(status=choices.InstanceStatus.DELETED),
                name="uniq_live_instance_vmid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in choices.InstanceStatus]), name="instance_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["project", "-created_at"]),
            models.Index(fields=["status", "updated_at"]),
            # The lists (API and portal) count and page live instances per visible project;
            # deleted rows, most of the table over time, stay out of this index.
            models.Index(
                fields=["project", "-created_at"], condition=~Q(status="deleted"), name="instance_live_project_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id.hex[:8]})"

    @property
    def holds_project(self) -> bool:
        """A deleted server is history: it no longer keeps its project from being deleted (teams.project_delete)."""
        return self.status != choices.InstanceStatus.DELETED

    @property
    def is_gpu(self) -> bool:
        return bool(self.gpu_mappings)


class InstancePricePeriod(models.Model):
    """One interval during which an instance was billable at one frozen price.

    Opened when the instance first reaches ``running`` (a server that never
    came up is never billed), closed and reopened at the new price when a
    resize finishes, closed at deletion or when staff declare the VM lost.
    Billing meters these intervals hour by hour (``apps.billing.services.metering``),
    so a missed hour can be caught up later at the price that applied then.
    """

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="price_periods")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="+", verbose_name=_("offer"))
    # Frozen from the order (apps.core.money: a rate keeps its 6 places from the offer to the invoice).
    price_hourly = RateField(_("hourly price (EUR)"))
    price_monthly = MoneyField(_("monthly cap (EUR)"))
    started_at = models.DateTimeField(_("billed from"))
    ended_at = models.DateTimeField(_("billed until"), null=True, blank=True)

    class Meta:
        verbose_name = _("instance price period")
        verbose_name_plural = _("instance price periods")
        ordering = ["instance_id", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance"], condition=Q(ended_at__isnull=True), name="uniq_open_price_period_per_instance"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="price_period_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["started_at", "ended_at"], name="price_period_span_idx")]

    def __str__(self) -> str:
        return f"{self.instance_id} {self.price_hourly}/h from {self.started_at:%Y-%m-%d %H:%M}"


class Action(models.Model):
    """One asynchronous operation, readable at ``/api/v1/actions/{id}`` (Hetzner's "actions").

    ``task_id`` / ``lease_until`` are the Celery claim: a task runs the action
    only after a conditional UPDATE set its own id there (or found its own id,
    when the broker redelivered the message of a killed worker).
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    instance = models.ForeignKey(
        Instance, on_delete=models.CASCADE, null=True, blank=True, related_name="actions", verbose_name=_("instance")
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    # The project of the resource acted on: who may see the action (``selectors.action_list_for_actor``).
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # What it acts on: a server (``instance`` is set too), or a volume, network, firewall or floating IP
    # of an app above this one, by its public id (those apps own the row's meaning; this app never imports them).
    resource_type = models.CharField(
        _("resource type"),
        max_length=16,
        choices=choices.ActionResource.choices,
        default=choices.ActionResource.SERVER,
    )
    resource_id = models.UUIDField(_("resource id"), null=True, blank=True)
    # The Celery task that runs a resource's action, sent again if its message is lost
    # (``services.resource_actions_resume``); blank for server actions (reconciliation follows those).
    task_name = models.CharField(_("task"), max_length=64, blank=True, db_default="")
    type = models.CharField(_("type"), max_length=24, choices=choices.ActionType.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=choices.ActionStatus.choices, default=choices.ActionStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.CharField(_("error message"), max_length=300, blank=True)
    error_detail = models.TextField(_("error detail (staff)"), blank=True)
    task_id = models.CharField(_("Celery task id"), max_length=64, blank=True)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="action_progress_max_100"),
        ]
        indexes = [
            models.Index(fields=["instance", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["resource_type", "resource_id", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.status} ({self.public_id.hex[:8]})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A server action names its server as its resource, whoever creates the row.
        named = self.resource_id is not None and self.project_id is not None
        if self.resource_type == choices.ActionResource.SERVER and self.instance_id and not named:
            server = Instance.objects.values("public_id", "project_id").get(pk=self.instance_id)
            self.resource_id = self.resource_id or server["public_id"]
            self.project_id = self.project_id or server["project_id"]
        super().save(*args, **kwargs)


class SshKey(TimeStampedModel):
    """An OpenSSH public key of an organisation, injected into new instances through cloud-init."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="ssh_keys")
    name = models.CharField(_("name"), max_length=100)
    public_key = models.TextField(_("public key"))
    key_type = models.CharField(_("type"), max_length=40)
    bits = models.PositiveIntegerField(_("bits"), default=0)
    fingerprint = models.CharField(_("fingerprint (SHA256)"), max_length=64)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("SSH key")
        verbose_name_plural = _("SSH keys")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "fingerprint"], name="uniq_ssh_key_per_org"),
            models.UniqueConstraint(fields=["organisation", "name"], name="uniq_ssh_key_name_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.fingerprint})"


class Snapshot(models.Model):
    """A Proxmox snapshot of an instance (docs/dev/proxmox-behaviour.md#snapshots); counted against
    ``Offer.snapshot_quota``."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="snapshots")
    name = models.CharField(_("name"), max_length=100)
    proxmox_name = models.CharField(_("Proxmox name"), max_length=40)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=choices.SnapshotStatus.choices, default=choices.SnapshotStatus.CREATING
    )
    size_gb = models.PositiveIntegerField(_("size (GB)"), default=0)
    scheduled = models.BooleanField(_("taken by a schedule"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    # Billing meters snapshot storage from ``created_at`` until ``deleted_at``.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "proxmox_name"], name="uniq_snapshot_pve_name"),
        ]

    def __str__(self) -> str:
        return self.name


class SnapshotSchedule(TimeStampedModel):
    """Automatic snapshots of one instance, run by django-celery-beat (``periodic_task``)."""

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="snapshot_schedule")
    frequency = models.CharField(_("frequency"), max_length=8, choices=choices.ScheduleFrequency.choices)
    hour = models.PositiveSmallIntegerField(_("hour (UTC)"), default=3)
    weekday = models.PositiveSmallIntegerField(_("weekday (0 = Sunday)"), default=0)
    retention = models.PositiveSmallIntegerField(_("snapshots kept"), default=7)
    enabled = models.BooleanField(_("enabled"), default=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("snapshot schedule")
        verbose_name_plural = _("snapshot schedules")
        constraints = [
            models.CheckConstraint(condition=Q(hour__lte=23), name="schedule_hour_valid"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="schedule_weekday_valid"),
            models.CheckConstraint(condition=Q(retention__gte=1), name="schedule_retention_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.instance} {self.frequency}"


class Drift(TimeStampedModel):
    """A difference between the platform and Proxmox found by reconciliation, for staff to act on."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    vmid = models.PositiveIntegerField(_("VMID"))
    node_name = models.CharField(_("node"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=choices.DriftKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=choices.DriftStatus.choices, default=choices.DriftStatus.OPEN
    )
    instance = models.ForeignKey(Instance, on_delete=models.SET_NULL, null=True, blank=True, related_name="drifts")
    details = models.JSONField(_("details"), default=dict, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    note = models.CharField(_("staff note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("drift")
        verbose_name_plural = _("drift")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "vmid", "kind"], condition=Q(status="open"), name="uniq_open_drift"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} VMID {self.vmid} on {self.cluster_id}"


class ConsoleSession(models.Model):
    """A single-use ticket to open an instance's browser console (docs/dev/proxmox-behaviour.md#console).

    Only the SHA-256 of the random token is stored. The ticket must be redeemed
    by the console proxy before ``expires_at``, once: ``used_at`` is set by a
    conditional UPDATE, so two connections with one ticket cannot both win.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    instance = models.ForeignKey(
        Instance, on_delete=models.CASCADE, related_name="console_sessions", verbose_name=_("instance")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    client_ip = models.GenericIPAddressField(_("client IP at connection"), null=True, blank=True)

    class Meta:
        verbose_name = _("console session")
        verbose_name_plural = _("console sessions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"console {self.public_id.hex[:8]} of {self.instance_id}"
