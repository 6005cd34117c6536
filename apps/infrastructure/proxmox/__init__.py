"""The Proxmox VE driver: the only code of the platform that talks to Proxmox.

``ProxmoxDriver`` wraps proxmoxer (HTTPS, API-token auth) and offers typed
operations that return the plain data classes of ``types`` or raise the errors
of ``errors`` (transient and permanent kept apart). Nothing outside this package
may import proxmoxer (an import-linter contract enforces it).

Behaviour relied upon is documented in ``docs/dev/proxmox-behaviour.md``.
"""

from apps.infrastructure.proxmox.driver import ProxmoxDriver
from apps.infrastructure.proxmox.errors import (
    ProxmoxAuthError,
    ProxmoxError,
    ProxmoxGuestAgentError,
    ProxmoxGuestAgentNotRunning,
    ProxmoxGuestExecTimeout,
    ProxmoxNotFound,
    ProxmoxParameterError,
    ProxmoxPermanentError,
    ProxmoxStorageFull,
    ProxmoxTaskFailed,
    ProxmoxTaskTimeout,
    ProxmoxTransientError,
)

__all__ = [
    "ProxmoxAuthError",
    "ProxmoxDriver",
    "ProxmoxError",
    "ProxmoxGuestAgentError",
    "ProxmoxGuestAgentNotRunning",
    "ProxmoxGuestExecTimeout",
    "ProxmoxNotFound",
    "ProxmoxParameterError",
    "ProxmoxPermanentError",
    "ProxmoxStorageFull",
    "ProxmoxTaskFailed",
    "ProxmoxTaskTimeout",
    "ProxmoxTransientError",
]
