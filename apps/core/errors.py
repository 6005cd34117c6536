"""Domain errors with stable codes.

Services raise ``ApplicationError`` (or a subclass); the API exception handler
and the portal turn it into one documented error body or a form error. Codes
are part of the public API: add new ones, never rename.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar


class ApplicationError(Exception):
    """A failure the caller can act on: bad input, a conflict, a missing object."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code or self.default_code
        self.fields: dict[str, list[str]] = {k: [str(m) for m in v] for k, v in (fields or {}).items()}


class ValidationFailed(ApplicationError):
    status_code = 400
    default_code = "validation_error"


class NotFound(ApplicationError):
    status_code = 404
    default_code = "not_found"


class PermissionDenied(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


class Conflict(ApplicationError):
    status_code = 409
    default_code = "conflict"


class Unavailable(ApplicationError):
    """The request is valid but cannot be served now (no capacity, maintenance)."""

    status_code = 409
    default_code = "unavailable"
