"""``Idempotency-Key`` for placing orders (IETF draft-ietf-httpapi-idempotency-key-header).

A key is unique per organisation (a database constraint on ``Order``). The
same key with the same body (compared by ``request_fingerprint``) returns the
order the key created, and through the API the first response verbatim
(``order_response_remember``); the same key with a different body is a 422
``idempotency_key_reused``. ``ordering.order_submit`` runs the whole API flow.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError, ValidationFailed
from apps.orders.choices import OrderErrorCode
from apps.orders.models import Order

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255


class IdempotencyKeyReused(ApplicationError):
    """The key was already used with a different request body (IETF idempotency draft: 422)."""

    status_code = 422
    default_code = OrderErrorCode.IDEMPOTENCY_KEY_REUSED


def idempotency_key_clean(key: str | None) -> str:
    """The key as sent, stripped ("" without one); ``ValidationFailed`` above 255 characters."""
    key = (key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationFailed(
            _("The Idempotency-Key header is too long."),
            fields={IDEMPOTENCY_HEADER: [_("At most 255 characters.")]},
        )
    return key


def request_fingerprint(data: Any) -> str:
    """SHA-256 of a request body in canonical JSON (sorted keys): equal bodies, equal hashes."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def order_replay(order: Order, fingerprint: str) -> Order:
    """The order a key already created, if the request is the same (``IdempotencyKeyReused`` otherwise)."""
    if order.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used with a different request. Use a new key for a new order.")
        )
    return order


def order_response_remember(*, order: Order, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Store the first response to an idempotent request, once; return the stored one.

    A conditional UPDATE: of several concurrent requests with one key, the
    first to store wins and every one of them answers with that response.
    """
    if not order.idempotency_key:
        return status, body
    Order.objects.filter(pk=order.pk, response_status__isnull=True).update(response_status=status, response_body=body)
    stored_status, stored_body = Order.objects.filter(pk=order.pk).values_list("response_status", "response_body").get()
    return int(stored_status or status), stored_body if isinstance(stored_body, dict) else body
