"""Orders, their transition history and per-organisation quotas.

An order freezes what the customer agreed to at order time (offer, place,
image, prices) so later catalogue changes never alter it. Its ``state`` only
changes through ``services`` along ``choices.ALLOWED_TRANSITIONS``, and each
change leaves an ``OrderTransition`` row (who, why, when).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalogue.models import Datacentre, GpuSoftwareStack, Offer, OsImage
from apps.core.models import TimeStampedModel
from apps.core.money import MoneyField, RateField
from apps.infrastructure.models import Reservation
from apps.instances.models import Instance
from apps.managed.models import ManagedService
from apps.orders import choices
from apps.teams.models import Organisation, Project


class Order(TimeStampedModel):
    """One customer order of one offer in one datacentre.

    VM offers (``FamilyKind.VIRTUAL_MACHINE``) hold a placement
    ``reservation`` from the moment they are placed and are delivered as an
    instance; managed services go to the staff fulfilment queue
    (``fulfilment_status``). ``idempotency_key`` is unique per organisation so
    that retried API requests never create a second order.
    """

    public_id = models.UUIDField(_("order id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="orders", verbose_name=_("organisation")
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="orders", verbose_name=_("project"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ordered by"),
    )
    state = models.CharField(
        _("state"), max_length=24, choices=choices.OrderState.choices, default=choices.OrderState.PENDING
    )

    # What was ordered.
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("offer"))
    datacentre = models.ForeignKey(
        Datacentre, on_delete=models.PROTECT, related_name="orders", verbose_name=_("datacentre")
    )
    image = models.ForeignKey(
        OsImage, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("image")
    )
    gpu_stack = models.ForeignKey(
        GpuSoftwareStack,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("GPU software stack"),
    )
    name = models.CharField(_("name"), max_length=253, help_text=_("Hostname (RFC 1123) or service name."))
    ssh_key_ids = models.JSONField(
        _("SSH key ids"), default=list, blank=True, help_text=_("Public ids of the organisation's SSH keys.")
    )
    user_data = models.TextField(_("cloud-init user-data"), blank=True)

    # Options of a server, checked when ordered (``selectors.checks.check_options``) and applied once it runs
    # (``fulfilment.order_options_apply``): labels are set at creation; networks, firewalls and volumes after.
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    network_ids = models.JSONField(
        _("private network ids"), default=list, blank=True, help_text=_("Public ids of networks to join.")
    )
    firewall_ids = models.JSONField(
        _("firewall ids"), default=list, blank=True, help_text=_("Public ids of firewalls to apply.")
    )
    volumes = models.JSONField(
        _("volumes"), default=list, blank=True, help_text=_("Volumes to create and attach: size_gb and tier code.")
    )
    options_status = models.CharField(
        _("options status"), max_length=12, choices=choices.OptionsStatus.choices, default="", blank=True
    )
    options_done = models.JSONField(
        _("options applied"), default=list, blank=True, help_text=_("Keys of the options already applied.")
    )
    options_errors = models.JSONField(
        _("options that failed"), default=list, blank=True, help_text=_("Shown to the customer.")
    )

    # Prices frozen at order time (EUR, excluding VAT); see apps.catalogue.rules.pricing.
    # Frozen from the offer (apps.core.money: a rate keeps its 6 places from the offer to the invoice).
    price_hourly = RateField(_("hourly price"))
    price_monthly = MoneyField(_("monthly cap"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")

    # Delivery.
    reservation = models.ForeignKey(
        Reservation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reservation"),
    )
    instance = models.OneToOneField(
        Instance,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="order",
        verbose_name=_("instance"),
    )
    # A managed offer: what the customer asked for (``apps.managed.rules.service_config_clean``; no
    # secrets), the environment secrets encrypted (``apps.infrastructure.rules.crypto``) until the service holds
    # them, and the service created when the order starts (placed without flags, or approved).
    service_config = models.JSONField(_("service configuration"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    service_secrets = models.TextField(
        _("service secrets (encrypted)"), blank=True, help_text=_("Handed to the service when the order starts.")
    )
    service = models.ForeignKey(
        ManagedService,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("service"),
    )
    fulfilment_status = models.CharField(
        _("fulfilment status"),
        max_length=16,
        choices=choices.FulfilmentStatus.choices,
        default=choices.FulfilmentStatus.NOT_APPLICABLE,
        blank=True,
    )
    fulfilment_notes = models.TextField(
        _("fulfilment notes"), blank=True, help_text=_("Shown to the customer: how to reach the delivered service.")
    )
    # Billing meters a managed service from ``fulfilled_at`` until ``service_ended_at``.
    fulfilled_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    service_ended_at = models.DateTimeField(_("service ended at"), null=True, blank=True)

    # Approval and outcome.
    flags = models.JSONField(_("flags"), default=list, blank=True, help_text=_("Why the order waits for approval."))
    rejection_reason = models.TextField(_("rejection reason"), blank=True, help_text=_("Shown to the customer."))
    error_message = models.TextField(_("error message"), blank=True, help_text=_("Shown to the customer."))

    # Idempotency (IETF draft-ietf-httpapi-idempotency-key-header): the first
    # response is stored and replayed verbatim for the same key and body.
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, blank=True)
    request_hash = models.CharField(_("request hash"), max_length=64, blank=True)
    response_status = models.PositiveSmallIntegerField(_("first response status"), null=True, blank=True)
    response_body = models.JSONField(_("first response body"), null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="uniq_order_idempotency_key_per_org",
            ),
            models.CheckConstraint(condition=Q(state__in=choices.OrderState.values), name="order_state_valid"),
        ]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="order_org_created_idx"),
            models.Index(fields=["state", "created_at"], name="order_state_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id and self.offer.code} {self.name} ({self.public_id.hex[:8]})"

    @property
    def holds_project(self) -> bool:
        """A finished order is history; an open one keeps its project (teams.project_delete)."""
        return self.state not in (
            choices.OrderState.COMPLETED,
            choices.OrderState.CANCELLED,
            choices.OrderState.REJECTED,
        )

    @property
    def has_options(self) -> bool:
        """Networks, firewalls or volumes to apply once the server runs (labels are set at creation)."""
        return bool(self.network_ids or self.firewall_ids or self.volumes)

    @property
    def is_cancellable(self) -> bool:
        """Pending, awaiting approval or failed; or a managed service's order staff have not started on yet."""
        if self.state in choices.CANCELLABLE_STATES:
            return True
        queued = self.fulfilment_status == choices.FulfilmentStatus.QUEUED
        return self.state == choices.OrderState.PROVISIONING and queued

    @property
    def flag_labels(self) -> list[str]:
        """Why the order waits for approval, in words the customer reads (``choices.OrderFlag`` labels)."""
        return [str(choices.OrderFlag(f).label) if f in choices.OrderFlag.values else str(f) for f in self.flags or []]


class OrderTransition(models.Model):
    """One change of an order's state: from, to, who (null: the system) and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(_("from"), max_length=24, choices=choices.OrderState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=24, choices=choices.OrderState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=254, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order transition")
        verbose_name_plural = _("order transitions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state}"


class OrganisationQuota(TimeStampedModel):
    """Limits of one organisation; a blank limit means the default (``ORDERS_DEFAULT_QUOTAS``)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="order_quota")
    max_instances = models.PositiveIntegerField(_("max instances"), null=True, blank=True)
    max_gpus = models.PositiveIntegerField(_("max GPUs"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("organisation quota")
        verbose_name_plural = _("organisation quotas")

    def __str__(self) -> str:
        return str(self.organisation)


class OrderBlock(TimeStampedModel):
    """A reason the organisation may not place new orders, set by a higher layer.

    ``source`` names who set it (a budget at 100 %, dunning, staff); each source
    sets and lifts its own block, so lifting one never lifts another.
    ``reason`` is shown to the customer in the refusal.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="order_blocks", verbose_name=_("organisation")
    )
    source = models.CharField(_("source"), max_length=64)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        verbose_name = _("order block")
        verbose_name_plural = _("order blocks")
        ordering = ["organisation_id", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "source"], name="uniq_order_block_source_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.source}"


class GpuRiskPolicy(TimeStampedModel):
    """When GPU orders wait for staff approval: the one row staff tune in the back office.

    GPUs are the asset fraud targets most (crypto-mining on stolen cards), so a
    GPU order waits for approval when any enabled rule matches its
    organisation; the rules that matched are the order's flags, shown to the
    customer on the order page and to staff, with the signals, in the approval
    queue. Documented in apps/docs/content/ordering.md ("GPU orders and
    approval"). ``orders.selectors.gpu_risk.gpu_risk_policy_get`` creates the row with the
    defaults below on first use.
    """

    enabled = models.BooleanField(_("enabled"), default=True, help_text=_("Apply the rules below to GPU orders."))
    review_all = models.BooleanField(
        _("review every GPU order"),
        default=False,
        help_text=_("Every GPU order waits for approval, whatever the signals (ORDERS_APPROVAL_GPU also does this)."),
    )
    min_organisation_age_days = models.PositiveIntegerField(
        _("minimum organisation age (days)"),
        default=7,
        help_text=_("GPU orders of a younger organisation wait for approval (0: no age rule)."),
    )
    require_payment_method = models.BooleanField(
        _("require a payment method"),
        default=True,
        help_text=_("GPU orders wait until the organisation has a saved card or SEPA mandate."),
    )
    require_billing_identity = models.BooleanField(
        _("require a billing identity"),
        default=True,
        help_text=_("GPU orders wait until the organisation has a country and, for a company, a legal name."),
    )

    class Meta:
        verbose_name = _("GPU risk policy")
        verbose_name_plural = _("GPU risk policy")

    def __str__(self) -> str:
        return str(_("GPU risk policy"))


class ApprovalQueueOrder(Order):
    """Admin view of the orders waiting for a staff decision (a proxy: no table)."""

    class Meta:
        proxy = True
        verbose_name = _("order awaiting approval")
        verbose_name_plural = _("approval queue")


class FulfilmentQueueOrder(Order):
    """Admin view of managed-service orders staff still have to deliver (a proxy: no table)."""

    class Meta:
        proxy = True
        verbose_name = _("service order to fulfil")
        verbose_name_plural = _("fulfilment queue")
