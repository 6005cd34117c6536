"""The one API exception handler: every error leaves the API in one body.

    {"error": {"code": "validation_error", "message": "...",
               "fields": {"hostname": ["..."]}, "request_id": "..."}}

DRF's own exceptions, Django's Http404/PermissionDenied and our
``ApplicationError`` all map onto it; anything else is logged and becomes a
500 with the same shape (never a stack trace).
Docs: https://www.django-rest-framework.org/api-guide/exceptions/#custom-exception-handling
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response

from apps.core import context
from apps.core.errors import ApplicationError

logger = logging.getLogger(__name__)

_DRF_CODES = {
    drf_exceptions.ValidationError: "validation_error",
    drf_exceptions.ParseError: "parse_error",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "rate_limited",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "fields": fields or {},
            "request_id": context.current().request_id,
        }
    }


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests errors (lists of dicts for nested serializers); flatten to dotted keys."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                for k, v in _flatten(item, f"{prefix}.{index}" if prefix else str(index)).items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def api_exception_handler(exc: Exception, ctx: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body past DATA_UPLOAD_MAX_MEMORY_SIZE
        # (https://docs.djangoproject.com/en/5.2/ref/settings/#data-upload-max-memory-size).
        message = _("The request body is too large (at most %(size)d bytes).") % {
            "size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        }
        return Response(error_body("request_too_large", message), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if isinstance(exc, drf_exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        code = code or (exc.default_code if isinstance(exc.default_code, str) else "error")
        if isinstance(exc, drf_exceptions.ValidationError):
            fields = _flatten(exc.detail)
            message = _("Invalid input.")
            if list(fields) == ["non_field_errors"]:
                message = fields["non_field_errors"][0]
        else:
            fields = {}
            message = str(exc.detail)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        return Response(error_body(code, message, fields), status=exc.status_code, headers=headers)

    if _is_transient_database_conflict(exc):
        # PostgreSQL broke a deadlock or a serialisation conflict by rolling this transaction back:
        # nothing was written, and the same request will very likely pass (PostgreSQL docs, "Deadlocks",
        # https://www.postgresql.org/docs/15/explicit-locking.html#LOCKING-DEADLOCKS).
        logger.warning("API request rolled back by the database (%s); the client may retry", exc)
        return Response(
            error_body("try_again", _("Another request changed the same objects at the same moment. Try again.")),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    logger.exception("Unhandled API error", exc_info=exc)
    return Response(
        error_body("server_error", _("Something went wrong on our side. Quote the request id to support.")),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _is_transient_database_conflict(exc: BaseException) -> bool:
    """A deadlock or serialisation failure (SQLSTATE 40P01 / 40001), raised as Django's OperationalError."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in ("40P01", "40001")
