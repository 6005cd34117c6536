"""Writes of the managed app (docs/dev/style.md#services): re-exported from its modules."""

from apps.managed.services.backend_calls import CallOutcome, service_backend_call, service_backend_calls_resume
from apps.managed.services.lifecycle import (
    ServiceErrorCode,
    service_authorise,
    service_cancel,
    service_change_tier,
    service_create,
    service_credentials_reveal,
    service_deliver,
    service_fulfilment_start,
    service_lock,
    service_quota_check,
    service_resume,
    service_secrets_clear,
    service_suspend,
    service_terminate,
    service_update,
    service_usage_record,
)

__all__ = [
    "CallOutcome",
    "ServiceErrorCode",
    "service_authorise",
    "service_backend_call",
    "service_backend_calls_resume",
    "service_cancel",
    "service_change_tier",
    "service_create",
    "service_credentials_reveal",
    "service_deliver",
    "service_fulfilment_start",
    "service_lock",
    "service_quota_check",
    "service_resume",
    "service_secrets_clear",
    "service_suspend",
    "service_terminate",
    "service_update",
    "service_usage_record",
]
