"""Log records stamped with who and what they concern, as plain text or JSON lines.

Every record gets ``request_id`` (apps.core.middleware), ``user_id`` and
``organisation_id`` of the current web request once they are known, the Celery
``task_id`` and ``task_name`` inside a task, and ``upid`` when a Proxmox task id
is among the message's arguments. ``LOG_FORMAT=json`` (the image's default)
writes one JSON object per line for the log pipeline. Docs:
apps/docs/content/production.md ("Logs").
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from apps.core import context

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("vmcloud_log_request", default=None)


class LogContextMiddleware:
    """Makes the current request visible to the logging filter (user and organisation)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def _resolved_user_id(request: HttpRequest) -> Any:
    """The user's id if authentication already ran; never triggers a session query from a log call."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or wrapped is empty:  # a SimpleLazyObject nobody evaluated yet
        return None
    return getattr(wrapped, "pk", None)


def _organisation_id(request: HttpRequest) -> Any:
    organisation = request.__dict__.get("_current_organisation")  # set by the portal's organisation switcher
    if organisation:
        return getattr(organisation, "pk", None)
    token = request.__dict__.get("auth")  # an API token names its organisation
    return getattr(token, "organisation_id", None)


def _current_task() -> tuple[str, str]:
    from celery import current_task

    task = current_task._get_current_object() if current_task else None
    if task is None or task.request is None or not task.request.id:
        return "", ""
    return str(task.request.id), str(task.name)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current().request_id or "-"
        request = _request.get()
        record.user_id = _resolved_user_id(request) if request is not None else None
        record.organisation_id = _organisation_id(request) if request is not None else None
        record.task_id, record.task_name = _current_task()
        record.upid = next(
            (a for a in (record.args if isinstance(record.args, tuple) else ()) if str(a).startswith("UPID:")), None
        )
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line; empty context fields are left out."""

    CONTEXT_FIELDS = ("request_id", "user_id", "organisation_id", "task_id", "task_name", "upid")

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        for field in self.CONTEXT_FIELDS:
            value = getattr(record, field, None)
            if value in (None, "", "-"):
                log_record.pop(field, None)
            else:
                log_record[field] = value
