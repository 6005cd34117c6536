"""drf-spectacular post-processing: document the one error body on every operation.

Adds the ``Error`` component and, per operation, the error responses it can
give (400 on writes and filtered lists, 401/403 where login is needed, 404 on
object paths, 429 and 500 everywhere) unless the view documents its own.
Docs: https://drf-spectacular.readthedocs.io/en/latest/customization.html#step-7-preprocessing-postprocessing-hooks
"""

from __future__ import annotations

from typing import Any

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
    "429": "Rate limited: retry after the `Retry-After` header.",
    "500": "Server error: quote `error.request_id` to support.",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ["429", "500"]
            if method != "get" or operation.get("parameters"):
                codes.append("400")
            if operation.get("security") and {} not in operation["security"]:
                codes += ["401", "403"]
            if "{" in path:
                codes.append("404")
            responses = operation.setdefault("responses", {})
            for code in sorted(set(codes)):
                responses.setdefault(
                    code,
                    {"description": _DESCRIPTIONS[code], "content": {"application/json": {"schema": ref}}},
                )
    return result
