"""Billing tasks: budgets (hourly evaluation, webhook delivery). Thin: load ids, call ``services.budgets``."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task

from apps.billing import services, task_names
from apps.billing.models import BudgetAlert
from apps.billing.services.budgets import WebhookTransientError

WEBHOOK_MAX_RETRIES = 6


@shared_task(bind=True, name=task_names.BUDGETS_EVALUATE, acks_late=True)
def budgets_evaluate(self: Any) -> int:
    """Hourly (beat): evaluate every active budget; returns the number of alerts created."""
    return services.budgets_evaluate_all()


@shared_task(bind=True, name=task_names.BUDGET_WEBHOOK_SEND, acks_late=True, max_retries=WEBHOOK_MAX_RETRIES)
def budget_webhook_send(self: Any, alert_id: int) -> str:
    """POST one alert to its budget's webhook; retried with exponential backoff and jitter on
    connection errors, timeouts and 5xx (30 s, 1 min, 2 min … capped at 30 min)."""
    alert = BudgetAlert.objects.select_related("budget__organisation", "budget__project").filter(pk=alert_id).first()
    if alert is None:
        return "gone"
    final = self.request.retries >= self.max_retries
    try:
        return services.budget_webhook_deliver(alert=alert, final_attempt=final)
    except WebhookTransientError as exc:
        if self.request.is_eager:
            # An eager run (tests, the embedded dev run) has no broker to schedule a retry: retry at once.
            return str(budget_webhook_send.apply(args=[alert_id], retries=self.request.retries + 1).result)
        countdown = min(1800, 30 * 2**self.request.retries) + random.randint(0, 10)  # noqa: S311 -- jitter
        raise self.retry(exc=exc, countdown=countdown) from exc
