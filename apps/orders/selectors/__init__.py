"""Reads of orders (docs/dev/style.md#app-shape), one module per concern, re-exported here.

* ``orders``: quotes, the actor's orders, quota usage, and the staff queues;
* ``checks``: the checks of what a customer orders that read the database
  (offer and datacentre, a managed service's configuration, a server's options,
  networks reachable from the reserved server), shared by quotes and orders;
* ``gpu_risk``: the GPU risk policy, the signals about an organisation, and the
  flags that hold a GPU order for approval.
"""

from __future__ import annotations

from apps.orders.selectors.checks import (
    check_networks_reachable,
    check_offer_place,
    check_options,
    check_service,
    is_service_offer,
    service_origin_resolver,
)
from apps.orders.selectors.gpu_risk import (
    PaymentMethodProvider,
    RiskSignals,
    gpu_risk_flags,
    gpu_risk_policy_get,
    payment_method_provider_register,
    risk_signals,
)
from apps.orders.selectors.orders import (
    NO_TEMPLATE,
    QuotaUsage,
    Quote,
    approval_queue,
    fulfilment_queue,
    order_get,
    order_list,
    quota_usage,
    quote_build,
)

__all__ = [
    "NO_TEMPLATE",
    "PaymentMethodProvider",
    "QuotaUsage",
    "Quote",
    "RiskSignals",
    "approval_queue",
    "check_networks_reachable",
    "check_offer_place",
    "check_options",
    "check_service",
    "fulfilment_queue",
    "gpu_risk_flags",
    "gpu_risk_policy_get",
    "is_service_offer",
    "order_get",
    "order_list",
    "payment_method_provider_register",
    "quota_usage",
    "quote_build",
    "risk_signals",
    "service_origin_resolver",
]
