"""Alert webhooks: which URLs may receive them, their JSON body, their signature, and delivering one.

Webhooks are signed as budget webhooks are (apps/docs/content/alerts.md, "Webhooks"): HTTPS to a public
address only, ``X-VMCloud-Signature: t=<unix time>,v1=<HMAC-SHA256>``. A delivery is sent once per event
and stores its result on the incident; a connection error, a timeout or a 5xx raises
``WebhookTransientError`` so that the task retries.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.alerts.choices import AlertEvent
from apps.alerts.models import AlertIncident
from apps.core import outbound
from apps.core.outbound import OutboundError, OutboundRefused


class WebhookTransientError(Exception):
    """The receiver could not be reached or answered 5xx: worth retrying."""


def webhook_url_error(url: str) -> str | None:
    """Why ``url`` cannot receive alert webhooks, or None (never fetches it).

    HTTPS to a public address only, as for budget webhooks (``apps.core.outbound.webhook_url_error``);
    plain http to the loopback interface when ``ALERTS_WEBHOOK_ALLOW_LOOPBACK`` (development and tests).
    """
    return outbound.webhook_url_error(url, allow_loopback=settings.ALERTS_WEBHOOK_ALLOW_LOOPBACK)


def alert_webhook_payload(*, incident: AlertIncident, event: str) -> dict[str, Any]:
    """The JSON body of a webhook (apps/docs/content/alerts.md, "Webhooks")."""
    policy = incident.policy
    return {
        "event": f"alert.{event}",
        "incident": {
            "id": str(incident.public_id),
            "opened_at": incident.opened_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "value": str(incident.value),
            "peak_value": str(incident.peak_value),
            "last_value": str(incident.last_value),
        },
        "policy": {
            "id": str(policy.public_id),
            "name": policy.name,
            "metric": policy.metric,
            "unit": policy.unit,
            "comparison": policy.comparison,
            "threshold": str(policy.threshold),
            "duration_minutes": policy.duration_minutes,
        },
        "server": {"id": str(incident.instance.public_id), "name": incident.instance.name},
        "organisation": {"id": policy.organisation_id, "name": policy.organisation.name},
    }


def alert_webhook_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the policy's secret>`` (as budget webhooks)."""
    return outbound.webhook_signature(secret=secret, body=body, timestamp=timestamp)


def alert_webhook_signature_verify(*, secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the signature and compare in constant time, within ``tolerance`` s."""
    return outbound.webhook_signature_verify(secret=secret, body=body, header=header, tolerance=tolerance)


def alert_webhook_deliver(*, incident: AlertIncident, event: str, final_attempt: bool = False) -> str:
    """POST one event of an incident to its policy's webhook, once; store the result on the incident.

    Raises ``WebhookTransientError`` on a connection error, a timeout or a 5xx (the task retries with
    backoff), unless this is the final attempt. A 4xx is final: the receiver refused it.
    """
    policy = incident.policy
    stamp = "webhook_sent_at" if event == AlertEvent.FIRED else "webhook_resolved_sent_at"
    if getattr(incident, stamp) is not None or not policy.webhook_url:
        return incident.webhook_status
    error = webhook_url_error(policy.webhook_url)
    if error:
        return _store(incident, f"refused: {error}")
    try:
        response = outbound.webhook_post(
            policy.webhook_url,
            payload=alert_webhook_payload(incident=incident, event=event),
            secret=policy.webhook_secret,
            allow_loopback=settings.ALERTS_WEBHOOK_ALLOW_LOOPBACK,
        )
    except OutboundRefused as exc:
        return _store(incident, f"refused: {exc}")
    except OutboundError as exc:
        status = f"{event}: error {exc.kind}"
        _store(incident, status + ("" if final_attempt else ", retrying"))
        if final_attempt:
            return incident.webhook_status
        raise WebhookTransientError(status) from exc
    status = f"{event}: HTTP {response.status}"
    if response.status >= 500 and not final_attempt:
        _store(incident, status + ", retrying")
        raise WebhookTransientError(status)
    return _store(incident, status, sent_field=stamp if 200 <= response.status < 300 else None)


def _store(incident: AlertIncident, status: str, *, sent_field: str | None = None) -> str:
    fields: dict[str, Any] = {"webhook_status": status[:100]}
    if sent_field:
        fields[sent_field] = timezone.now()
    AlertIncident.objects.filter(pk=incident.pk).update(**fields)
    for key, value in fields.items():
        setattr(incident, key, value)
    return incident.webhook_status
