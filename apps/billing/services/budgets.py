"""Budgets: monthly spending limits with alert thresholds, their hourly evaluation, alerts and actions at 100 %.

Rules (customer-facing text in ``apps/docs/content/costs-and-budgets.md``):

* a budget covers the organisation or one project, for each calendar month
  (UTC), excluding VAT; it compares its amount with the month-to-date spend
  (``actual``) or the forecast to month end (``forecast``) from ``selectors.costs``;
* each threshold (percent of the amount) alerts once per month: the
  ``BudgetAlert`` row is unique per budget, month and threshold, so concurrent
  evaluations send one alert. An alert is an e-mail, a portal notice and, when
  the budget has a webhook URL, a signed JSON POST from a Celery task;
* at 100 %: ``block_orders`` blocks new orders while spend stays at or above
  the amount (lifted at the start of the next month, or as soon as the budget
  is raised, disabled, deleted or its action changed); ``stop_gpus`` stops the
  running GPU servers in scope once, when 100 % is first reached in the month
  (disks are kept and keep billing storage).

Services here are keyword-only, audited, and enqueue with ``transaction.on_commit``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.billing import task_names
from apps.billing.choices import BudgetAction, BudgetBasis, NoticeKind
from apps.billing.models import BillingNotice, Budget, BudgetAlert
from apps.billing.selectors import costs
from apps.billing.selectors.budgets import alert_recipients, gpu_instances_in_scope
from apps.billing.services.account import notice_post
from apps.core import outbound
from apps.core.actors import Actor, actor_user
from apps.core.errors import ApplicationError, ValidationFailed
from apps.core.money import to_cents
from apps.core.outbound import OutboundError, OutboundRefused
from apps.core.services import audit_record, task_enqueue
from apps.instances.models import Instance
from apps.instances.services import instance_stop
from apps.orders.models import OrderBlock
from apps.orders.services import order_block_clear, order_block_set
from apps.teams.models import Organisation, Project

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLDS = [50, 80, 100]
MAX_THRESHOLDS = 10
MAX_EMAILS = 10
WEBHOOK_EVENT = "budget.threshold_crossed"


class WebhookTransientError(Exception):
    """The receiver could not be reached or answered 5xx: worth retrying."""


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
def _allow_loopback_http() -> bool:
    """Plain http to the loopback interface is for development and tests only."""
    return bool(settings.BILLING_BUDGET_WEBHOOK_ALLOW_LOOPBACK)


def webhook_url_error(url: str) -> str | None:
    """Why ``url`` cannot receive budget webhooks, or None. Never fetches it.

    HTTPS to a public address only (``apps.core.outbound.webhook_url_error``), except plain http
    to the loopback interface when ``BILLING_BUDGET_WEBHOOK_ALLOW_LOOPBACK`` (default: DEBUG) is on.
    """
    return outbound.webhook_url_error(url, allow_loopback=_allow_loopback_http())


def thresholds_clean(value: Any) -> list[int]:
    """Percentages between 1 and 1000, ascending and unique; empty → the default [50, 80, 100]."""
    if value is None or value == []:
        return list(DEFAULT_THRESHOLDS)
    message = _("Give up to %(n)s whole percentages between 1 and 1000, ascending, without repeats.") % {
        "n": MAX_THRESHOLDS
    }
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or len(value) > MAX_THRESHOLDS:
        raise ValidationFailed(message, fields={"thresholds": [message]})
    out: list[int] = []
    for item in value:
        text = item.strip().rstrip("%").strip() if isinstance(item, str) else None
        if isinstance(item, int) and not isinstance(item, bool):
            out.append(item)
        elif text is not None and text.isdigit():
            out.append(int(text))
        else:
            raise ValidationFailed(message, fields={"thresholds": [message]})
    if any(not 1 <= n <= 1000 for n in out) or out != sorted(set(out)):
        raise ValidationFailed(message, fields={"thresholds": [message]})
    return out


def emails_clean(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.replace(";", ",").replace("\n", ",").split(",")
    if not isinstance(value, (list, tuple)):
        message = _("Give a list of e-mail addresses.")
        raise ValidationFailed(message, fields={"notify_emails": [message]})
    emails: list[str] = []
    for item in value:
        email = str(item).strip()
        if not email:
            continue
        try:
            validate_email(email)
        except DjangoValidationError as exc:
            message = _("“%(email)s” is not a valid e-mail address.") % {"email": email}
            raise ValidationFailed(message, fields={"notify_emails": [message]}) from exc
        if email.lower() not in {e.lower() for e in emails}:
            emails.append(email)
    if len(emails) > MAX_EMAILS:
        message = _("At most %(n)s addresses.") % {"n": MAX_EMAILS}
        raise ValidationFailed(message, fields={"notify_emails": [message]})
    return emails


def _validated(data: dict[str, Any], *, organisation: Organisation) -> dict[str, Any]:
    """Check every field given in ``data``; returns the cleaned values."""
    clean: dict[str, Any] = {}
    fields: dict[str, list[str]] = {}
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name or len(name) > 100:
            fields["name"] = [_("Give the budget a name (1 to 100 characters).")]
        clean["name"] = name
    if "amount" in data:
        try:
            amount = Decimal(str(data["amount"]))
            if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10") or amount != round(amount, 2):
                raise ValueError
            clean["amount"] = amount
        except (ValueError, ArithmeticError):
            fields["amount"] = [_("Give a positive amount in euros, with at most 2 decimals.")]
    if "project" in data:
        project = data["project"]
        if project is not None and (not isinstance(project, Project) or project.organisation_id != organisation.pk):
            fields["project"] = [_("Unknown project.")]
        clean["project"] = project
    if "basis" in data:
        if data["basis"] not in BudgetBasis.values:
            fields["basis"] = [_("Choose actual or forecast.")]
        clean["basis"] = data["basis"]
    if "action" in data:
        if data["action"] not in BudgetAction.values:
            fields["action"] = [_("Choose none, block_orders or stop_gpus.")]
        clean["action"] = data["action"]
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    for key, cleaner in (("thresholds", thresholds_clean), ("notify_emails", emails_clean)):
        if key in data:
            try:
                clean[key] = cleaner(data[key])
            except ValidationFailed as exc:
                fields.update(exc.fields)
    if "webhook_url" in data:
        url = (data["webhook_url"] or "").strip()
        error = webhook_url_error(url) if len(url) <= 200 else _("At most 200 characters.")
        if error:
            fields["webhook_url"] = [error]
        clean["webhook_url"] = url
    if fields:
        raise ValidationFailed(_("Check the budget's fields."), fields=fields)
    return clean


def _check_action_threshold(budget: Budget) -> None:
    if budget.action != BudgetAction.NONE and 100 not in budget.thresholds:
        message = _("An action at 100 % needs the 100 % threshold.")
        raise ValidationFailed(message, fields={"thresholds": [message]})


def _snapshot(budget: Budget) -> dict[str, Any]:
    return {
        "name": budget.name,
        "project": budget.project_id,
        "amount": str(budget.amount),
        "thresholds": budget.thresholds,
        "basis": budget.basis,
        "action": budget.action,
        "notify_emails": budget.notify_emails,
        "webhook_url": budget.webhook_url,
        "is_active": budget.is_active,
    }


def block_source(budget: Budget) -> str:
    return f"budget:{budget.public_id}"


def webhook_secret_generate() -> str:
    return "vmcwh_" + secrets.token_urlsafe(32)


# ---------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------
def budget_create(
    *,
    organisation: Organisation,
    actor: Actor,
    name: str,
    amount: Decimal | str,
    project: Project | None = None,
    thresholds: Sequence[int | str] | None = None,
    basis: str = BudgetBasis.ACTUAL,
    action: str = BudgetAction.NONE,
    notify_emails: list[str] | None = None,
    webhook_url: str = "",
    is_active: bool = True,
) -> tuple[Budget, str]:
    """Create a budget; returns it and its webhook signing secret (shown to the user this once)."""
    data = _validated(
        {
            "name": name,
            "amount": amount,
            "project": project,
            "thresholds": thresholds,
            "basis": basis,
            "action": action,
            "notify_emails": notify_emails or [],
            "webhook_url": webhook_url,
            "is_active": is_active,
        },
        organisation=organisation,
    )
    budget = Budget(
        organisation=organisation,
        created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        webhook_secret=webhook_secret_generate(),
        **data,
    )
    _check_action_threshold(budget)
    with transaction.atomic():
        budget.save()
        audit_record(
            actor=actor,
            action="billing.budget.create",
            target=budget,
            organisation_id=organisation.pk,
            changes=_snapshot(budget),
        )
    return budget, budget.webhook_secret


def budget_update(*, budget: Budget, actor: Actor, **changes: Any) -> Budget:
    """Change a budget. Raising its amount, disabling it or changing its action lifts its block on orders
    (the next hourly evaluation sets it again if spend is still over the new amount)."""
    allowed = {
        "name", "amount", "project", "thresholds", "basis", "action", "notify_emails", "webhook_url", "is_active"
    }  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(_("Unknown fields."), fields={k: [_("Unknown field.")] for k in sorted(unknown)})
    data = _validated(changes, organisation=budget.organisation)
    with transaction.atomic():
        locked = (
            Budget.objects.select_for_update(of=("self",)).select_related("organisation", "project").get(pk=budget.pk)
        )
        before = _snapshot(locked)
        for key, value in data.items():
            setattr(locked, key, value)
        _check_action_threshold(locked)
        locked.save()
        after = _snapshot(locked)
        diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        audit_record(
            actor=actor,
            action="billing.budget.update",
            target=locked,
            organisation_id=locked.organisation_id,
            changes=diff,
        )
        raised = Decimal(after["amount"]) > Decimal(before["amount"])
        if raised or not locked.is_active or locked.action != BudgetAction.BLOCK_ORDERS:
            _lift_block(budget=locked, reason="budget changed")
    return locked


def budget_delete(*, budget: Budget, actor: Actor) -> None:
    """Delete a budget and its alerts; lifts its block on orders."""
    with transaction.atomic():
        _lift_block(budget=budget, reason="budget deleted")
        audit_record(
            actor=actor,
            action="billing.budget.delete",
            target=budget,
            organisation_id=budget.organisation_id,
            changes=_snapshot(budget),
        )
        budget.delete()


def notices_mark_read(*, organisation: Organisation, actor: Actor, ids: list[int] | None = None) -> int:
    """Mark the organisation's notices read (all, or those in ``ids``); returns how many changed."""
    qs = BillingNotice.objects.filter(organisation=organisation, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    with transaction.atomic():
        count = qs.update(read_at=timezone.now())
        if count:
            audit_record(
                actor=actor,
                action="billing.notice.read",
                target=organisation,
                organisation_id=organisation.pk,
                changes={"count": count},
            )
    return count


def _lift_block(*, budget: Budget, reason: str) -> bool:
    lifted = order_block_clear(organisation=budget.organisation, source=block_source(budget), actor=None)
    if lifted:
        audit_record(
            actor=None,
            action="billing.budget.unblock_orders",
            target=budget,
            organisation_id=budget.organisation_id,
            changes={"reason": reason},
        )
    return lifted


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------
def budget_evaluate(*, budget: Budget, now: datetime | None = None) -> list[BudgetAlert]:
    """Compare one budget with this month's spend; alert each newly crossed threshold once, apply the action.

    Returns the alerts created by this call (none when another evaluation got there first).
    """
    now = now or timezone.now()
    month = costs.month_start(now)
    organisation = budget.organisation
    spend = to_cents(
        costs.spend_for_budget(organisation=organisation, project=budget.project, basis=budget.basis, now=now)
    )
    reached = [t for t in budget.thresholds if spend * 100 >= Decimal(t) * budget.amount]
    created: list[BudgetAlert] = []
    with transaction.atomic():
        for threshold in reached:
            alert, is_new = BudgetAlert.objects.get_or_create(
                budget=budget, month=month, threshold=threshold, defaults={"spend": spend}
            )
            if is_new:
                created.append(alert)
                audit_record(
                    actor=None,
                    action="billing.budget.threshold_crossed",
                    target=budget,
                    organisation_id=organisation.pk,
                    changes={"threshold": threshold, "spend": str(spend), "month": f"{month:%Y-%m}"},
                )
        for alert in created:
            _alert_dispatch(budget=budget, alert=alert)
        at_limit = spend >= budget.amount
        if budget.action == BudgetAction.BLOCK_ORDERS and at_limit:
            _block_orders(budget=budget, spend=spend)
        elif not at_limit:
            _lift_block(budget=budget, reason="spend below the budget")
        if budget.action == BudgetAction.STOP_GPUS and any(a.threshold >= 100 for a in created):
            _stop_gpus(budget=budget)
    return created


def budgets_evaluate_all(*, now: datetime | None = None) -> int:
    """Evaluate every active budget (the hourly beat task); lift blocks of inactive ones. Returns alerts created."""
    created = 0
    for budget in Budget.objects.filter(is_active=True).select_related("organisation", "project").order_by("pk"):
        if budget.organisation.is_suspended:
            continue
        try:
            created += len(budget_evaluate(budget=budget, now=now))
        except ApplicationError:
            # A missing VAT rate or a similar configuration problem must not stop the other budgets.
            logger.exception("budget %s could not be evaluated", budget.pk)
    for budget in Budget.objects.filter(is_active=False).select_related("organisation"):
        _lift_block(budget=budget, reason="budget disabled")
    return created


def _block_orders(*, budget: Budget, spend: Decimal) -> None:
    source = block_source(budget)
    reason = _("The budget “%(name)s” (%(amount)s € a month) is used up.") % {
        "name": budget.name,
        "amount": budget.amount,
    }
    if OrderBlock.objects.filter(organisation=budget.organisation, source=source).exists():
        return
    order_block_set(organisation=budget.organisation, source=source, reason=reason, actor=None)
    audit_record(
        actor=None,
        action="billing.budget.block_orders",
        target=budget,
        organisation_id=budget.organisation_id,
        changes={"spend": str(spend), "amount": str(budget.amount)},
    )


def _stop_gpus(*, budget: Budget) -> list[Instance]:
    stopped: list[Instance] = []
    for instance in gpu_instances_in_scope(budget=budget):
        try:
            with transaction.atomic():
                instance_stop(instance=instance, actor=None)
        except ApplicationError as exc:
            logger.warning("budget %s could not stop %s: %s", budget.pk, instance.public_id, exc.message)
            continue
        stopped.append(instance)
    audit_record(
        actor=None,
        action="billing.budget.stop_gpus",
        target=budget,
        organisation_id=budget.organisation_id,
        changes={"instances": [str(i.public_id) for i in stopped]},
    )
    if stopped:
        notice_post(
            organisation=budget.organisation,
            kind=NoticeKind.BUDGET,
            message=_("Budget “%(name)s” is used up: %(n)s GPU server(s) stopped. Their disks are kept.")
            % {"name": budget.name, "n": len(stopped)},
        )
    return stopped


# ---------------------------------------------------------------------------
# Alerts: e-mail, notice, webhook
# ---------------------------------------------------------------------------
def _alert_text(*, budget: Budget, alert: BudgetAlert) -> str:
    scope = budget.project.name if budget.project is not None else budget.organisation.name
    basis = _("forecast to month end") if budget.basis == BudgetBasis.FORECAST else _("month-to-date spend")
    return _(
        "Budget “%(name)s” (%(scope)s) reached %(threshold)s %%: %(basis)s %(spend)s € of %(amount)s € in %(month)s."
    ) % {
        "name": budget.name,
        "scope": scope,
        "threshold": alert.threshold,
        "basis": basis,
        "spend": alert.spend,
        "amount": budget.amount,
        "month": f"{alert.month:%Y-%m}",
    }


def _alert_dispatch(*, budget: Budget, alert: BudgetAlert) -> None:
    text = _alert_text(budget=budget, alert=alert)
    notice_post(organisation=budget.organisation, kind=NoticeKind.BUDGET, message=text)
    alert_id = alert.pk
    transaction.on_commit(lambda: budget_alert_email(alert_id=alert_id))
    if budget.webhook_url:
        task_enqueue(task_names.BUDGET_WEBHOOK_SEND, alert_id)


def budget_alert_email(*, alert_id: int) -> bool:
    """E-mail one alert (after commit); marks it e-mailed. False when already sent or nobody to send to."""
    claimed = BudgetAlert.objects.filter(pk=alert_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    alert = BudgetAlert.objects.select_related("budget__organisation", "budget__project").get(pk=alert_id)
    budget = alert.budget
    recipients = alert_recipients(budget=budget)
    if not recipients:
        return False
    text = _alert_text(budget=budget, alert=alert)
    link = f"{settings.SITE_URL.rstrip('/')}/billing/"
    body = "\n\n".join([text, _("See your costs and budgets: %(link)s") % {"link": link}])
    subject = _("[VMCloud] Budget “%(name)s” reached %(threshold)s %%") % {
        "name": budget.name,
        "threshold": alert.threshold,
    }
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        # Give the send back so the next evaluation does not silently skip it; the alert itself stays.
        BudgetAlert.objects.filter(pk=alert_id).update(emailed_at=None)
        logger.exception("budget alert %s could not be e-mailed", alert_id)
        return False
    return True


def webhook_payload(*, alert: BudgetAlert) -> dict[str, Any]:
    budget = alert.budget
    return {
        "event": WEBHOOK_EVENT,
        "alert_id": alert.pk,
        "created_at": alert.created_at.isoformat(),
        "organisation": {"id": budget.organisation_id, "name": budget.organisation.name},
        "budget": {
            "id": str(budget.public_id),
            "name": budget.name,
            "amount": str(budget.amount),
            "currency": "EUR",
            "basis": budget.basis,
            "action": budget.action,
            "project": ({"id": budget.project_id, "name": budget.project.name} if budget.project is not None else None),
        },
        "month": f"{alert.month:%Y-%m}",
        "threshold": alert.threshold,
        "spend": str(alert.spend),
    }


def webhook_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the budget's secret>`` (Stripe's scheme)."""
    return outbound.webhook_signature(secret=secret, body=body, timestamp=timestamp)


def webhook_signature_verify(*, secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the signature and compare in constant time, within ``tolerance`` s."""
    return outbound.webhook_signature_verify(secret=secret, body=body, header=header, tolerance=tolerance)


def budget_webhook_deliver(*, alert: BudgetAlert, final_attempt: bool = False) -> str:
    """POST the alert to the budget's webhook URL; store the result on the alert.

    Raises ``WebhookTransientError`` on a connection error, a timeout or a 5xx
    (the task retries with backoff), unless this is the final attempt.
    """
    budget = alert.budget
    if alert.webhook_sent_at is not None or not budget.webhook_url:
        return alert.webhook_status
    error = webhook_url_error(budget.webhook_url)
    if error:
        return _store(alert, f"refused: {error}"[:100])
    try:
        response = outbound.webhook_post(
            budget.webhook_url,
            payload=webhook_payload(alert=alert),
            secret=budget.webhook_secret,
            allow_loopback=_allow_loopback_http(),
        )
    except OutboundRefused as exc:
        return _store(alert, f"refused: {exc}"[:100])
    except OutboundError as exc:
        status = f"error: {exc.kind}"
        _store(alert, status + ("" if final_attempt else ", retrying"))
        if final_attempt:
            return alert.webhook_status
        raise WebhookTransientError(status) from exc
    status = f"HTTP {response.status}"
    if response.status >= 500 and not final_attempt:
        _store(alert, status + ", retrying")
        raise WebhookTransientError(status)
    return _store(alert, status, sent=200 <= response.status < 300)


def _store(alert: BudgetAlert, status: str, *, sent: bool = False) -> str:
    alert.webhook_status = status[:100]
    fields = ["webhook_status"]
    if sent:
        alert.webhook_sent_at = timezone.now()
        fields.append("webhook_sent_at")
    BudgetAlert.objects.filter(pk=alert.pk).update(**{f: getattr(alert, f) for f in fields})
    return alert.webhook_status
