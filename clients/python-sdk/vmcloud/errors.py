"""Exceptions of the VMCloud SDK: one class per kind of failure.

Every API error has one body, ``{"error": {"code", "message", "fields",
"request_id"}}`` (see the docs page ``/docs/api-overview/``); ``APIError``
carries those four values and the HTTP status. The class tells what kind of
failure it was, so callers catch what they can handle::

    try:
        client.instances_power_action(server_id, "start")
    except vmcloud.Conflict as exc:   # 409: wrong state, another action running
        print(exc.code, exc.request_id)
"""

from __future__ import annotations

from typing import Any


class VMCloudError(Exception):
    """Base class of every error this SDK raises."""

    exit_code = 1


class ConfigurationError(VMCloudError):
    """The client cannot be built: no URL, no token, a malformed URL."""

    exit_code = 2


class APIConnectionError(VMCloudError):
    """The platform could not be reached (connection refused, DNS, TLS, time-out) after the retries."""

    exit_code = 8


class ActionFailed(VMCloudError):
    """An Action ended with status ``error``; ``action`` is its last state."""

    exit_code = 9

    def __init__(self, action: dict[str, Any]) -> None:
        self.action = action
        error = action.get("error") or {}
        self.code = str(error.get("code") or "action_failed")
        message = error.get("message") or "the action failed"
        super().__init__(f"action {action.get('id')} ({action.get('type')}) failed: {message} [{self.code}]")


class ActionTimeout(VMCloudError):
    """``Action.wait()`` gave up before the Action finished; the Action goes on on the platform."""

    exit_code = 10

    def __init__(self, action: dict[str, Any], timeout: float) -> None:
        self.action = action
        super().__init__(
            f"action {action.get('id')} ({action.get('type')}) still {action.get('status')} after {timeout:g}s"
        )


class APIError(VMCloudError):
    """The API answered with an error status and its error body."""

    exit_code = 1

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, list[str]] | None = None,
        request_id: str = "",
        *,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``message [code] field: message; … (request id)``: what the CLI prints."""
        parts = [self.message.rstrip(".") if self.fields else self.message, f"[{self.code}]"]
        details = "; ".join(
            f"{name}: {' '.join(messages) if isinstance(messages, list) else messages}"
            for name, messages in sorted(self.fields.items())
        )
        if details:
            parts.append(details)
        if self.request_id:
            parts.append(f"(request {self.request_id})")
        return " ".join(parts)


class BadRequest(APIError):
    """400: invalid input; ``fields`` says which field and why."""

    exit_code = 3


class AuthenticationError(APIError):
    """401: no token, or an invalid, expired or revoked one."""

    exit_code = 4


class PermissionDenied(APIError):
    """403: authenticated, but the role or token scope does not allow it (or a quota is reached)."""

    exit_code = 4


class NotFound(APIError):
    """404: no such object, or not visible to you."""

    exit_code = 5


class Conflict(APIError):
    """409: the object's state forbids it now (wrong power state, action in progress, no capacity)."""

    exit_code = 6


class PayloadTooLarge(APIError):
    """413: the request body is too large."""

    exit_code = 3


class Unprocessable(APIError):
    """422: e.g. ``idempotency_key_reused``, the same key sent with a different body."""

    exit_code = 3


class RateLimited(APIError):
    """429 after the SDK's retries; ``retry_after`` says how long to wait."""

    exit_code = 7


class ServerError(APIError):
    """5xx: the platform failed; quote ``request_id`` to support."""

    exit_code = 11


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: Unprocessable,
    429: RateLimited,
}


def error_class(status: int) -> type[APIError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)
