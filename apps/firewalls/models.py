"""Firewalls, the servers they apply to, each server's applied state, quotas and the clusters' firewall check.

A ``Firewall`` belongs to a project and holds its rules (a JSON list in the API's shape, validated by
``rules.rules_clean``) and its label selectors. ``FirewallServer`` is one server it applies to, by id
(``direct``) and/or through a selector (``selected``), with that server's application status.
``ServerFirewall`` is what the platform last wrote on the server's VM (the row also serialises the
VM's firewall writes: docs/dev/proxmox-behaviour.md#firewall). ``FirewallGroup`` is the firewall's
security group on one cluster and the rule generation written there.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
from apps.firewalls import choices, rules
from apps.infrastructure.models import Cluster
from apps.instances.models import Instance
from apps.teams.models import Organisation, Project


class Firewall(TimeStampedModel):
    """A customer's firewall (issue 13, "Firewalls")."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="firewalls", verbose_name=_("organisation")
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="firewalls", verbose_name=_("project"))
    name = models.CharField(_("name"), max_length=63)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    rules = models.JSONField(_("rules"), default=list, blank=True)
    label_selectors = models.JSONField(_("label selectors"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=choices.FirewallStatus.choices, default=choices.FirewallStatus.ACTIVE
    )
    # Bumped by every change of the rules; ``applied_generation`` is the last one written everywhere.
    generation = models.PositiveIntegerField(_("rules generation"), default=1)
    applied_generation = models.PositiveIntegerField(_("applied generation"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("firewall")
        verbose_name_plural = _("firewalls")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], condition=~Q(status="deleted"), name="uniq_firewall_name_per_project"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def holds_project(self) -> bool:
        """A deleted firewall is history (teams.project_delete)."""
        return self.status != choices.FirewallStatus.DELETED

    @property
    def group(self) -> str:
        return rules.group_name(self.public_id.hex)


class FirewallServer(models.Model):
    """One server a firewall applies to, and whether its VM has it yet."""

    firewall = models.ForeignKey(Firewall, on_delete=models.CASCADE, related_name="members")
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="firewall_memberships")
    direct = models.BooleanField(_("applied by id"), default=False)
    selected = models.BooleanField(_("matched by a label selector"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=choices.MemberStatus.choices, default=choices.MemberStatus.PENDING
    )
    error_message = models.CharField(_("error"), max_length=300, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("firewall server")
        verbose_name_plural = _("firewall servers")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["firewall", "instance"], name="uniq_firewall_server"),
        ]
        indexes = [models.Index(fields=["instance", "status"])]

    def __str__(self) -> str:
        return f"{self.firewall_id} → {self.instance_id} ({self.status})"


class ServerFirewall(models.Model):
    """What the platform last wrote on a server's VM firewall, and the drift reconciliation found."""

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="firewall_state")
    groups = models.JSONField(_("security groups"), default=list, blank=True)
    policy_out = models.CharField(_("outbound policy"), max_length=8, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    drift = models.BooleanField(_("drift"), default=False)
    drift_detail = models.TextField(_("drift detail"), blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("server firewall state")
        verbose_name_plural = _("server firewall states")

    def __str__(self) -> str:
        return f"{self.instance_id}: {', '.join(self.groups) or '-'}"


class FirewallGroup(models.Model):
    """A firewall's security group on one cluster and the rules generation written there."""

    firewall = models.ForeignKey(Firewall, on_delete=models.CASCADE, related_name="groups")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    generation = models.PositiveIntegerField(default=0)
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("firewall security group")
        verbose_name_plural = _("firewall security groups")
        constraints = [models.UniqueConstraint(fields=["firewall", "cluster"], name="uniq_firewall_group")]

    def __str__(self) -> str:
        return f"{self.firewall_id}@{self.cluster_id} g{self.generation}"


class FirewallQuota(TimeStampedModel):
    """Firewall limits of one organisation; a blank limit means the default (``FIREWALLS_DEFAULT_QUOTAS``)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="firewall_quota")
    max_firewalls = models.PositiveIntegerField(_("max firewalls"), null=True, blank=True)
    max_rules_per_firewall = models.PositiveIntegerField(
        _("max rules per firewall"), null=True, blank=True, help_text=_("At most 50 (the platform's limit).")
    )
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("firewall quota")
        verbose_name_plural = _("firewall quotas")

    def __str__(self) -> str:
        return str(self.organisation)


class ClusterFirewallCheck(models.Model):
    """Whether a cluster's datacentre firewall is on (the first of PVE's three switches); flagged when off."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="firewall_check")
    enabled = models.BooleanField(_("datacentre firewall enabled"), null=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("cluster firewall check")
        verbose_name_plural = _("cluster firewall checks")

    def __str__(self) -> str:
        return f"{self.cluster_id}: {self.enabled}"
