"""Service backends (issue 14, "Delivery"): one small interface per family; see ``base``."""

from apps.managed.backends.base import (
    BackendError,
    BackendResult,
    BackendStatus,
    ServiceBackend,
    StaffBackend,
    backend_for,
    backend_register,
    backend_unregister,
    is_staff_fulfilled,
)

__all__ = [
    "BackendError",
    "BackendResult",
    "BackendStatus",
    "ServiceBackend",
    "StaffBackend",
    "backend_for",
    "backend_register",
    "backend_unregister",
    "is_staff_fulfilled",
]
