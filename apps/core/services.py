"""Core services: recording audit events.

Every service that changes state calls ``audit_record`` inside its own
``transaction.atomic`` block, so the event commits or rolls back with the
change it describes.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from apps.core import context
from apps.core.actors import Actor, actor_token_prefix, actor_user
from apps.core.choices import ActorKind
from apps.core.models import AuditEvent, UnsentTask

logger = logging.getLogger(__name__)


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    organisation_id: int | None = None,
    changes: dict[str, Any] | None = None,
    actor_kind: ActorKind | None = None,
    token_prefix: str | None = None,
) -> AuditEvent:
    """Append one audit event; request id, IP and user agent come from the request context.

    The one audit call of the platform: every service calls it inside its own transaction. The
    user and the API token (``token_prefix``, by default the token ``actor`` acts through) come
    from ``apps.core.actors``; ``actor_kind`` says STAFF for back-office acts, else it follows.
    """
    user = actor_user(actor)
    if token_prefix is None:
        token_prefix = actor_token_prefix(actor)
    if actor_kind is None:
        if user is None:
            actor_kind = ActorKind.SYSTEM
        elif token_prefix:
            actor_kind = ActorKind.TOKEN
        else:
            actor_kind = ActorKind.USER
    ctx = context.current()
    return AuditEvent.objects.create(
        actor_kind=actor_kind,
        actor_user=user,  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        actor_label=(user.get_username() if user is not None else "system")[:254],
        actor_token=token_prefix,
        organisation_id=organisation_id,
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        changes=changes or {},
        ip=ctx.ip,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
    )


def model_changes(instance: models.Model, fields: list[str], before: dict[str, Any]) -> dict[str, Any]:
    """A {field: [old, new]} summary of the fields that changed, JSON-safe."""
    out: dict[str, Any] = {}
    for name in fields:
        new = getattr(instance, name)
        if before.get(name) != new:
            out[name] = [_jsonable(before.get(name)), _jsonable(new)]
    return out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def task_enqueue(task_name: str, *args: Any) -> None:
    """Send the Celery task ``task_name`` once the current transaction commits (at once outside one).

    By name, so services never import tasks. The registered task object honours
    ``CELERY_TASK_ALWAYS_EAGER``; ``send_task`` by name (a task another process
    registers) does not.
    """

    def send() -> None:
        try:
            _task_send(task_name, args)
        except BrokerUnreachable as exc:
            # What called us has committed: failing the request now would only hide it (the client
            # would retry and find it done, its task never sent). The task waits in ``UnsentTask``
            # and ``core.resend_unsent_tasks`` (beat, every 30 s) sends it once the broker is back.
            logger.error("task %s%r not sent, the broker is unreachable: %s", task_name, args, exc)
            _unsent_record(task_name, args, exc)

    transaction.on_commit(send)


def _task_send(task_name: str, args: list[Any] | tuple[Any, ...]) -> None:
    task = current_app.tasks.get(task_name)
    if task is not None:
        task.delay(*args)
    else:
        current_app.send_task(task_name, args=list(args))


def _unsent_record(task_name: str, args: tuple[Any, ...], exc: Exception) -> None:
    try:
        UnsentTask.objects.create(task_name=task_name, args=list(args), error=str(exc)[:500])
    except Exception:  # the database may be down too: the log line above is all that is left
        logger.exception("task %s%r could not be kept for a resend", task_name, args)


def unsent_tasks_resend(*, limit: int = 1000) -> tuple[int, int]:
    """Send again the tasks the broker refused; returns (sent, still waiting).

    Rows are claimed ``FOR UPDATE SKIP LOCKED`` so two runs never send one row twice, and each row is
    deleted in the transaction that sent it. The first refusal stops the run: the broker is still away.
    """
    sent = 0
    while sent < limit:
        with transaction.atomic():
            row = UnsentTask.objects.select_for_update(skip_locked=True).order_by("id").first()
            if row is None:
                break
            try:
                _task_send(row.task_name, row.args)
            except BrokerUnreachable as exc:
                UnsentTask.objects.filter(pk=row.pk).update(
                    attempts=models.F("attempts") + 1, error=str(exc)[:500], last_attempt_at=timezone.now()
                )
                break
            row.delete()
            sent += 1
    return sent, UnsentTask.objects.count()


def site_configure() -> Any:
    """Make the ``django.contrib.sites`` row say who we are: ``SITE_NAME`` and the host of ``SITE_URL``.

    allauth writes the site's name into every e-mail subject ("[VMCloud] …") and its domain into
    links; Django creates the row as "example.com". The data migration core 0003 and ``make run``'s
    ``demo_setup`` call this, so a changed ``SITE_URL`` reaches an existing database too.
    """
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.sites.models import Site

    domain = urlsplit(settings.SITE_URL).netloc or "localhost"
    site, _created = Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"domain": domain[:100], "name": settings.SITE_NAME[:50]}
    )
    Site.objects.clear_cache()
    return site
