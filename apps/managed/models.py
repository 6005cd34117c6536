"""Managed services (issue 14), their secrets, price periods, transitions and recorded usage.

A ``ManagedService``'s ``state`` only changes through ``apps.managed.services``
along ``choices.ALLOWED_TRANSITIONS``; each change leaves a ``ServiceTransition``
row (who, why, when) next to the audit event. ``config`` holds the validated
order data (no secrets); secrets live encrypted in ``ServiceSecret``
(``apps.infrastructure.rules.crypto``). Billing meters ``ServicePricePeriod`` rows
the way it meters servers' ``InstancePricePeriod``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre, Offer
from apps.core.models import TimeStampedModel
from apps.core.money import MoneyField, RateField
from apps.managed import choices
from apps.teams.models import Organisation, Project


class ManagedService(TimeStampedModel):
    """One managed service (web hosting, PaaS, load balancer, CDN) a customer owns."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="managed_services", verbose_name=_("organisation")
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="managed_services", verbose_name=_("project")
    )
    # The tier: one offer of the family's catalogue (changes with service_change_tier).
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="managed_services", verbose_name=_("tier"))
    family = models.CharField(_("family"), max_length=16, choices=choices.ServiceFamily.choices)
    datacentre = models.ForeignKey(
        Datacentre,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_services",
        verbose_name=_("datacentre"),
    )
    name = models.CharField(_("name"), max_length=63)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=choices.ServiceState.choices,
        default=choices.ServiceState.PROVISIONING,
    )
    # Validated order data (apps.managed.rules), never a secret.
    config = models.JSONField(_("configuration"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Delivered hostnames / URLs: {"urls": [...], "hostnames": [...]} (set by the backend or staff).
    endpoints = models.JSONField(_("endpoints"), default=dict, blank=True)
    delivery_notes = models.TextField(_("delivery notes (customer)"), blank=True)
    delete_protection = models.BooleanField(_("delete protection"), default=False)
    # The tier's price, frozen when the service was ordered (or its tier changed): what its price periods bill.
    price_hourly = RateField(_("hourly price (EUR)"), default=Decimal(0))
    price_monthly = MoneyField(_("monthly cap (EUR)"), default=Decimal(0))
    state_reason = models.TextField(_("reason of the state"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When staff started delivering by hand (the fulfilment queue's "start work"): the order can no longer be
    # cancelled as a queued order from then on (apps.orders follows ``signals.service_fulfilment_started``).
    fulfilment_started_at = models.DateTimeField(_("staff started at"), null=True, blank=True)
    activated_at = models.DateTimeField(_("active since"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # The external id a plugged backend gave the service (hosting panel account, Nomad job, CDN zone).
    backend_ref = models.CharField(_("backend reference"), max_length=200, blank=True)
    # The Celery claim of a backend call in flight (tasks.py claims it with a conditional UPDATE).
    backend_task = models.CharField(_("backend task"), max_length=64, blank=True)
    # What that call does and when it was claimed: a claim older than the lease is a dead worker's, which
    # the beat's sweep releases and sends again (services.service_backend_calls_resume).
    # db_default: rows written by code that predates the column (the 0003 data step, a rolling deploy) get "".
    backend_operation = models.CharField(_("backend call"), max_length=16, blank=True, default="", db_default="")
    backend_claimed_at = models.DateTimeField(_("backend call claimed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("managed service")
        verbose_name_plural = _("managed services")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["cancelled", "terminated"]) | Q(ended_at__isnull=True),
                name="managed_service_ended_at_only_when_ended",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "state"]),
            models.Index(fields=["family", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_family_display()})"

    @property
    def holds_project(self) -> bool:
        """A cancelled or terminated service is history (teams.project_delete)."""
        return self.state not in choices.ENDED_STATES

    @property
    def is_ended(self) -> bool:
        return self.state in choices.ENDED_STATES


class ServiceSecret(models.Model):
    """A secret of a service, encrypted at rest (``apps.infrastructure.rules.crypto``).

    ``env``: a PaaS environment variable the customer set at order, never shown
    again. ``credential``: set by staff (or a backend) at delivery, revealed to
    the customer once on request (``revealed_at``), audited.
    """

    service = models.ForeignKey(ManagedService, on_delete=models.CASCADE, related_name="secrets")
    kind = models.CharField(_("kind"), max_length=12, choices=choices.SecretKind.choices)
    name = models.CharField(_("name"), max_length=128)
    value = models.TextField(_("value (encrypted)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revealed_at = models.DateTimeField(_("revealed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("service secret")
        verbose_name_plural = _("service secrets")
        ordering = ["service_id", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "kind", "name"], name="uniq_service_secret_name"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


class ServicePricePeriod(models.Model):
    """One interval during which a service was billable at one frozen price (see ``InstancePricePeriod``).

    Opened at activation (delivery), closed and reopened at the new tier's price
    when the tier changes, closed when the service is cancelled or terminated.
    """

    service = models.ForeignKey(ManagedService, on_delete=models.CASCADE, related_name="price_periods")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="+", verbose_name=_("tier"))
    price_hourly = RateField(_("hourly price (EUR)"))
    price_monthly = MoneyField(_("monthly cap (EUR)"))
    started_at = models.DateTimeField(_("billed from"))
    ended_at = models.DateTimeField(_("billed until"), null=True, blank=True)

    class Meta:
        verbose_name = _("service price period")
        verbose_name_plural = _("service price periods")
        ordering = ["service_id", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service"], condition=Q(ended_at__isnull=True), name="uniq_open_price_period_per_service"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="service_price_period_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["started_at", "ended_at"], name="service_price_period_span_idx")]

    def __str__(self) -> str:
        return f"{self.service_id} {self.price_hourly}/h from {self.started_at:%Y-%m-%d %H:%M}"


class ServiceTransition(models.Model):
    """One change of a service's state: from, to, who (null: the system) and why."""

    service = models.ForeignKey(ManagedService, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(_("from"), max_length=16, choices=choices.ServiceState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=16, choices=choices.ServiceState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=254, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("service transition")
        verbose_name_plural = _("service transitions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state}"


class ServiceUsage(models.Model):
    """Usage staff recorded against the tier's limits (``metric`` names a catalogue spec, e.g. ``storage_gb``)."""

    service = models.ForeignKey(ManagedService, on_delete=models.CASCADE, related_name="usage")
    metric = models.CharField(_("metric"), max_length=64)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=3)
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("service usage")
        verbose_name_plural = _("service usage")
        ordering = ["service_id", "-recorded_at", "-id"]
        indexes = [models.Index(fields=["service", "metric", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.metric}={self.value}"


class FulfilmentQueueService(ManagedService):
    """The staff fulfilment queue, as staff see it in the back office (a proxy: services to deliver by hand)."""

    class Meta:
        proxy = True
        verbose_name = _("service to deliver")
        verbose_name_plural = _("fulfilment queue (services to deliver)")


class ManagedServiceQuota(TimeStampedModel):
    """Managed services limit of one organisation; blank means the default (``MANAGED_DEFAULT_QUOTAS``)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="managed_service_quota")
    max_services = models.PositiveIntegerField(_("max live services"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("managed services quota")
        verbose_name_plural = _("managed services quotas")

    def __str__(self) -> str:
        return str(self.organisation)
