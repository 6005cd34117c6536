"""The audit log records who did what, and cannot be rewritten."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from apps.core import context
from apps.core.choices import ActorKind
from apps.core.models import AuditEvent
from apps.core.services import audit_record

pytestmark = pytest.mark.django_db


def test_audit_record_takes_request_context(user):
    token = context.bind(context.RequestContext(request_id="req-abc-123", ip="192.0.2.7", user_agent="pytest"))
    try:
        event = audit_record(actor=user, action="thing.update", target=user, changes={"name": ["a", "b"]})
    finally:
        context.reset(token)
    event.refresh_from_db()
    assert event.actor_kind == ActorKind.USER
    assert event.actor_label == user.email
    assert (event.request_id, event.ip, event.user_agent) == ("req-abc-123", "192.0.2.7", "pytest")
    assert event.target_id == str(user.pk)


def test_audit_record_without_actor_is_system():
    event = audit_record(actor=None, action="beat.tick")
    assert event.actor_kind == ActorKind.SYSTEM


def test_audit_events_cannot_be_updated_or_deleted(user):
    event = audit_record(actor=user, action="thing.create")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.action == "thing.create"
