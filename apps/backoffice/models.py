"""Staff notes: what support learnt about an organisation, kept beside its audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.teams.models import Organisation


class StaffNote(models.Model):
    """A note staff write on an organisation's page; never shown to the customer. Written by ``staff_note_create``."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="staff_notes", verbose_name=_("organisation")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_label = models.CharField(_("by"), max_length=254, blank=True)
    body = models.TextField(_("note"), max_length=4000)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("staff note")
        verbose_name_plural = _("staff notes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.author_label or '?'}: {self.body[:60]}"
