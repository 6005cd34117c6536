"""Core reads: the audit trail."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.models import AuditEvent


def audit_event_list(*, organisation_id: int | None = None) -> QuerySet[AuditEvent]:
    """Audit events, newest first; scoped to one organisation when given.

    Callers (teams) check that the actor may read the organisation's trail.
    """
    qs = AuditEvent.objects.select_related("target_type")
    if organisation_id is not None:
        qs = qs.filter(organisation_id=organisation_id)
    return qs
