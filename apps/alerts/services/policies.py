"""Alert policies: who may write them, the checks of their fields, the quota, and create, update,
rotate the webhook secret, delete; and dismissing an alert notice in the portal.

Policies are the organisation's resources: writes need ``resources.write`` and are audited in their
transaction. The organisation's policy quota is checked under a lock of its row, so two creates cannot
both take the last slot.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.alerts import rules, selectors
from apps.alerts.choices import PERCENT_METRICS, AlertComparison, AlertDuration, AlertMetric
from apps.alerts.models import AlertNotice, AlertPolicy
from apps.alerts.services.webhooks import webhook_url_error
from apps.core.actors import Actor, actor_is_back_office_staff, actor_user
from apps.core.errors import Conflict, ValidationFailed
from apps.core.labels import label_selector_parse, labels_validate
from apps.core.services import audit_record
from apps.instances.models import Instance
from apps.teams.access import require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project

MAX_EMAILS = 10
UNSET: Any = object()


def alert_policy_authorise(actor: Actor, organisation: Organisation, obj: Any = None) -> None:
    """Policy writes need ``resources.write``; staff in the back office and the platform (None) may act."""
    if actor is None or actor_is_back_office_staff(actor):
        return
    require_permission(actor, organisation, Permission.RESOURCES_WRITE, obj=obj)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Invalid alert policy."), fields={field: [message]})


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
