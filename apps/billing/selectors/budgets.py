"""Reads of budgets: an organisation's budgets, their alerts, its notices, what a budget's action reaches.

The rules and the writes are in ``apps.billing.services.budgets``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.billing.models import BillingNotice, Budget, BudgetAlert
from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.teams.access import organisation_get_for_actor, organisation_list_for_actor
from apps.teams.choices import Permission, Role
from apps.teams.models import Membership, Organisation


def budget_list(*, organisation: Organisation) -> QuerySet[Budget]:
    """Budgets of an organisation already resolved for the actor (``billing.read``)."""
    return Budget.objects.filter(organisation=organisation).select_related("project").order_by("name", "id")


def budget_get_for_actor(*, actor: Actor, public_id: Any, permission: Permission = Permission.BILLING_READ) -> Budget:
    """One budget: 404 unless the actor sees its organisation, 403 without ``permission``."""
    try:
        budget = (
            Budget.objects.select_related("organisation", "project")
            .filter(organisation__in=organisation_list_for_actor(actor=actor))
            .get(public_id=public_id)
        )
    except (Budget.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Budget not found.")) from exc
    organisation_get_for_actor(actor=actor, org_slug_or_id=budget.organisation_id, permission=permission)
    return budget


def budget_alert_list(*, budget: Budget) -> QuerySet[BudgetAlert]:
    return BudgetAlert.objects.filter(budget=budget).order_by("-month", "-threshold", "-id")


def notice_list(*, organisation: Organisation, unread_only: bool = False) -> QuerySet[BillingNotice]:
    qs = BillingNotice.objects.filter(organisation=organisation).order_by("-created_at", "-id")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def gpu_instances_in_scope(*, budget: Budget) -> QuerySet[Instance]:
    qs = Instance.objects.filter(
        organisation=budget.organisation, status=InstanceStatus.RUNNING, offer__gpu_model__isnull=False
    )
    if budget.project_id is not None:
        qs = qs.filter(project_id=budget.project_id)
    return qs.select_related("organisation", "offer").order_by("pk")


def alert_recipients(*, budget: Budget) -> list[str]:
    """The budget's addresses, else the organisation's billing address and its billing members."""
    if budget.notify_emails:
        return list(budget.notify_emails)
    organisation = budget.organisation
    found = [organisation.email] if organisation.email else []
    found += list(
        Membership.objects.filter(organisation=organisation, role=Role.BILLING)
        .order_by("created_at")
        .values_list("user__email", flat=True)
    )
    seen: set[str] = set()
    return [e for e in found if e and not (e.lower() in seen or seen.add(e.lower()))]  # type: ignore[func-returns-value]
