"""Notifications of an alert incident: its text, its recipients, and sending them once per event.

Each event's notifications are claimed by a conditional UPDATE of the incident's ``*_notified_at`` after
commit, so they leave once: an e-mail through Django mail, a portal ``AlertNotice``, and the webhook task
(``webhooks``) when the policy has a URL.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.alerts import task_names
from apps.alerts.choices import AlertEvent
from apps.alerts.models import AlertIncident, AlertNotice, AlertPolicy
from apps.core.services import task_enqueue
from apps.teams.models import Membership

logger = logging.getLogger(__name__)


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
