"""Core models: the abstract timestamped base and the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.choices import ActorKind


class TimeStampedModel(models.Model):
    """Abstract base: creation and last-change times on every row."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One mutating action, written in the same transaction as the change.

    Append-only: on PostgreSQL a trigger (migration 0002) rejects UPDATE and
    DELETE; the admin is read-only. Foreign keys are kept without database
    constraints so deleting a user or an object never rewrites history: the
    ``*_label`` / ``target_repr`` snapshots keep the trail readable.
    """

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("actor label"), max_length=254, blank=True)
    actor_token = models.CharField(
        _("API token"), max_length=64, blank=True, help_text=_("Token prefix when the action came through a token.")
    )
    # Organisations live in apps.teams, above core: a plain indexed id keeps
    # core at the bottom of the import graph.
    organisation_id = models.BigIntegerField(_("organisation id"), null=True, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=400, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation_id", "-created_at"]),
            models.Index(fields=["target_type", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label or self.actor_kind} {self.action}"


class UnsentTask(models.Model):
    """A Celery task the broker refused after its transaction committed, waiting to be sent again.

    ``apps.core.services.task_enqueue`` writes one when publishing fails (RabbitMQ restarting, a
    network cut); the beat task ``core.resend_unsent_tasks`` sends them again every 30 seconds once
    the broker is back and deletes each row it sent. Every task is idempotent (it claims its work
    with a conditional UPDATE), so a task sent twice does nothing the second time.
    """

    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    error = models.CharField(_("last error"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    created_at = models.DateTimeField(_("first refused at"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), auto_now=True)

    class Meta:
        verbose_name = _("unsent task")
        verbose_name_plural = _("unsent tasks")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)!r}"
