"""Per-request context (request id, client IP, user agent) carried in contextvars.

The middleware fills it for web requests; Celery tasks run with the defaults
(no request). Audit events and log lines read it, so no function needs the
request passed down just to record who asked.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "vmcloud_request_context",
    default=RequestContext(),  # noqa: B039 - frozen dataclass, immutable
)


def current() -> RequestContext:
    return _current.get()


def bind(ctx: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(ctx)


def reset(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex
