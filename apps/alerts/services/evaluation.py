"""The evaluation of alert policies (beat ``alerts.evaluate``, every minute): open and resolve incidents.

The evaluation is the platform acting: it reads each watched server's ``rrddata`` through
``apps.instances.services.instance_metrics``, then opens an incident in a savepoint that the partial
unique constraint ``uniq_open_alert_incident`` guards (two evaluations at once open one), and resolves
it with a conditional UPDATE (one of them wins). Notifications leave after commit (``notification``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.alerts import rules, selectors
from apps.alerts.choices import AlertEvent
from apps.alerts.models import AlertIncident, AlertPolicy
from apps.alerts.services.notification import alert_incident_notify
from apps.core.services import audit_record
from apps.instances.models import Instance
from apps.instances.services import instance_metrics

logger = logging.getLogger(__name__)


def alerts_evaluate_all(*, now: datetime | None = None) -> dict[str, int]:
    """Evaluate every enabled policy on every server it watches; resolve what is no longer watched.

    Idempotent: an evaluation that finds the state already right changes nothing. Returns counts.
    """
    now = now or timezone.now()
    counts = {"opened": 0, "resolved": 0, "evaluated": 0}
    points_cache: dict[int, list[Any] | None] = {}
    watched: set[tuple[int, int]] = set()
    for policy in selectors.alert_policies_enabled():
        for instance in selectors.alert_policy_targets(policy=policy):
            watched.add((policy.pk, instance.pk))
            if instance.pk not in points_cache:
                points_cache[instance.pk] = _points(instance)
            points = points_cache[instance.pk]
            if points is None:
                continue  # Proxmox unreachable: leave the state as it is
            counts["evaluated"] += 1
            result = alert_policy_evaluate(policy=policy, instance=instance, points=points, now=now)
            if result:
                counts[result] += 1
    for incident in AlertIncident.objects.filter(resolved_at__isnull=True).select_related("policy"):
        # The policy was disabled, the server stopped or no longer matches: the incident ends.
        unwatched = (incident.policy_id, incident.instance_id) not in watched
        if unwatched and _resolve(incident=incident, value=None, now=now):
            counts["resolved"] += 1
    return counts


def _points(instance: Instance) -> list[Any] | None:
    try:
        return instance_metrics(instance=instance, actor=None, timeframe="hour")
    except Exception:
        # A cluster that does not answer must not stop the other servers' evaluation (retried next minute).
        logger.warning("alerts: metrics of instance %s could not be read", instance.pk, exc_info=True)
        return None


def alert_policy_evaluate(*, policy: AlertPolicy, instance: Instance, points: list[Any], now: datetime) -> str | None:
    """Open or resolve the incident of one policy on one server from its ``rrddata`` points.

    Returns "opened", "resolved" or None (nothing changed, or no data for the window).
    """
    value = rules.window_average(points, metric=policy.metric, minutes=policy.duration_minutes, now=now.timestamp())
    if value is None:
        return None
    breach = rules.fires(value=value, comparison=policy.comparison, threshold=policy.threshold)
    open_incident = AlertIncident.objects.filter(policy=policy, instance=instance, resolved_at__isnull=True).first()
    if open_incident is not None:
        if not breach:
            return "resolved" if _resolve(incident=open_incident, value=value, now=now) else None
        peak = rules.worse(open_incident.peak_value, value, comparison=policy.comparison)
        AlertIncident.objects.filter(pk=open_incident.pk).update(peak_value=peak, last_value=value)
        return None
    if not breach:
        return None
    try:
        with transaction.atomic():
            incident = AlertIncident.objects.create(
                policy=policy,
                instance=instance,
                opened_at=now,
                value=value,
                peak_value=value,
                last_value=value,
            )
            audit_record(
                actor=None,
                action="alerts.incident.open",
                target=incident,
                organisation_id=policy.organisation_id,
                changes={"policy": str(policy.public_id), "server": str(instance.public_id), "value": str(value)},
            )
            incident_id = incident.pk
            transaction.on_commit(lambda: alert_incident_notify(incident_id=incident_id, event=AlertEvent.FIRED))
    except IntegrityError:
        return None  # another evaluation opened it first (uniq_open_alert_incident)
    return "opened"


def _resolve(*, incident: AlertIncident, value: Decimal | None, now: datetime) -> bool:
    with transaction.atomic():
        fields: dict[str, Any] = {"resolved_at": now}
        if value is not None:
            fields["last_value"] = value
        claimed = AlertIncident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(**fields)
        if not claimed:
            return False  # another evaluation resolved it
        audit_record(
            actor=None,
            action="alerts.incident.resolve",
            target=incident,
            organisation_id=incident.policy.organisation_id,
            changes={"value": None if value is None else str(value)},
        )
        incident_id = incident.pk
        transaction.on_commit(lambda: alert_incident_notify(incident_id=incident_id, event=AlertEvent.RESOLVED))
    return True
