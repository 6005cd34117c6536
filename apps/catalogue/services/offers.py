"""Offer writes: the hourly price an offer gets under its family's rule, and activating, hiding or retiring offers.

Each status change is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from apps.catalogue import choices
from apps.catalogue.models import Offer, ProductFamily
from apps.catalogue.rules import pricing
from apps.core.actors import Actor
from apps.core.choices import ActorKind
from apps.core.errors import ValidationFailed
from apps.core.services import audit_record, model_changes


def offer_hourly_price(
    *, family: ProductFamily, billing_unit: str, monthly: Decimal, listed: Decimal | None
) -> Decimal:
    """The hourly price an offer gets under its family's rule (``apps.catalogue.rules.pricing``)."""
    if family.hourly_price_rule == choices.HourlyPriceRule.LIST:
        if listed is None:
            raise ValidationFailed(
                _("This family uses list hourly prices: enter one."), fields={"price_hourly": [_("Required.")]}
            )
        return listed
    return pricing.derived_hourly(monthly=monthly, per_gb=billing_unit == choices.BillingUnit.GB_MONTH)


_STATUS_VERBS = {
    choices.OfferStatus.ACTIVE: "activate",
    choices.OfferStatus.HIDDEN: "hide",
    choices.OfferStatus.RETIRED: "retire",
}


@transaction.atomic
def offer_set_status(*, actor: Actor, offer: Offer, status: str, actor_kind: ActorKind | None = None) -> Offer:
    """Activate, hide or retire one offer. Retiring stops new orders; sold resources keep running."""
    if status not in choices.OfferStatus.values:
        raise ValidationFailed(_("Unknown offer status."), fields={"status": [_("Choose a valid status.")]})
    locked = Offer.objects.select_for_update().get(pk=offer.pk)
    if locked.status == status:
        return locked
    before = {"status": locked.status}
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        actor_kind=actor_kind,
        action=f"catalogue.offer.{_STATUS_VERBS[choices.OfferStatus(status)]}",
        target=locked,
        changes=model_changes(locked, ["status"], before),
    )
    return locked


def offers_set_status(
    *, actor: Actor, offers: Iterable[Offer], status: str, actor_kind: ActorKind | None = None
) -> int:
    """Bulk ``offer_set_status`` in one transaction; returns how many offers changed."""
    changed = 0
    with transaction.atomic():
        for offer in offers:
            before = offer.status
            after = offer_set_status(actor=actor, offer=offer, status=status, actor_kind=actor_kind)
            changed += int(after.status != before)
    return changed
