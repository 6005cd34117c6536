"""Alert policies, their incidents and the portal notices they leave (issue 16, "Monitoring alerts").

A policy watches one metric of one server (``instance``) or of the servers of its project whose labels
match ``label_selector`` (exactly one of the two). It fires when the metric's average over the last
``duration_minutes`` compares with ``threshold`` as ``comparison`` says; the incident stays open, and
notifies nothing more, until the average no longer does. Units: % for cpu, memory and disk, bytes per
second for network_in and network_out (apps/docs/content/alerts.md, "Metrics and units").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.alerts import choices
from apps.core.models import TimeStampedModel
from apps.instances.models import Instance
from apps.teams.models import Organisation, Project


class AlertPolicy(TimeStampedModel):
    """What to watch and whom to tell."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="alert_policies", verbose_name=_("organisation")
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="alert_policies", verbose_name=_("project")
    )
    name = models.CharField(_("name"), max_length=63)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    metric = models.CharField(_("metric"), max_length=16, choices=choices.AlertMetric.choices)
    instance = models.ForeignKey(
        Instance,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_policies",
        verbose_name=_("server"),
    )
    label_selector = models.CharField(_("servers by label"), max_length=500, blank=True)
    comparison = models.CharField(_("comparison"), max_length=2, choices=choices.AlertComparison.choices)
    threshold = models.DecimalField(_("threshold"), max_digits=16, decimal_places=2)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), choices=choices.AlertDuration.choices, default=choices.AlertDuration.FIVE
    )
    email_members = models.BooleanField(_("e-mail the organisation's members"), default=True)
    emails = models.JSONField(_("also e-mail"), default=list, blank=True)
    portal_notice = models.BooleanField(_("show a portal notice"), default=True)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret = models.CharField(_("webhook signing secret"), max_length=64, blank=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("alert policy")
        verbose_name_plural = _("alert policies")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="uniq_alert_policy_name_per_project"),
            models.CheckConstraint(
                condition=(Q(instance__isnull=False) & Q(label_selector=""))
                | (Q(instance__isnull=True) & ~Q(label_selector="")),
                name="alert_policy_one_target",
            ),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="alert_policy_threshold_positive"),
        ]
        indexes = [models.Index(fields=["enabled"])]

    def __str__(self) -> str:
        return self.name

    @property
    def unit(self) -> str:
        return choices.METRIC_UNITS[choices.AlertMetric(self.metric)]


class AlertIncident(TimeStampedModel):
    """One firing of a policy on one server: opened once, resolved once; at most one open per pair."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    policy = models.ForeignKey(AlertPolicy, on_delete=models.CASCADE, related_name="incidents")
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="alert_incidents")
    opened_at = models.DateTimeField(_("opened at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    value = models.DecimalField(_("value when opened"), max_digits=20, decimal_places=2)
    peak_value = models.DecimalField(_("peak value"), max_digits=20, decimal_places=2)
    last_value = models.DecimalField(_("last value"), max_digits=20, decimal_places=2)
    notified_at = models.DateTimeField(_("opening notified at"), null=True, blank=True)
    resolved_notified_at = models.DateTimeField(_("resolution notified at"), null=True, blank=True)
    webhook_sent_at = models.DateTimeField(_("opening webhook sent at"), null=True, blank=True)
    webhook_resolved_sent_at = models.DateTimeField(_("resolution webhook sent at"), null=True, blank=True)
    webhook_status = models.CharField(_("webhook status"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("alert incident")
        verbose_name_plural = _("alert incidents")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # Two evaluations at once never open two incidents of one policy on one server.
            models.UniqueConstraint(
                fields=["policy", "instance"], condition=Q(resolved_at__isnull=True), name="uniq_open_alert_incident"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} on {self.instance_id} since {self.opened_at:%Y-%m-%d %H:%M}"


class AlertNotice(TimeStampedModel):
    """A line the portal shows the organisation (dashboard and alerts pages) until dismissed."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="alert_notices")
    incident = models.ForeignKey(AlertIncident, on_delete=models.CASCADE, related_name="notices")
    event = models.CharField(_("event"), max_length=10, choices=choices.AlertEvent.choices)
    message = models.CharField(_("message"), max_length=500)
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert notice")
        verbose_name_plural = _("alert notices")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "event"], name="uniq_alert_notice_per_event"),
        ]

    def __str__(self) -> str:
        return self.message
