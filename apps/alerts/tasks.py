"""Alerts tasks: the evaluation beat and webhook delivery. Thin: load ids, call ``services``."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task

from apps.alerts import services, task_names
from apps.alerts.models import AlertIncident

WEBHOOK_MAX_RETRIES = 6


@shared_task(bind=True, name=task_names.EVALUATE, acks_late=True)
def alerts_evaluate(self: Any) -> dict[str, int]:
    """Every minute (beat): open and resolve incidents; idempotent, safe to run twice at once."""
    return services.alerts_evaluate_all()


@shared_task(bind=True, name=task_names.WEBHOOK_SEND, acks_late=True, max_retries=WEBHOOK_MAX_RETRIES)
def alerts_webhook_send(self: Any, incident_id: int, event: str) -> str:
    """POST one incident event to its policy's webhook; retried with exponential backoff and jitter on
    connection errors, timeouts and 5xx only (30 s, 1 min, 2 min … capped at 30 min)."""
    incident = AlertIncident.objects.select_related("policy__organisation", "instance").filter(pk=incident_id).first()
    if incident is None:
        return "gone"
    final = self.request.retries >= self.max_retries
    try:
        return services.alert_webhook_deliver(incident=incident, event=event, final_attempt=final)
    except services.WebhookTransientError as exc:
        if self.request.is_eager:
            # An eager run (tests, the embedded dev run) has no broker to schedule a retry: retry at once.
            return str(alerts_webhook_send.apply(args=[incident_id, event], retries=self.request.retries + 1).result)
        countdown = min(1800, 30 * 2**self.request.retries) + random.randint(0, 10)  # noqa: S311 -- jitter
        raise self.retry(exc=exc, countdown=countdown) from exc
