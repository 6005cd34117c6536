"""Writes of the alerts app: policies (create, update, delete), the evaluation that opens and resolves
incidents, and their notifications (e-mail, portal notice, signed webhook).

Policies are the organisation's resources: writes need ``resources.write`` and are audited in their
transaction. The evaluation (beat ``alerts.evaluate``, every minute) is the platform acting: it reads
each watched server's ``rrddata`` through ``apps.instances.services.instance_metrics``, then opens an
incident in a savepoint that the partial unique constraint ``uniq_open_alert_incident`` guards (two
evaluations at once open one), and resolves it with a conditional UPDATE (one of them wins). Each
notification is claimed by a conditional UPDATE of its ``*_notified_at`` after commit, so it leaves once.
Webhooks are signed as budget webhooks are (apps/docs/content/alerts.md, "Webhooks").
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.alerts import rules, selectors, task_names
from apps.alerts.choices import (
    PERCENT_METRICS,
    AlertComparison,
    AlertDuration,
    AlertEvent,
    AlertMetric,
)
from apps.alerts.models import AlertIncident, AlertNotice, AlertPolicy
from apps.core.actors import Actor, actor_is_back_office_staff, actor_user
from apps.core.errors import Conflict, ValidationFailed
from apps.core.labels import label_selector_parse, labels_validate
from apps.core.outbound import OutboundError, OutboundRefused, outbound_request
from apps.core.services import audit_record, task_enqueue
from apps.instances.models import Instance
from apps.instances.services import instance_metrics
from apps.teams.access import require_permission
from apps.teams.choices import Permission
from apps.teams.models import Membership, Organisation, Project

logger = logging.getLogger(__name__)

MAX_EMAILS = 10
WEBHOOK_TIMEOUT_SECONDS = 5
# A receiver's answer is not used; read a little of it so that a huge one costs nothing.
WEBHOOK_ANSWER_MAX_BYTES = 64 * 1024
SIGNATURE_HEADER = "X-VMCloud-Signature"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
UNSET: Any = object()


class WebhookTransientError(Exception):
    """The receiver could not be reached or answered 5xx: worth retrying."""


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
def alert_policy_authorise(actor: Actor, organisation: Organisation, obj: Any = None) -> None:
    """Policy writes need ``resources.write``; staff in the back office and the platform (None) may act."""
    if actor is None or actor_is_back_office_staff(actor):
        return
    require_permission(actor, organisation, Permission.RESOURCES_WRITE, obj=obj)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Invalid alert policy."), fields={field: [message]})


def webhook_url_error(url: str) -> str | None:
    """Why ``url`` cannot receive alert webhooks, or None (never fetches it).

    HTTPS to a public address only, as for budget webhooks; plain http to the loopback interface when
    ``ALERTS_WEBHOOK_ALLOW_LOOPBACK`` (development and tests).
    """
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        return _("Enter a valid URL.")
    if not host or parts.scheme not in ("https", "http") or parts.username or parts.password:
        return _("Enter an https:// URL without credentials.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host in LOOPBACK_NAMES or host.endswith(".localhost") or (address is not None and address.is_loopback):
        return (
            None if settings.ALERTS_WEBHOOK_ALLOW_LOOPBACK else _("The webhook URL must be a public https:// address.")
        )
    if parts.scheme != "https":
        return _("The webhook URL must use https://.")
    if address is not None and (address.is_private or address.is_link_local or address.is_reserved):
        return _("The webhook URL must be a public https:// address.")
    return None


def _name_clean(name: str, *, project: Project, exclude: int | None = None) -> str:
    clean = (name or "").strip()
    if not clean or len(clean) > 63:
        raise _invalid("name", _("1 to 63 characters."))
    taken = AlertPolicy.objects.filter(project=project, name=clean)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise _invalid("name", _("An alert policy of this project already has this name."))
    return clean


def _threshold_clean(value: Any, *, metric: str) -> Decimal:
    try:
        threshold = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise _invalid("threshold", _("Enter a number.")) from None
    if not threshold.is_finite() or threshold < 0:
        raise _invalid("threshold", _("Enter a number of 0 or more."))
    if metric in PERCENT_METRICS and threshold > rules.PERCENT_MAX:
        raise _invalid("threshold", _("A percentage is between 0 and 100."))
    if threshold > rules.NETWORK_MAX:
        raise _invalid("threshold", _("At most %(max)s bytes per second.") % {"max": rules.NETWORK_MAX})
    return threshold


def _emails_clean(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part.strip() for part in value.replace(";", ",").replace("\n", ",").split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or len(value) > MAX_EMAILS:
        raise _invalid("emails", _("Up to %(n)s e-mail addresses.") % {"n": MAX_EMAILS})
    out: list[str] = []
    for item in value:
        try:
            validate_email(item)
        except Exception:
            raise _invalid("emails", _("“%(value)s” is not an e-mail address.") % {"value": str(item)[:80]}) from None
        if item not in out:
            out.append(str(item))
    return out


def _target_clean(
    *, organisation: Organisation, project: Project, instance: Instance | None, label_selector: str
) -> tuple[Instance | None, str]:
    selector = (label_selector or "").strip()
    if (instance is None) == (not selector):
        raise _invalid("instance_id", _("Choose one server, or servers by a label selector (not both)."))
    if instance is not None:
        if instance.organisation_id != organisation.pk or instance.project_id != project.pk:
            raise _invalid("instance_id", _("Not a server of this project."))
        return instance, ""
    if len(selector) > 500:
        raise _invalid("label_selector", _("At most 500 characters."))
    try:
        label_selector_parse(selector)
    except ValueError as exc:
        raise _invalid("label_selector", str(exc)) from None
    return None, selector


def _choice(field: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = list(allowed)
    if value not in allowed:
        raise _invalid(field, _("Choose one of: %(values)s.") % {"values": ", ".join(str(a) for a in allowed)})
    return value


def alert_policy_quota_check(*, organisation: Organisation) -> None:
    """Refuse (409 ``quota_exceeded``) a policy past ``ALERTS_MAX_POLICIES_PER_ORGANISATION``.

    Call in the write's transaction: the organisation row is locked first, so two creates cannot both
    take the last slot.
    """
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    limit = int(settings.ALERTS_MAX_POLICIES_PER_ORGANISATION)
    if AlertPolicy.objects.filter(organisation=organisation).count() >= limit:
        raise Conflict(
            _("Your organisation may have %(n)s alert policies: delete one or ask us to raise the quota.")
            % {"n": limit},
            code="quota_exceeded",
        )


# ---------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------
def alert_policy_create(
    *,
    actor: Actor,
    organisation: Organisation,
    project: Project,
    name: str,
    metric: str,
    comparison: str,
    threshold: Any,
    duration_minutes: int = AlertDuration.FIVE,
    instance: Instance | None = None,
    label_selector: str = "",
    email_members: bool = True,
    emails: Any = None,
    portal_notice: bool = True,
    webhook_url: str = "",
    labels: Mapping[str, str] | None = None,
    enabled: bool = True,
) -> AlertPolicy:
    """Create a policy; a webhook URL gets a fresh signing secret (shown once by the API)."""
    alert_policy_authorise(actor, organisation)
    if project.organisation_id != organisation.pk:
        raise _invalid("project_id", _("Not a project of this organisation."))
    metric = _choice("metric", metric, AlertMetric.values)
    comparison = _choice("comparison", comparison, AlertComparison.values)
    duration_minutes = _choice("duration_minutes", duration_minutes, AlertDuration.values)
    clean_threshold = _threshold_clean(threshold, metric=metric)
    instance, selector = _target_clean(
        organisation=organisation, project=project, instance=instance, label_selector=label_selector
    )
    clean_emails = _emails_clean(emails)
    url = (webhook_url or "").strip()
    error = webhook_url_error(url)
    if error:
        raise _invalid("webhook_url", error)
    clean_labels = labels_validate(dict(labels or {}))
    with transaction.atomic():
        alert_policy_quota_check(organisation=organisation)
        policy = AlertPolicy.objects.create(
            organisation=organisation,
            project=project,
            name=_name_clean(name, project=project),
            labels=clean_labels,
            metric=metric,
            instance=instance,
            label_selector=selector,
            comparison=comparison,
            threshold=clean_threshold,
            duration_minutes=duration_minutes,
            email_members=bool(email_members),
            emails=clean_emails,
            portal_notice=bool(portal_notice),
            webhook_url=url,
            webhook_secret=secrets.token_hex(32) if url else "",
            enabled=bool(enabled),
            created_by=actor_user(actor),  # type: ignore[misc]
        )
        audit_record(
            actor=actor,
            action="alerts.policy.create",
            target=policy,
            organisation_id=organisation.pk,
            changes={"metric": metric, "comparison": comparison, "threshold": str(clean_threshold)},
        )
    return policy


def alert_policy_update(
    *,
    actor: Actor,
    policy: AlertPolicy,
    name: str | None = None,
    metric: str | None = None,
    comparison: str | None = None,
    threshold: Any = None,
    duration_minutes: int | None = None,
    instance: Instance | None = UNSET,
    label_selector: str | None = None,
    email_members: bool | None = None,
    emails: Any = None,
    portal_notice: bool | None = None,
    webhook_url: str | None = None,
    labels: Mapping[str, str] | None = None,
    enabled: bool | None = None,
) -> AlertPolicy:
    """Change what a policy watches or whom it tells. Open incidents stay open until the next evaluation."""
    alert_policy_authorise(actor, policy.organisation, policy)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = AlertPolicy.objects.select_for_update(no_key=True).select_related("project").get(pk=policy.pk)

        def put(field: str, value: Any) -> None:
            before = getattr(locked, field)
            if before != value:
                changes[field] = [str(before) if field not in ("emails", "labels") else before, value]
                setattr(locked, field, value)

        if name is not None:
            put("name", _name_clean(name, project=locked.project, exclude=locked.pk))
        if metric is not None:
            put("metric", _choice("metric", metric, AlertMetric.values))
        if comparison is not None:
            put("comparison", _choice("comparison", comparison, AlertComparison.values))
        if duration_minutes is not None:
            put("duration_minutes", _choice("duration_minutes", duration_minutes, AlertDuration.values))
        if threshold is not None or metric is not None:
            value = threshold if threshold is not None else locked.threshold
            locked.threshold = _threshold_clean(value, metric=locked.metric)
            changes.setdefault("threshold", str(locked.threshold))
        if instance is not UNSET or label_selector is not None:
            new_instance = locked.instance if instance is UNSET else instance
            new_selector = locked.label_selector if label_selector is None else label_selector
            if instance is not UNSET and instance is not None and label_selector is None:
                new_selector = ""
            if label_selector and instance is UNSET:
                new_instance = None
            target, selector = _target_clean(
                organisation=locked.organisation,
                project=locked.project,
                instance=new_instance,
                label_selector=new_selector,
            )
            put("instance", target)
            put("label_selector", selector)
        if email_members is not None:
            put("email_members", bool(email_members))
        if emails is not None:
            put("emails", _emails_clean(emails))
        if portal_notice is not None:
            put("portal_notice", bool(portal_notice))
        if webhook_url is not None:
            url = webhook_url.strip()
            error = webhook_url_error(url)
            if error:
                raise _invalid("webhook_url", error)
            put("webhook_url", url)
            if url and not locked.webhook_secret:
                locked.webhook_secret = secrets.token_hex(32)
        if labels is not None:
            put("labels", labels_validate(dict(labels)))
        if enabled is not None:
            put("enabled", bool(enabled))
        if changes:
            locked.save()
            audit_record(actor=actor, action="alerts.policy.update", target=locked, changes=changes)
    return locked


def alert_policy_secret_rotate(*, actor: Actor, policy: AlertPolicy) -> AlertPolicy:
    """A new webhook signing secret (the old one stops verifying at once)."""
    alert_policy_authorise(actor, policy.organisation, policy)
    with transaction.atomic():
        AlertPolicy.objects.filter(pk=policy.pk).update(webhook_secret=secrets.token_hex(32))
        audit_record(actor=actor, action="alerts.policy.rotate_secret", target=policy)
    return AlertPolicy.objects.select_related(*selectors.RELATED).get(pk=policy.pk)


def alert_policy_delete(*, actor: Actor, policy: AlertPolicy) -> None:
    """Delete a policy and its incidents' history."""
    alert_policy_authorise(actor, policy.organisation, policy)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="alerts.policy.delete",
            target=policy,
            organisation_id=policy.organisation_id,
            changes={"name": policy.name},
        )
        AlertPolicy.objects.filter(pk=policy.pk).delete()


def alert_notice_dismiss(*, actor: Actor, organisation: Organisation, notice_id: int) -> int:
    """Hide one of the organisation's alert notices; returns how many rows changed (0 or 1)."""
    require_permission(actor, organisation, Permission.RESOURCES_READ)
    return AlertNotice.objects.filter(pk=notice_id, organisation=organisation, dismissed_at__isnull=True).update(
        dismissed_at=timezone.now()
    )


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------
def _format(value: Decimal, unit: str) -> str:
    return f"{value} %" if unit == "%" else f"{value} {unit}"


def alert_incident_text(*, incident: AlertIncident, event: str) -> str:
    """One line saying what fired or resolved (e-mail, notice)."""
    policy = incident.policy
    params = {
        "policy": policy.name,
        "server": incident.instance.name,
        "metric": policy.get_metric_display(),
        "comparison": policy.get_comparison_display(),
        "threshold": _format(policy.threshold, policy.unit),
        "minutes": policy.duration_minutes,
        "value": _format(incident.value, policy.unit),
        "peak": _format(incident.peak_value, policy.unit),
    }
    if event == AlertEvent.FIRED:
        return (
            _(
                "Alert “%(policy)s” fired on %(server)s: %(metric)s %(comparison)s %(threshold)s "
                "(average over %(minutes)s minutes: %(value)s)."
            )
            % params
        )
    return _("Alert “%(policy)s” resolved on %(server)s (peak %(peak)s).") % params


def alert_recipients(*, policy: AlertPolicy) -> list[str]:
    """The addresses an incident of ``policy`` is e-mailed to: members (if chosen) and the listed ones."""
    out: list[str] = []
    if policy.email_members:
        members = (
            Membership.objects.filter(organisation_id=policy.organisation_id, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
            .order_by("user__email")
        )
        out.extend(members)
    out.extend(e for e in policy.emails if e not in out)
    return out


def alert_incident_notify(*, incident_id: int, event: str) -> bool:
    """Send one event's notifications (after commit), once: claimed by a conditional UPDATE.

    E-mail through Django mail, a portal ``AlertNotice``, and the webhook task when the policy has a URL.
    False when already sent (another evaluation or a replay).
    """
    stamp = "notified_at" if event == AlertEvent.FIRED else "resolved_notified_at"
    claimed = AlertIncident.objects.filter(pk=incident_id, **{f"{stamp}__isnull": True}).update(
        **{stamp: timezone.now()}
    )
    if not claimed:
        return False
    incident = AlertIncident.objects.select_related("policy__organisation", "instance").get(pk=incident_id)
    policy = incident.policy
    text = alert_incident_text(incident=incident, event=event)
    if policy.portal_notice:
        AlertNotice.objects.get_or_create(
            incident=incident, event=event, defaults={"organisation_id": policy.organisation_id, "message": text}
        )
    recipients = alert_recipients(policy=policy)
    if recipients:
        link = f"{settings.SITE_URL.rstrip('/')}/alerts/{policy.public_id}/"
        body = "\n\n".join([text, _("See the policy and its incidents: %(link)s") % {"link": link}])
        subject = (
            _("[VMCloud] Alert: %(policy)s on %(server)s")
            if event == AlertEvent.FIRED
            else _("[VMCloud] Resolved: %(policy)s on %(server)s")
        ) % {"policy": policy.name, "server": incident.instance.name}
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        except Exception:
            # The incident stays; the e-mail is lost, not the notice or the webhook (logged for staff).
            logger.exception("alert incident %s (%s) could not be e-mailed", incident_id, event)
    if policy.webhook_url:
        task_enqueue(task_names.WEBHOOK_SEND, incident_id, str(event))
    return True


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
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def alert_webhook_signature_verify(*, secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the signature and compare in constant time, within ``tolerance`` s."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    expected = alert_webhook_signature(secret=secret, body=body, timestamp=timestamp)
    return hmac.compare_digest(expected, header) and abs(time.time() - timestamp) <= tolerance


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
    body = json.dumps(alert_webhook_payload(incident=incident, event=event), separators=(",", ":"), sort_keys=True)
    raw = body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "VMCloud-Webhooks/1",
        SIGNATURE_HEADER: alert_webhook_signature(secret=policy.webhook_secret, body=raw, timestamp=int(time.time())),
    }
    try:
        # Sent to the address checked when the name was resolved (apps.core.outbound: no private address).
        response = outbound_request(
            "POST",
            policy.webhook_url,
            body=raw,
            headers=headers,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            max_bytes=WEBHOOK_ANSWER_MAX_BYTES,
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
