"""Writes of orders (docs/dev/style.md#services), one module per concern, re-exported here.

* ``ordering``: place (``order_place``; ``order_submit``, the API's flow with
  its ``Idempotency-Key``) and cancel;
* ``idempotency``: the key, the body fingerprint, the stored first response;
* ``checks``: the checks of an order that go through ``apps.instances``'
  services (user-data, SSH key ids; the other checks are ``apps.orders.rules``
  and ``apps.orders.selectors.checks``);
* ``fulfilment``: start delivery (a server through ``apps.instances``, a
  managed service created through ``apps.managed``), follow the server
  (``order_sync``, told by ``apps.instances.signals.instance_status_changed``)
  and the service (``order_sync_service``; the beat safety net
  ``orders_sync_provisioning`` for both), staff starting on a service order;
* ``staff``: approve, reject, retry, fail, blocks on new orders;
* ``transitions``: the state machine every state change goes through.
"""

from __future__ import annotations

from apps.orders.services.checks import check_ssh_keys, check_user_data
from apps.orders.services.fulfilment import (
    order_fulfilment_start,
    order_options_apply,
    order_options_resume,
    order_options_retry,
    order_start,
    order_sync,
    order_sync_on_instance_change,
    order_sync_on_service_change,
    order_sync_on_service_fulfilment,
    order_sync_service,
    orders_sync_provisioning,
)
from apps.orders.services.idempotency import (
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_MAX,
    IdempotencyKeyReused,
    order_response_remember,
    request_fingerprint,
)
from apps.orders.services.ordering import (
    order_authorise,
    order_cancel,
    order_place,
    order_place_authorised,
    order_submit,
)
from apps.orders.services.staff import (
    order_approve,
    order_block_clear,
    order_block_set,
    order_fail,
    order_reject,
    order_retry,
)
from apps.orders.services.transitions import order_transition

__all__ = [
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_KEY_MAX",
    "IdempotencyKeyReused",
    "check_ssh_keys",
    "check_user_data",
    "order_approve",
    "order_authorise",
    "order_block_clear",
    "order_block_set",
    "order_cancel",
    "order_fail",
    "order_fulfilment_start",
    "order_options_apply",
    "order_options_resume",
    "order_options_retry",
    "order_place",
    "order_place_authorised",
    "order_reject",
    "order_response_remember",
    "order_retry",
    "order_start",
    "order_submit",
    "order_sync",
    "order_sync_on_instance_change",
    "order_sync_on_service_change",
    "order_sync_on_service_fulfilment",
    "order_sync_service",
    "order_transition",
    "orders_sync_provisioning",
    "request_fingerprint",
]
