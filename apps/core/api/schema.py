"""drf-spectacular post-processing: document the one error body and the common headers on every operation.

Adds the ``Error`` component and, per operation, the error responses it can
give unless the view documents its own:

* 400 on writes and on operations with parameters, 429 and 500 everywhere;
* 401/403 where login is needed, and 404 there too (an ``organisation``
  parameter, body field or path id naming nothing the caller can see), and on
  every path with an id;
* each ``4xx `code``` the operation's description names (``409 `last_owner```,
  ``409 `project_is_default` / `project_not_empty```): the prose a view
  writes for people is also what the schema promises, so the two cannot drift.

Every response documents ``X-Request-ID`` and the ``RateLimit-*`` headers
(apps/core/middleware.py, apps/teams/middleware.py); 429 documents
``Retry-After``. ``make test`` checks all of it against a live server with
schemathesis (tests/contract/).
Docs: https://drf-spectacular.readthedocs.io/en/latest/customization.html#step-7-preprocessing-postprocessing-hooks
and apps/docs/content/api-overview.md ("Errors", "Headers").
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The body of every API error.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable machine-readable code, e.g. `validation_error`, `not_found`.",
                    "example": "validation_error",
                },
                "message": {"type": "string", "description": "Human-readable summary.", "example": "Invalid input."},
                "fields": {
                    "type": "object",
                    "description": "Per-field messages; nested fields use dotted keys.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "example": {"hostname": ["Enter a valid hostname."]},
                },
                "request_id": {
                    "type": "string",
                    "description": "Also in the X-Request-ID header; quote it to support.",
                    "example": "4f1c2b9e0d6a4c8e9b7a1d2e3f405162",
                },
            },
            "required": ["code", "message", "fields", "request_id"],
        }
    },
    "required": ["error"],
}

_DESCRIPTIONS = {
    "400": "Invalid input: see `error.fields`.",
    "401": "Not authenticated.",
    "403": "Authenticated but not allowed.",
    "404": "Not found, or not visible to you.",
    "409": "Conflicts with the current state.",
    "422": "Understood but refused.",
    "429": "Rate limited: retry after the `Retry-After` header.",
    "500": "Server error: quote `error.request_id` to support.",
}


DESCRIPTION = (
    "The VMCloud public API: catalogue, organisations, orders, instances and billing.\n\n"
    "Every error has the same body (`Error`): `error.code`, stable and machine-readable; "
    "`error.message`, for people; `error.fields`, the messages per input field (dotted keys for "
    "nested fields, `non_field_errors` for the whole input); and `error.request_id`, to quote to support. "
    "Every response carries `X-Request-ID` and the `RateLimit-Limit`, `RateLimit-Remaining` and "
    "`RateLimit-Reset` headers; a 429 carries `Retry-After` (seconds). "
    "See https://docs.vmcloud.example/docs/api-overview/ or /docs/api-overview/ on this site."
)

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "This request's id (yours if you sent a sane `X-Request-ID`); also `error.request_id`.",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    },
    "RateLimit-Limit": {
        "description": "Requests allowed in the current window for your token, user or address.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the window frees a request.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying (RFC 9110, 10.2.3).",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
}
_EVERY_RESPONSE = ["X-Request-ID", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]

# "409 `last_owner`", "(409 `project_is_default` / `project_not_empty`)", "409 `a` or `b`".
_PROSE_STATUS = re.compile(r"\b(4\d\d)\s+((?:`[a-z0-9_]+`(?:\s*(?:/|,|or)\s*)?)+)")
_PROSE_CODE = re.compile(r"`([a-z0-9_]+)`")
_METHODS = {"get", "post", "put", "patch", "delete"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _needs_login(operation: dict[str, Any]) -> bool:
    return bool(operation.get("security")) and {} not in operation["security"]


# Errors that the services raise but the operation's prose does not name yet (their views are
# being reworked elsewhere); the schemathesis stage finds any that are missing (tests/contract/).
EXTRA_ERRORS: dict[str, dict[str, list[str]]] = {
    "members_destroy": {"409": ["last_owner"]},
    "invitations_create": {"409": ["invitation_pending", "already_member"]},
    "invitations_accept": {"409": ["invitation_not_pending", "already_member"], "403": ["invitation_email_mismatch"]},
    "invitations_decline": {"409": ["invitation_not_pending"]},
    "organisations_transfer_ownership": {"403": ["owner_required"]},
}


# PATCH operations whose view validates the whole input (drf-spectacular documents every PATCH
# body as partial, "Patched…", with nothing required): the fields they do require.
PATCH_REQUIRED: dict[str, list[str]] = {
    "members_partial_update": ["role"],
}


def _require_in_patch(result: dict[str, Any], operation: dict[str, Any]) -> None:
    for field in PATCH_REQUIRED.get(operation.get("operationId", ""), []):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            ref = media.get("schema", {}).get("$ref", "")
            component = result["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
            if field in component.get("properties", {}) and field not in component.setdefault("required", []):
                component["required"].append(field)
        operation.get("requestBody", {})["required"] = True


def _prose_errors(operation: dict[str, Any]) -> dict[str, list[str]]:
    """Status -> error codes that the operation's description or parameters promise (``409 `last_owner```)."""
    texts = [operation.get("description", "")]
    texts += [parameter.get("description", "") for parameter in operation.get("parameters", [])]
    found: dict[str, list[str]] = {}
    for status, codes in _PROSE_STATUS.findall("\n".join(texts)):
        for code in _PROSE_CODE.findall(codes):
            if code not in found.setdefault(status, []):
                found[status].append(code)
    for status, codes in EXTRA_ERRORS.get(operation.get("operationId", ""), {}).items():
        found.setdefault(status, []).extend(code for code in codes if code not in found[status])
    return found


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("info", {})["description"] = DESCRIPTION
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components.setdefault("headers", {}).update(HEADERS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            _require_in_patch(result, operation)
            codes = ["429", "500"]
            if method != "get" or operation.get("parameters"):
                codes.append("400")
            if _needs_login(operation):
                codes += ["401", "403", "404"]
            if "{" in path:
                codes.append("404")
            responses = operation.setdefault("responses", {})
            for code in sorted(set(codes)):
                responses.setdefault(code, _error(_DESCRIPTIONS[code]))
            for status, error_codes in _prose_errors(operation).items():
                named = ", ".join(f"`{code}`" for code in error_codes)
                response = responses.setdefault(status, _error(_DESCRIPTIONS.get(status, "")))
                response["description"] = " ".join(
                    part for part in (response.get("description", ""), f"`error.code`: {named}.") if part
                )
            for status, response in responses.items():
                if status[0] in "45":
                    # Every error leaves through apps.core.api.exceptions: the one body, whatever a view declared.
                    response["content"] = _error("")["content"]
                    response["description"] = response.get("description") or _DESCRIPTIONS.get(status, "Refused.")
                headers = response.setdefault("headers", {})
                for name in _EVERY_RESPONSE + (["Retry-After"] if status == "429" else []):
                    headers.setdefault(name, {"$ref": f"#/components/headers/{name}"})
    return result


class DecimalFieldSchema(OpenApiSerializerFieldExtension):
    """A decimal string's pattern says what the field accepts: its bounds' sign and zero, and at least one digit.

    drf-spectacular's own pattern (``^-?\\d{0,10}(?:\\.\\d{0,2})?$``) allows ``""``, ``"."``, ``"-5"``
    and ``"0"``, which a budget's ``amount`` (at least 0.01) refuses: a schema-valid request refused.
    ASCII digits only (``\\d`` is any Unicode digit to a regex engine). Registered by apps.core.apps.
    """

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field: serializers.DecimalField = self.target
        if not getattr(field, "coerce_to_string", True) or field.max_whole_digits is None:
            return auto_schema._map_serializer_field(field, direction, bypass_extensions=True)  # type: ignore[no-any-return]
        schema: dict[str, Any] = {**(build_basic_type(OpenApiTypes.STR) or {}), "format": "decimal"}
        whole, places = field.max_whole_digits, field.decimal_places
        minimum = field.min_value
        sign = "" if minimum is not None and Decimal(minimum) >= 0 else "-?"
        # A positive minimum: refuse every spelling of zero (0, 00.0, .00).
        not_zero = "(?!0*(?:\\.0*)?$)" if minimum is not None and Decimal(minimum) > 0 else ""
        number = (
            f"[0-9]{{1,{whole}}}(?:\\.[0-9]{{0,{places}}})?|\\.[0-9]{{1,{places}}}" if places else f"[0-9]{{1,{whole}}}"
        )
        if whole == 0:
            number = f"0?\\.[0-9]{{1,{places}}}|0"
        schema["pattern"] = f"^{sign}{not_zero}(?:{number})$"
        return schema


class CharFieldSchema(OpenApiSerializerFieldExtension):
    """A text input that may not be blank says so: DRF strips it first, so only-spaces is blank too.

    ``minLength: 1`` (drf-spectacular's) lets ``" "`` or a no-break space through, which DRF trims to
    ``""`` and refuses: a schema-valid request refused. The pattern asks for one non-space character.
    Only the plain ``CharField``: its subclasses (e-mail, URL, slug, regex) have their own formats.
    """

    target_class = "rest_framework.fields.CharField"
    match_subclasses = False

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field: serializers.CharField = self.target
        schema: dict[str, Any] = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        if direction == "request" and not field.allow_blank and field.trim_whitespace and "pattern" not in schema:
            schema["pattern"] = r"\S"
        return schema


class LabelsFieldSchema(OpenApiSerializerFieldExtension):
    """Labels document their key and value syntax and their number, as ``apps.core.labels`` checks them.

    The keys' syntax is in the description only: OpenAPI 3.0 has no ``propertyNames`` (3.1 has), so
    tests/contract lets the operations that take labels answer 400 to schema-valid keys.
    """

    target_class = "apps.core.api.fields.LabelsField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        from apps.core.labels import MAX_LABELS, VALUE_PATTERN

        schema: dict[str, Any] = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["maxProperties"] = MAX_LABELS
            schema["additionalProperties"] = {"type": "string", "pattern": f"^{VALUE_PATTERN}$", "maxLength": 63}
        return schema
