"""The VMCloud Python SDK.

>>> import vmcloud
>>> client = vmcloud.Client("https://api.vmcloud.example", token="vmc_pat_…")
>>> for server in client.instances_list_iter(label_selector="env=prod"):
...     print(server["name"], server["ipv4"])
>>> order, action = client.create_server(name="web-1", offer="VPS-NANO", datacentre="PAR-1", image="ubuntu-24.04")
>>> action.wait()

Every operation of ``/api/v1/`` is a typed method of ``Client`` named by its
OpenAPI ``operationId``; see the docs page ``/docs/sdk/``. The client is
imported lazily, so ``import vmcloud`` stays cheap for tools such as ``vmcl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    ActionFailed,
    ActionTimeout,
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequest,
    ConfigurationError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unprocessable,
    VMCloudError,
)

if TYPE_CHECKING:
    from .actions import Action
    from .client import Client

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "Action",
    "ActionFailed",
    "ActionTimeout",
    "AuthenticationError",
    "BadRequest",
    "Client",
    "ConfigurationError",
    "Conflict",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "Unprocessable",
    "VMCloudError",
]


def __getattr__(name: str) -> Any:
    if name == "Client":
        from .client import Client

        return Client
    if name == "Action":
        from .actions import Action

        return Action
    raise AttributeError(f"module 'vmcloud' has no attribute {name!r}")
