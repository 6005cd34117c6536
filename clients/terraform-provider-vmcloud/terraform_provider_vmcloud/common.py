"""What every resource shares: SDK errors as diagnostics, ``timeouts`` durations, state helpers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import vmcloud
from tf.utils import Diagnostics

if TYPE_CHECKING:
    from .provider import VMCloudProvider

T = TypeVar("T")

DEFAULT_TIMEOUT = 20 * 60.0
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class Failed(Exception):
    """Raised after a diagnostic was added: stops the operation."""


def parse_duration(value: str | None, default: float = DEFAULT_TIMEOUT) -> float:
    """``"1h30m"``, ``"10m"``, ``"45s"`` in seconds (Terraform's ``timeouts`` convention)."""
    if not value:
        return default
    match = _DURATION.match(value.strip())
    if not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration such as 30s, 10m or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def timeout(state: dict[str, Any] | None, operation: str) -> float:
    block = (state or {}).get("timeouts") or {}
    return parse_duration(block.get(operation) if isinstance(block, dict) else None)


def error_detail(exc: BaseException) -> tuple[str, str]:
    """A diagnostic's summary and detail; an API error names its code and request id."""
    if isinstance(exc, vmcloud.APIError):
        detail = f"{exc.one_line()}\nHTTP {exc.status}, code {exc.code}, request id {exc.request_id or '-'}"
        return f"VMCloud API error: {exc.code}", detail
    if isinstance(exc, vmcloud.ActionFailed):
        return f"VMCloud action failed: {exc.code}", str(exc)
    if isinstance(exc, vmcloud.ActionTimeout):
        return "VMCloud action timed out", f"{exc} (raise the `timeouts` of this resource)"
    return f"VMCloud: {type(exc).__name__}", str(exc)


@contextmanager
def reporting(diags: Diagnostics, what: str) -> Iterator[None]:
    """Turn an SDK error into an error diagnostic, then ``Failed``."""
    try:
        yield
    except vmcloud.VMCloudError as exc:
        summary, detail = error_detail(exc)
        diags.add_error(f"{what}: {summary}", detail)
        raise Failed from exc
    except ValueError as exc:
        diags.add_error(f"{what}: invalid value", str(exc))
        raise Failed from exc


def run(diags: Diagnostics, what: str, fn: Callable[[], T]) -> T | None:
    try:
        with reporting(diags, what):
            return fn()
    except Failed:
        return None


def labels_out(api_value: Any, prior: Any) -> dict[str, str] | None:
    """The API answers ``{}`` for no labels; keep ``null`` when the configuration had none."""
    labels = dict(api_value or {})
    if not labels and not prior:
        return prior if prior == {} else None
    return labels


def client_of(provider: VMCloudProvider) -> vmcloud.Client:
    return provider.client()
