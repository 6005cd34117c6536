"""Monthly invoices and credit notes: drafts from the rated ledger, issuing (numbers, VAT, credits, PDF, e-mail).

* ``invoice_draft_build`` turns one organisation's month of usage
  (``selectors.usage.rate_month``: the cap rule) into a draft: one line per charged line,
  the usage records linked to it. No usage at all: no invoice (a zero invoice
  would say nothing); usage that credits bring to zero is still invoiced, and
  is PAID at issue.
* ``invoice_issue`` refreshes the lines, takes the next gapless number
  (``NumberSequence`` row locked in the issuing transaction: a rollback gives it
  back), freezes the buyer and the VAT decision (``selectors.vat.vat_decision_for``),
  applies promotional credit (before VAT), computes VAT once on the taxable
  total, applies prepaid balance (after VAT), renders the PDF, and after commit
  e-mails it (task ``billing.invoice_email``, retried on transient SMTP errors)
  and, with payments on, pushes it to Stripe (``billing.invoice_push``).
* ``credit_note_issue`` corrects an issued invoice (staff only).

Issued invoices never change except their payment state and the credit notes
that reduce them.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.billing import task_names
from apps.billing.choices import CreditKind, CreditNoteKind, InvoiceStatus, NoticeKind, ResourceType
from apps.billing.models import CreditNote, Invoice, InvoiceLine, NumberSequence, UsageRecord
from apps.billing.rules import documents
from apps.billing.rules.rating import ChargeLine, month_bounds
from apps.billing.rules.vat import vat_amount, vat_id_normalise
from apps.billing.selectors.usage import rate_month
from apps.billing.selectors.vat import vat_decision_for
from apps.billing.services.account import billing_account_for, notice_post
from apps.billing.services.credits import credit_grant, credits_apply
from apps.core.actors import Actor
from apps.core.errors import Conflict, ValidationFailed
from apps.core.money import ZERO, to_cents
from apps.core.services import audit_record, task_enqueue
from apps.teams.models import Organisation, Project

logger = logging.getLogger(__name__)

INVOICE_NOT_DRAFT = "invoice_not_draft"
NOTHING_TO_INVOICE = "nothing_to_invoice"


def month_start(month: date) -> date:
    return date(month.year, month.month, 1)


def previous_month(today: date) -> date:
    first = month_start(today)
    return month_start(first - timedelta(days=1))


def number_take(*, name: str) -> int:
    """The next value of a gapless counter; call inside the transaction that uses it (the row stays locked)."""
    NumberSequence.objects.bulk_create([NumberSequence(name=name, last_value=0)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(name=name)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


# ---------------------------------------------------------------------------------------------------------------
# Drafts
# ---------------------------------------------------------------------------------------------------------------
def _line_description(charge: ChargeLine) -> str:
    if charge.is_cap_adjustment:
        return charge.description
    kind = ResourceType(charge.resource_type).label
    return f"{kind} {charge.resource_name} ({charge.description})"[:300]


def _fill_lines(*, invoice: Invoice) -> list[InvoiceLine]:
    """Replace the draft's lines with the month's charged lines and link the month's usage records."""
    charges = rate_month(organisation_id=invoice.organisation_id, month=invoice.period_start)
    projects = dict(Project.all_objects.filter(pk__in={c.project_id for c in charges}).values_list("pk", "name"))
    invoice.lines.all().delete()
    lines = [
        InvoiceLine(
            invoice=invoice,
            position=position,
            resource_type=charge.resource_type,
            resource_id=charge.resource_id,
            project_name=projects.get(charge.project_id, "")[:100],
            description=_line_description(charge),
            period_start=charge.period_start,
            period_end=charge.period_end,
            quantity=charge.quantity,
            unit=charge.unit,
            unit_price=charge.unit_price,
            amount=charge.amount,
        )
        for position, charge in enumerate(charges, start=1)
    ]
    InvoiceLine.objects.bulk_create(lines)
    start, end = month_bounds(invoice.period_start)
    UsageRecord.objects.filter(organisation_id=invoice.organisation_id, hour__gte=start, hour__lt=end).update(
        invoice=invoice
    )
    return lines


def _preview_totals(invoice: Invoice, subtotal: Decimal) -> None:
    """A draft shows what it would cost now (VAT at today's decision, no credits: they apply at issue)."""
    invoice.subtotal = subtotal
    invoice.promotional_credit = ZERO
    invoice.net_total = subtotal
    try:
        decision = vat_decision_for(organisation=invoice.organisation)
        invoice.vat_treatment, invoice.vat_rate, invoice.vat_note = decision.treatment, decision.rate, decision.note
    except Exception:
        invoice.vat_rate = ZERO
    invoice.vat_amount = vat_amount(subtotal, invoice.vat_rate)
    invoice.total = subtotal + invoice.vat_amount
    invoice.prepaid_applied = ZERO
    invoice.amount_due = invoice.total


def invoice_draft_build(*, organisation: Organisation, month: date, actor: Actor = None) -> Invoice | None:
    """Make or refresh the draft invoice of the calendar month containing ``month``.

    Returns None when the month has no usage (an existing draft is deleted). An
    issued invoice of that month is left alone (``Conflict``).
    """
    period_start = month_start(month)
    start, end = month_bounds(period_start)
    has_usage = UsageRecord.objects.filter(organisation=organisation, hour__gte=start, hour__lt=end).exists()
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update().filter(organisation=organisation, period_start=period_start).first()
        )
        if invoice is not None and invoice.status != InvoiceStatus.DRAFT:
            raise Conflict(_("This month's invoice is already issued."), code=INVOICE_NOT_DRAFT)
        if not has_usage:
            if invoice is not None:
                UsageRecord.objects.filter(invoice=invoice).update(invoice=None)
                invoice.delete()
            return None
        if invoice is None:
            invoice = Invoice.objects.create(
                organisation=organisation,
                period_start=period_start,
                period_end=(end - timedelta(days=1)).date(),
            )
        lines = _fill_lines(invoice=invoice)
        _preview_totals(invoice, sum((line.amount for line in lines), ZERO))
        invoice.save()
        audit_record(
            actor=actor,
            action="billing.invoice.draft",
            target=invoice,
            organisation_id=organisation.pk,
            changes={"period": f"{period_start:%Y-%m}", "lines": len(lines), "subtotal": str(invoice.subtotal)},
        )
    return invoice


# ---------------------------------------------------------------------------------------------------------------
# Issuing
# ---------------------------------------------------------------------------------------------------------------
def invoice_issue(*, invoice: Invoice, actor: Actor) -> Invoice:
    """Number, freeze, total, render and (after commit) e-mail a draft invoice. See the module docstring."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().select_related("organisation").get(pk=invoice.pk)
        if invoice.status != InvoiceStatus.DRAFT:
            raise Conflict(_("Only a draft invoice can be issued."), code=INVOICE_NOT_DRAFT)
        organisation = invoice.organisation
        if month_bounds(invoice.period_start)[1] > timezone.now():
            raise Conflict(_("A month is invoiced once it is over."), code="month_not_over")
        lines = _fill_lines(invoice=invoice)
        if not lines:
            raise Conflict(_("There is no usage to invoice for this month."), code=NOTHING_TO_INVOICE)
        account = billing_account_for(organisation=organisation)
        decision = vat_decision_for(organisation=organisation, account=account)  # Unavailable if no rate
        now = timezone.now()

        year = now.year
        number = number_take(name=f"invoice-{year}")
        invoice.number = f"{settings.BILLING_INVOICE_PREFIX}-{year}-{number:06d}"
        invoice.issued_at = now
        invoice.due_at = now + timedelta(days=account.payment_terms_days)

        invoice.buyer_name = (organisation.legal_name or organisation.name)[:200]
        invoice.buyer_address = account.address
        invoice.buyer_country = decision.country
        invoice.buyer_vat_id = vat_id_normalise(organisation.vat_id)
        invoice.buyer_email = organisation.email
        invoice.vat_treatment = decision.treatment
        invoice.vat_rate = decision.rate
        invoice.vat_note = decision.note

        invoice.subtotal = sum((line.amount for line in lines), ZERO)
        invoice.promotional_credit = credits_apply(
            invoice=invoice, kind=CreditKind.PROMOTIONAL, up_to=invoice.subtotal, at=now
        )
        invoice.net_total = invoice.subtotal - invoice.promotional_credit
        invoice.vat_amount = vat_amount(invoice.net_total, invoice.vat_rate)
        invoice.total = invoice.net_total + invoice.vat_amount
        invoice.prepaid_applied = credits_apply(invoice=invoice, kind=CreditKind.PREPAID, up_to=invoice.total, at=now)
        invoice.amount_due = invoice.total - invoice.prepaid_applied
        if invoice.amount_due <= 0:
            invoice.status = InvoiceStatus.PAID
            invoice.paid_at = now
        else:
            invoice.status = InvoiceStatus.OPEN
        invoice.pdf = documents.invoice_pdf(invoice, lines)
        invoice.save()
        audit_record(
            actor=actor,
            action="billing.invoice.issue",
            target=invoice,
            organisation_id=organisation.pk,
            changes={
                "number": invoice.number,
                "net_total": str(invoice.net_total),
                "vat": f"{invoice.vat_treatment} {invoice.vat_rate}",
                "total": str(invoice.total),
                "amount_due": str(invoice.amount_due),
            },
        )
        notice_post(
            organisation=organisation,
            kind=NoticeKind.INVOICE,
            message=_("Invoice %(number)s for %(period)s is issued: %(amount)s EUR due.")
            % {"number": invoice.number, "period": f"{invoice.period_start:%Y-%m}", "amount": invoice.amount_due},
        )
        invoice_id = invoice.pk
        # E-mailed by a task after commit, so a mail server outage is retried (docs/dev/style.md#celery-tasks).
        task_enqueue(task_names.INVOICE_EMAIL, invoice_id)
        if settings.BILLING_PAYMENTS_ENABLED and invoice.amount_due > 0:
            task_enqueue(task_names.INVOICE_PUSH, invoice_id)
    return invoice


class InvoiceEmailTransientError(Exception):
    """The mail server could not take the invoice now (connection lost or refused, timeout, a 4xx reply): retry."""


def _smtp_error_is_transient(exc: Exception) -> bool:
    """Connection problems and 4xx replies are temporary (RFC 5321 section 4.2.1); 5xx replies are not."""
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return False


def invoice_email_send(*, invoice_id: int) -> bool:
    """E-mail the issued invoice's PDF to the organisation, once (task ``billing.invoice_email``).

    The send is claimed by setting ``emailed_at`` with a conditional UPDATE
    (``docs/dev/style.md#celery-tasks``): a second run, or a redelivered task,
    finds it set and sends nothing. If sending fails the claim is given back;
    a transient failure raises ``InvoiceEmailTransientError`` so the task
    retries, any other failure is logged and returns False.
    """
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None or not invoice.number or not invoice.buyer_email:
        return False
    claimed_at = timezone.now()
    if not Invoice.objects.filter(pk=invoice.pk, emailed_at__isnull=True).update(emailed_at=claimed_at):
        return False  # already sent (or being sent by another worker)
    seller = settings.BILLING_SELLER
    message = EmailMessage(
        subject=_("Invoice %(number)s from %(seller)s") % {"number": invoice.number, "seller": seller.get("name")},
        body=_(
            "Hello,\n\nYour invoice %(number)s for %(period)s is attached.\n"
            "Total incl. VAT: %(total)s %(currency)s. Amount due: %(due)s %(currency)s by %(due_at)s.\n\n"
            "You can also download it from the billing pages of the console.\n\n%(seller)s\n"
        )
        % {
            "number": invoice.number,
            "period": f"{invoice.period_start:%Y-%m}",
            "total": invoice.total,
            "due": invoice.amount_due,
            "currency": invoice.currency,
            "due_at": f"{invoice.due_at:%Y-%m-%d}" if invoice.due_at else "",
            "seller": seller.get("name"),
        },
        from_email=seller.get("email") or None,
        to=[invoice.buyer_email],
    )
    message.attach(f"{invoice.number}.pdf", bytes(invoice.pdf or b""), "application/pdf")
    try:
        message.send()
    except Exception as exc:
        # Give the claim back, so a retry (or staff) can send it.
        Invoice.objects.filter(pk=invoice.pk, emailed_at=claimed_at).update(emailed_at=None)
        if _smtp_error_is_transient(exc):
            logger.warning("billing: e-mailing invoice %s failed for now (%s); retrying", invoice.number, exc)
            raise InvoiceEmailTransientError(str(exc)) from exc
        logger.exception("billing: could not e-mail invoice %s", invoice.number)
        return False
    return True


def invoices_issue_for_month(*, month: date, actor: Actor = None) -> list[Invoice]:
    """Build and issue ``month``'s invoice for every organisation with usage that has no issued one yet.

    Idempotent (one invoice per organisation and month); one organisation failing (say, a missing VAT
    rate) does not stop the others: it is logged and retried on the next run.
    """
    start, end = month_bounds(month_start(month))
    org_ids = (
        UsageRecord.objects.filter(hour__gte=start, hour__lt=end)
        .values_list("organisation_id", flat=True)
        .distinct()
        .order_by("organisation_id")
    )
    already = set(
        Invoice.objects.filter(period_start=month_start(month))
        .exclude(status=InvoiceStatus.DRAFT)
        .values_list("organisation_id", flat=True)
    )
    issued: list[Invoice] = []
    for organisation in Organisation.objects.filter(pk__in=list(org_ids)).exclude(pk__in=already):
        try:
            draft = invoice_draft_build(organisation=organisation, month=month, actor=actor)
            if draft is not None:
                issued.append(invoice_issue(invoice=draft, actor=actor))
        except Exception:
            logger.exception(
                "billing: could not issue %s invoice of organisation %s", f"{month:%Y-%m}", organisation.pk
            )
    return issued


# ---------------------------------------------------------------------------------------------------------------
# Credit notes
# ---------------------------------------------------------------------------------------------------------------
def credit_note_creditable(invoice: Invoice) -> Decimal:
    """The net amount (excl. VAT) still creditable on ``invoice``."""
    credited = invoice.credit_notes.aggregate(s=Sum("net_amount"))["s"] or ZERO
    return invoice.net_total - credited


def credit_note_issue(
    *, invoice: Invoice, net_amount: Decimal, reason: str, kind: CreditNoteKind | str, actor: Actor
) -> CreditNote:
    """Issue a credit note against an issued invoice (staff), with VAT at the invoice's rate.

    * BALANCE: the total (incl. VAT) becomes prepaid balance; REFUND: refunded on the invoice's
      payment (Stripe, task ``billing.credit_note_refund``, when payments are on; otherwise staff
      refund by bank transfer); both need a paid invoice;
    * REDUCTION: lowers an open invoice's amount due (what exceeds it, the prepaid balance the
      invoice used, goes back to the balance); crediting an open invoice in full voids it.
    """
    try:
        net = to_cents(Decimal(str(net_amount)))
    except (InvalidOperation, ValueError):
        net = ZERO
    if not net.is_finite() or net <= 0:
        raise ValidationFailed(
            _("The amount must be more than 0."), fields={"net_amount": [_("The amount must be more than 0.")]}
        )
    if not (reason or "").strip():
        raise ValidationFailed(_("Give a reason."), fields={"reason": [_("Give a reason: it is printed.")]})
    if kind not in CreditNoteKind.values:
        raise ValidationFailed(_("Choose how the credit is settled."), fields={"kind": [_("Not a valid choice.")]})
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().select_related("organisation").get(pk=invoice.pk)
        if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
            raise Conflict(_("Only an issued invoice that is not void can be credited."), code="invoice_not_creditable")
        if kind == CreditNoteKind.REDUCTION and invoice.status != InvoiceStatus.OPEN:
            raise ValidationFailed(
                _("A paid invoice is credited to the balance or refunded."),
                fields={"kind": [_("The invoice is paid: choose balance or refund.")]},
            )
        if kind != CreditNoteKind.REDUCTION and invoice.status != InvoiceStatus.PAID:
            raise ValidationFailed(
                _("An unpaid invoice is credited by reducing what is due."),
                fields={"kind": [_("The invoice is not paid: choose reduction.")]},
            )
        creditable = credit_note_creditable(invoice)
        if net > creditable:
            message = _("At most %(amount)s EUR (excl. VAT) can still be credited on this invoice.") % {
                "amount": creditable
            }
            raise ValidationFailed(message, fields={"net_amount": [message]})
        full = net == creditable
        if full:
            # The last credit note takes exactly the VAT left, so credit notes add up to the invoice.
            credited_vat = invoice.credit_notes.aggregate(s=Sum("vat_amount"))["s"] or ZERO
            vat_part = invoice.vat_amount - credited_vat
        else:
            vat_part = vat_amount(net, invoice.vat_rate)
        total = net + vat_part
        now = timezone.now()
        number = number_take(name=f"credit_note-{now.year}")
        note = CreditNote.objects.create(
            number=f"{settings.BILLING_CREDIT_NOTE_PREFIX}-{now.year}-{number:06d}",
            invoice=invoice,
            organisation=invoice.organisation,
            kind=kind,
            reason=reason.strip()[:300],
            net_amount=net,
            vat_amount=vat_part,
            total=total,
            issued_at=now,
            issued_by=actor if getattr(actor, "is_authenticated", False) else None,  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        )
        note.pdf = documents.credit_note_pdf(note)
        note.save(update_fields=["pdf", "updated_at"])
        update = ["amount_credited", "updated_at"]
        invoice.amount_credited += total
        back_to_balance = ZERO
        if kind == CreditNoteKind.REDUCTION:
            reduce = min(total, invoice.amount_due)
            back_to_balance = total - reduce
            invoice.amount_due -= reduce
            update.append("amount_due")
            if full:
                invoice.status = InvoiceStatus.VOID
                update.append("status")
            elif invoice.amount_due <= 0:
                invoice.status, invoice.paid_at = InvoiceStatus.PAID, now
                update += ["status", "paid_at"]
        invoice.save(update_fields=update)
        audit_record(
            actor=actor,
            action="billing.credit_note.issue",
            target=note,
            organisation_id=invoice.organisation_id,
            changes={
                "number": note.number,
                "invoice": invoice.number,
                "kind": str(kind),
                "net": str(net),
                "total": str(total),
                "invoice_status": invoice.status,
            },
        )
        if kind == CreditNoteKind.BALANCE:
            back_to_balance = total
        if back_to_balance > 0:
            credit_grant(
                organisation=invoice.organisation,
                kind=CreditKind.PREPAID,
                amount=back_to_balance,
                description=_("Credit note %(number)s") % {"number": note.number},
                actor=actor,
                credit_note=note,
            )
        if kind == CreditNoteKind.REFUND and settings.BILLING_PAYMENTS_ENABLED:
            task_enqueue(task_names.CREDIT_NOTE_REFUND, note.pk)
    return note


def month_of(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)
