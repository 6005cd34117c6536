"""Dunning: what happens when an organisation does not pay, and how paying lifts it.

Timeline, counted from ``BillingAccount.past_due_since`` (the first failed
payment, or the due date of the oldest overdue invoice), with the days of
``DunningPolicy.current()``:

- past due: a notice and an e-mail at once, then one reminder at each of
  ``reminder_days``;
- after ``suspend_after_days``: suspended — new orders blocked
  (``order_block_set(source="dunning")``), every running server stopped
  (disks and data kept), their ids kept in ``stopped_instance_ids``;
- after ``terminate_after_days``: terminated — every server deleted (delete
  protection is overridden: it guards against mistakes, not against the end of
  the contract), managed services ended.

Paying (``services.payments.invoice_mark_paid``) with no other overdue invoice lifts it
all: state good, order block cleared, the servers the suspension stopped are
started again. Staff can pause dunning until a date (``dunning_paused_until``),
lift a suspension now, or restart the timeline, in the admin. Every step is
notified (e-mail + portal notice) and audited.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.billing.choices import IN_DUNNING, DunningState, InvoiceStatus, NoticeKind
from apps.billing.models import BillingAccount, DunningPolicy, Invoice
from apps.billing.selectors.payments import overdue_invoices
from apps.billing.services.account import billing_account_for, notice_post
from apps.core.actors import Actor, actor_is_back_office_staff
from apps.core.choices import ActorKind
from apps.core.services import audit_record
from apps.teams.models import Organisation

logger = logging.getLogger(__name__)

ORDER_BLOCK_SOURCE = "dunning"
# After staff lift a suspension while invoices are still overdue, dunning waits this long before acting again.
LIFT_GRACE_DAYS = 7


def _overdue_since(*, organisation: Organisation, now: datetime) -> datetime | None:
    agg = overdue_invoices(organisation=organisation, now=now).aggregate(
        due=Min("due_at"), failed=Min("payment_failed_at")
    )
    candidates = [d for d in (agg["due"], agg["failed"]) if d is not None and d <= now]
    return min(candidates) if candidates else None


def _locked_account(organisation: Organisation) -> BillingAccount:
    account = billing_account_for(organisation=organisation)
    return BillingAccount.objects.select_for_update().select_related("organisation").get(pk=account.pk)


def _notify(*, organisation: Organisation, subject: str, message: str) -> None:
    """A portal notice now, an e-mail once the transaction commits."""
    notice_post(organisation=organisation, kind=NoticeKind.DUNNING, message=message)
    recipient = organisation.email
    if not recipient:
        return
    body = "\n\n".join(
        [
            message,
            _("Billing: %(url)s") % {"url": settings.SITE_URL.rstrip("/") + "/billing/invoices/"},
            settings.SITE_NAME,
        ]
    )

    def send() -> None:
        try:
            send_mail(subject=subject, message=body, from_email=None, recipient_list=[recipient])
        except Exception:  # the notice is stored; a mail outage must not undo a dunning step
            logger.exception("dunning e-mail to organisation %s failed", organisation.pk)

    transaction.on_commit(send)


def _changes(**values: Any) -> dict[str, Any]:
    """An audit event's changes, datetimes as ISO 8601 (the audit log stores JSON)."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}


def _staff_kind(actor: Actor) -> ActorKind | None:
    """Staff overrides in the back office are audited as staff acts (``apps.core.actors``)."""
    return ActorKind.STAFF if actor_is_back_office_staff(actor) else None


# --- entering dunning ------------------------------------------------------------------------------------


def dunning_open(*, organisation: Organisation, at: datetime, invoice: Invoice | None = None, reason: str = "") -> None:
    """A payment failed (or an invoice went overdue): put the account past due and say so. Idempotent."""
    with transaction.atomic():
        account = _locked_account(organisation)
        number = invoice.number if invoice is not None else ""
        if account.dunning_state == DunningState.GOOD:
            account.dunning_state = DunningState.PAST_DUE
            account.past_due_since = at
            account.reminders_sent = 0
            account.last_reminder_at = None
            account.save(
                update_fields=["dunning_state", "past_due_since", "reminders_sent", "last_reminder_at", "updated_at"]
            )
            audit_record(
                actor=None,
                action="billing.dunning.past_due",
                target=account,
                organisation_id=account.organisation_id,
                changes=_changes(since=at, invoice=number or "", reason=reason[:300]),
            )
        elif account.dunning_state == DunningState.TERMINATED:
            return
        if invoice is not None and invoice.payment_failed_at == at:
            message = _(
                "The payment of invoice %(number)s failed. Please update your payment method or pay by bank transfer."
            ) % {"number": number}
            subject = _("Payment failed for invoice %(number)s") % {"number": number}
        else:
            message = _("Invoice %(number)s is overdue. Please pay it to keep your services running.") % {
                "number": number
            }
            subject = _("Invoice %(number)s is overdue") % {"number": number}
        _notify(organisation=organisation, subject=subject, message=message)


# --- leaving dunning -------------------------------------------------------------------------------------


def _restart_stopped(account: BillingAccount) -> list[str]:
    from apps.instances.choices import InstanceStatus
    from apps.instances.models import Instance
    from apps.instances.services import instance_start

    started: list[str] = []
    ids = [str(i) for i in account.stopped_instance_ids or []]
    for instance in Instance.objects.filter(
        organisation_id=account.organisation_id, pk__in=ids, status=InstanceStatus.STOPPED
    ):
        try:
            with transaction.atomic():
                instance_start(instance=instance, actor=None)
            started.append(str(instance.pk))
        except Exception as exc:  # one server that cannot start must not keep the others down
            logger.warning("dunning: could not start instance %s again: %s", instance.pk, exc)
    return started


def _resume_services(account: BillingAccount, *, since: datetime) -> None:
    """Resume the managed services the dunning suspension suspended (never one staff suspended)."""
    from apps.core.errors import ApplicationError
    from apps.managed import selectors as managed_selectors
    from apps.managed.services import service_resume

    services = managed_selectors.services_suspended_by_platform_since(
        organisation_id=account.organisation_id, since=since
    )
    for service in services:
        try:
            service_resume(service=service, actor=None, reason=str(_("Suspension for non-payment lifted.")))
        except ApplicationError as exc:  # one service that cannot resume must not keep the others down
            logger.warning("dunning: could not resume service %s: %s", service.pk, exc)


def _lift(account: BillingAccount, *, actor: Actor, at: datetime, state: str, why: str) -> None:
    from apps.orders.services import order_block_clear

    previous = account.dunning_state
    started = _restart_stopped(account) if previous == DunningState.SUSPENDED else []
    if previous == DunningState.SUSPENDED and account.suspended_at is not None:
        _resume_services(account, since=account.suspended_at)
    order_block_clear(organisation=account.organisation, source=ORDER_BLOCK_SOURCE, actor=actor)
    account.dunning_state = state
    account.stopped_instance_ids = []
    account.suspended_at = None
    if state == DunningState.GOOD:
        account.past_due_since = None
        account.reminders_sent = 0
        account.last_reminder_at = None
        account.terminated_at = None
    account.save()
    audit_record(
        actor=actor,
        action="billing.dunning.lifted",
        target=account,
        organisation_id=account.organisation_id,
        changes=_changes(previous=previous, state=state, why=why, at=at, started_instances=started),
        actor_kind=_staff_kind(actor) if why == "staff" else None,
    )
    if previous == DunningState.SUSPENDED:
        message = _("Thank you: your account is no longer suspended. Stopped servers are being started again.")
    else:
        message = _("Thank you: your account is in good standing again.")
    _notify(organisation=account.organisation, subject=_("Your account is in good standing"), message=message)


def dunning_settle_if_clear(*, organisation: Organisation, actor: Actor, at: datetime | None = None) -> bool:
    """After a payment: if no other invoice is overdue, lift dunning (suspension included). True if lifted."""
    at = at or timezone.now()
    with transaction.atomic():
        account = _locked_account(organisation)
        if account.dunning_state == DunningState.GOOD:
            return False
        if overdue_invoices(organisation=organisation, now=max(at, timezone.now())).exists():
            return False
        _lift(account, actor=actor, at=at, state=DunningState.GOOD, why="paid")
    return True


# --- the scheduled run -----------------------------------------------------------------------------------


def _suspend(account: BillingAccount, *, now: datetime) -> None:
    from apps.instances.choices import InstanceStatus
    from apps.instances.models import Instance
    from apps.instances.services import instance_stop
    from apps.orders.services import order_block_set

    order_block_set(
        organisation=account.organisation,
        source=ORDER_BLOCK_SOURCE,
        reason=_("Suspended for non-payment."),
        actor=None,
    )
    stopped: list[str] = list(account.stopped_instance_ids or [])
    for instance in Instance.objects.filter(organisation_id=account.organisation_id, status=InstanceStatus.RUNNING):
        try:
            with transaction.atomic():
                instance_stop(instance=instance, actor=None)
            stopped.append(str(instance.pk))
        except Exception as exc:  # busy server: the next run stops it
            logger.warning("dunning: could not stop instance %s: %s", instance.pk, exc)
    # Managed services take the staff path (apps.managed.services.service_suspend, actor None): kept and
    # billed, not serving; lifting the suspension resumes the ones it suspended.
    from apps.core.errors import ApplicationError
    from apps.managed import selectors as managed_selectors
    from apps.managed.services import service_suspend

    suspended_services: list[str] = []
    for service in managed_selectors.services_to_suspend_for(organisation_id=account.organisation_id):
        try:
            service_suspend(service=service, actor=None, reason=str(_("Suspended for non-payment.")))
            suspended_services.append(str(service.public_id))
        except ApplicationError as exc:  # it moved meanwhile: the next run looks again
            logger.warning("dunning: could not suspend service %s: %s", service.pk, exc)
    account.dunning_state = DunningState.SUSPENDED
    account.suspended_at = now
    account.stopped_instance_ids = sorted(set(stopped))
    account.save(update_fields=["dunning_state", "suspended_at", "stopped_instance_ids", "updated_at"])
    audit_record(
        actor=None,
        action="billing.dunning.suspended",
        target=account,
        organisation_id=account.organisation_id,
        changes=_changes(at=now, stopped_instances=account.stopped_instance_ids, suspended_services=suspended_services),
    )
    _notify(
        organisation=account.organisation,
        subject=_("Your account is suspended for non-payment"),
        message=_(
            "Your account is suspended for non-payment: your servers are stopped (their disks and data are kept) "
            "and new orders are blocked. Paying the overdue invoices lifts the suspension at once."
        ),
    )


def _terminate(account: BillingAccount, *, now: datetime) -> None:
    from apps.instances.choices import InstanceStatus
    from apps.instances.models import Instance
    from apps.instances.services import instance_delete, instance_update
    from apps.managed import selectors as managed_selectors
    from apps.managed.services import service_terminate
    from apps.orders.services import order_block_set

    order_block_set(
        organisation=account.organisation,
        source=ORDER_BLOCK_SOURCE,
        reason=_("Terminated for non-payment."),
        actor=None,
    )
    deleted: list[str] = []
    failed: list[str] = []
    live = Instance.objects.filter(organisation_id=account.organisation_id).exclude(
        status__in=[InstanceStatus.DELETING, InstanceStatus.DELETED]
    )
    for instance in live:
        try:
            with transaction.atomic():
                if instance.delete_protection:
                    instance = instance_update(instance=instance, actor=None, delete_protection=False)
                instance_delete(instance=instance, actor=None)
            deleted.append(str(instance.pk))
        except Exception as exc:  # busy: the next run retries (termination is re-applied while servers remain)
            logger.warning("dunning: could not delete instance %s: %s", instance.pk, exc)
            failed.append(str(instance.pk))
    ended: list[str] = []
    # The managed services' own termination (apps.managed.services.service_terminate): billing stops
    # at this hour, delete protection or not, and the family's backend removes the service.
    for service in managed_selectors.services_to_terminate_for(organisation_id=account.organisation_id):
        service_terminate(service=service, actor=None, reason=str(_("Terminated for non-payment.")))
        ended.append(str(service.public_id))
    first_time = account.dunning_state != DunningState.TERMINATED
    account.dunning_state = DunningState.TERMINATED
    account.terminated_at = account.terminated_at or now
    account.stopped_instance_ids = []
    account.save(update_fields=["dunning_state", "terminated_at", "stopped_instance_ids", "updated_at"])
    audit_record(
        actor=None,
        action="billing.dunning.terminated",
        target=account,
        organisation_id=account.organisation_id,
        changes=_changes(at=now, deleted_instances=deleted, ended_services=ended, not_deleted_yet=failed),
    )
    if first_time:
        _notify(
            organisation=account.organisation,
            subject=_("Your account is terminated for non-payment"),
            message=_(
                "Your account is terminated for non-payment: your servers are deleted and managed services ended. "
                "Contact support to settle the overdue invoices."
            ),
        )


def _remind(account: BillingAccount, *, now: datetime, due_count: int, days: int) -> None:
    account.reminders_sent = due_count
    account.last_reminder_at = now
    account.save(update_fields=["reminders_sent", "last_reminder_at", "updated_at"])
    audit_record(
        actor=None,
        action="billing.dunning.reminder",
        target=account,
        organisation_id=account.organisation_id,
        changes=_changes(at=now, reminder=due_count, days_overdue=days),
    )
    _notify(
        organisation=account.organisation,
        subject=_("Reminder: payment overdue"),
        message=_(
            "Reminder: payment is overdue for %(days)s days. Without payment, your account will be suspended "
            "after %(suspend)s days."
        )
        % {"days": days, "suspend": DunningPolicy.current().suspend_after_days},
    )


def dunning_step(*, account: BillingAccount, now: datetime | None = None, policy: DunningPolicy | None = None) -> str:
    """Advance one account along the timeline; returns what it did ("" for nothing)."""
    now = now or timezone.now()
    policy = policy or DunningPolicy.current()
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().select_related("organisation").get(pk=account.pk)
        organisation = account.organisation
        overdue = overdue_invoices(organisation=organisation, now=now)
        if account.dunning_state == DunningState.GOOD:
            since = _overdue_since(organisation=organisation, now=now)
            if since is None:
                return ""
            first = overdue.order_by("due_at").first()
            dunning_open(organisation=organisation, at=since, invoice=first)
            account.refresh_from_db()
        elif account.dunning_state in IN_DUNNING and not overdue.exists():
            _lift(account, actor=None, at=now, state=DunningState.GOOD, why="nothing overdue")
            return "lifted"
        if account.dunning_state == DunningState.TERMINATED:
            return ""
        if account.dunning_paused_until is not None and account.dunning_paused_until > now:
            return "paused"
        since = account.past_due_since or now
        days = int((now - since).total_seconds() // 86400)
        if days >= policy.terminate_after_days:
            _terminate(account, now=now)
            return "terminated"
        if days >= policy.suspend_after_days:
            if account.dunning_state != DunningState.SUSPENDED:
                _suspend(account, now=now)
                return "suspended"
            return ""
        due_count = sum(1 for d in sorted(policy.reminder_days or []) if days >= int(d))
        if due_count > account.reminders_sent:
            _remind(account, now=now, due_count=due_count, days=days)
            return "reminder"
    return ""


def dunning_run(*, now: datetime | None = None) -> dict[str, int]:
    """The scheduled run (task ``billing.dunning``): every account with something overdue or already in dunning."""
    now = now or timezone.now()
    policy = DunningPolicy.current()
    overdue_orgs = (
        Invoice.objects.filter(status=InvoiceStatus.OPEN)
        .filter(Q(due_at__lt=now) | Q(payment_failed_at__isnull=False))
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    for org_id in overdue_orgs:
        organisation = Organisation.objects.get(pk=org_id)
        billing_account_for(organisation=organisation)
    accounts = BillingAccount.objects.filter(
        Q(organisation_id__in=overdue_orgs) | Q(dunning_state__in=IN_DUNNING)
    ).order_by("pk")
    counts: dict[str, int] = {}
    for account in accounts:
        try:
            done = dunning_step(account=account, now=now, policy=policy)
        except Exception:
            logger.exception("dunning step failed for billing account %s", account.pk)
            done = "error"
        if done:
            counts[done] = counts.get(done, 0) + 1
    return counts


# --- staff overrides (admin) -----------------------------------------------------------------------------


def dunning_pause(*, account: BillingAccount, until: datetime, actor: Actor) -> BillingAccount:
    """Staff: no dunning step runs before ``until``."""
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        account.dunning_paused_until = until
        account.save(update_fields=["dunning_paused_until", "updated_at"])
        audit_record(
            actor=actor,
            action="billing.dunning.paused",
            target=account,
            organisation_id=account.organisation_id,
            changes=_changes(until=until),
            actor_kind=_staff_kind(actor),
        )
    return account


def dunning_lift_now(*, account: BillingAccount, actor: Actor, now: datetime | None = None) -> BillingAccount:
    """Staff: lift a suspension (or past-due state) now.

    With invoices still overdue the account goes back to past due and dunning
    pauses for ``LIFT_GRACE_DAYS`` so the next run does not suspend it again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().select_related("organisation").get(pk=account.pk)
        if account.dunning_state == DunningState.GOOD:
            return account
        still_overdue = overdue_invoices(organisation=account.organisation, now=now).exists()
        if still_overdue:
            grace = now + timedelta(days=LIFT_GRACE_DAYS)
            if account.dunning_paused_until is None or account.dunning_paused_until < grace:
                account.dunning_paused_until = grace
            _lift(account, actor=actor, at=now, state=DunningState.PAST_DUE, why="staff")
        else:
            _lift(account, actor=actor, at=now, state=DunningState.GOOD, why="staff")
    return account


def dunning_restart(*, account: BillingAccount, actor: Actor, now: datetime | None = None) -> BillingAccount:
    """Staff: start the timeline again from now (reminders from the first one), and end any pause."""
    now = now or timezone.now()
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        account.past_due_since = now if account.dunning_state != DunningState.GOOD else None
        account.reminders_sent = 0
        account.last_reminder_at = None
        account.dunning_paused_until = None
        account.save(
            update_fields=["past_due_since", "reminders_sent", "last_reminder_at", "dunning_paused_until", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="billing.dunning.restarted",
            target=account,
            organisation_id=account.organisation_id,
            changes=_changes(at=now),
            actor_kind=_staff_kind(actor),
        )
    return account
