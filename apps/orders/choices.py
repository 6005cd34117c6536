"""Enumerations of orders: states, the allowed transitions, fulfilment statuses and approval flags."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderState(models.TextChoices):
    """Where an order stands. ``completed``, ``cancelled`` and ``rejected`` are final."""

    PENDING = "pending", _("Pending")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    PROVISIONING = "provisioning", _("Provisioning")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")


S = OrderState

# The state machine: every change of Order.state goes through
# services._transition, which refuses anything not listed here.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.AWAITING_APPROVAL, S.PROVISIONING, S.CANCELLED, S.FAILED}),
    S.AWAITING_APPROVAL: frozenset({S.PROVISIONING, S.REJECTED, S.CANCELLED}),
    # A managed-service order is cancelled while queued (staff have not started on it), or when its
    # service ended before delivery; a server's order never leaves provisioning that way.
    S.PROVISIONING: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED}),
    # Staff may retry a failed order (back to provisioning) or the customer may cancel it.
    S.FAILED: frozenset({S.PROVISIONING, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}

# States in which the customer may still cancel (capacity is released).
CANCELLABLE_STATES: frozenset[str] = frozenset({S.PENDING, S.AWAITING_APPROVAL, S.FAILED})
# States that still hold (or will hold) resources: they count against quotas.
OPEN_STATES: frozenset[str] = frozenset({S.PENDING, S.AWAITING_APPROVAL, S.PROVISIONING})


class FulfilmentStatus(models.TextChoices):
    """Progress of a product staff deliver by hand (web hosting, PaaS, load balancer, storage, CDN)."""

    NOT_APPLICABLE = "", _("Not applicable")
    QUEUED = "queued", _("Queued")
    IN_PROGRESS = "in_progress", _("In progress")
    FULFILLED = "fulfilled", _("Fulfilled")


class OrderFlag(models.TextChoices):
    """Why an order waits for staff approval."""

    FIRST_ORDER_ABOVE_THRESHOLD = (
        "first_order_above_threshold",
        _("First order of a new organisation above the threshold"),
    )
    GPU_REVIEW = "gpu_review", _("GPU orders are reviewed by staff")
    # The GPU risk policy (models.GpuRiskPolicy): the label is the reason the customer reads.
    GPU_NEW_ORGANISATION = "gpu_new_organisation", _("GPU order from an organisation created recently")
    GPU_NO_PAYMENT_METHOD = "gpu_no_payment_method", _("GPU order from an organisation without a payment method")
    GPU_NO_BILLING_IDENTITY = (
        "gpu_no_billing_identity",
        _("GPU order from an organisation without a billing identity (country, legal name)"),
    )


class OrderErrorCode:
    """Stable error codes of the orders app (public API contract; add, never rename)."""

    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INVALID_TRANSITION = "order_invalid_transition"
    NOT_CANCELLABLE = "order_not_cancellable"
    QUOTA_EXCEEDED = "quota_exceeded"
    ORDERS_BLOCKED = "orders_blocked"


class OptionsStatus(models.TextChoices):
    """Where the options ordered with a server stand (apps/docs/content/ordering.md, "Options").

    Empty: none ordered. ``pending`` once the server runs, ``applying`` while the task
    (``orders.apply_options``) holds them, then ``applied`` or ``failed`` (each failure is listed on the order;
    the server is kept).
    """

    NONE = "", _("none")
    PENDING = "pending", _("pending")
    APPLYING = "applying", _("applying")
    APPLIED = "applied", _("applied")
    FAILED = "failed", _("some failed")
