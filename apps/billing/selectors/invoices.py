"""Reads of invoices, credit notes, credits and usage, scoped to the actor (billing role: ``billing.read``).

Billing objects belong to an organisation, not a project: an object of an
organisation the actor cannot see is a 404; of one it belongs to without
``billing.read`` (a member, a viewer) a 403. Customers never see drafts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.billing.choices import InvoiceStatus
from apps.billing.models import CreditGrant, CreditNote, Invoice
from apps.billing.rules import documents
from apps.billing.rules.rating import ChargeLine
from apps.billing.selectors.usage import rate_month
from apps.core.actors import Actor
from apps.core.errors import NotFound, PermissionDenied
from apps.teams.access import actor_has_permission, organisation_get_for_actor, organisation_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation


def billing_organisations(*, actor: Actor, organisation: str | int | None = None) -> list[Organisation]:
    """Organisations whose billing the actor may read (one, when ``organisation`` names it: 404/403 otherwise).

    An actor who sees organisations but may read the billing of none of them gets 403.
    """
    if organisation is not None and organisation != "":
        return [
            organisation_get_for_actor(actor=actor, org_slug_or_id=organisation, permission=Permission.BILLING_READ)
        ]
    visible = [org for org in organisation_list_for_actor(actor=actor) if not org.is_suspended]
    allowed = [org for org in visible if actor_has_permission(actor, org, Permission.BILLING_READ)]
    if visible and not allowed:
        raise PermissionDenied(_("Your role does not allow this action."))
    return allowed


def _organisation_of(actor: Actor, organisation_id: int) -> Organisation:
    return organisation_get_for_actor(actor=actor, org_slug_or_id=organisation_id, permission=Permission.BILLING_READ)


def invoice_list(
    *, actor: Actor, organisation: str | int | None = None, status: str | None = None
) -> QuerySet[Invoice]:
    """Issued invoices of the organisations whose billing the actor reads, newest first."""
    orgs = billing_organisations(actor=actor, organisation=organisation)
    qs = (
        Invoice.objects.filter(organisation__in=orgs)
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("organisation")
        .order_by("-period_start", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    return qs.defer("pdf")


def invoice_get(*, actor: Actor, public_id: Any) -> Invoice:
    try:
        invoice = (
            Invoice.objects.filter(public_id=public_id, organisation__in=organisation_list_for_actor(actor=actor))
            .exclude(status=InvoiceStatus.DRAFT)
            .select_related("organisation")
            .first()
        )
    except (ValueError, TypeError):
        invoice = None
    if invoice is None:
        raise NotFound(_("Not found."))
    _organisation_of(actor, invoice.organisation_id)
    return invoice


def credit_note_list(*, actor: Actor, organisation: str | int | None = None) -> QuerySet[CreditNote]:
    orgs = billing_organisations(actor=actor, organisation=organisation)
    return CreditNote.objects.filter(organisation__in=orgs).select_related("invoice").defer("pdf", "invoice__pdf")


def credit_note_get(*, actor: Actor, public_id: Any) -> CreditNote:
    try:
        note = (
            CreditNote.objects.filter(public_id=public_id, organisation__in=organisation_list_for_actor(actor=actor))
            .select_related("invoice", "organisation")
            .first()
        )
    except (ValueError, TypeError):
        note = None
    if note is None:
        raise NotFound(_("Not found."))
    _organisation_of(actor, note.organisation_id)
    return note


def credit_list(*, actor: Actor, organisation: str | int | None = None) -> QuerySet[CreditGrant]:
    """Credits (prepaid and promotional), soonest expiring first, with what is left."""
    orgs = billing_organisations(actor=actor, organisation=organisation)
    return CreditGrant.objects.filter(organisation__in=orgs).select_related("credit_note")


def usage_month(*, actor: Actor, organisation: str | int | None, month: date) -> tuple[Organisation, list[ChargeLine]]:
    """The charged lines of one organisation's month (the cap applied), as the invoice will show them."""
    orgs = billing_organisations(actor=actor, organisation=organisation)
    if not orgs:
        raise NotFound(_("Organisation not found."))
    if len(orgs) > 1:
        from apps.core.errors import ValidationFailed

        message = _("You can read the billing of several organisations: say which one.")
        raise ValidationFailed(message, fields={"organisation": [message]})
    return orgs[0], rate_month(organisation_id=orgs[0].pk, month=month)


def invoice_csv(invoice: Invoice) -> str:
    """The invoice's lines as CSV (``rules.documents.invoice_csv`` over its lines, in order)."""
    return documents.invoice_csv(invoice, invoice.lines.all())
