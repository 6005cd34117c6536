"""The organisation page: what a support call needs about one organisation, in a fixed number of queries.

Every list is one query (related rows joined with ``select_related``) cut at ``LIMIT`` rows, with a
link to the full changelist when there are more; the count of queries does not grow with the
number of servers, services, invoices or members (tests/backoffice/test_views.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from apps.backoffice.models import StaffNote
from apps.billing.choices import CreditKind
from apps.billing.models import CreditGrant, Invoice
from apps.billing.selectors import billing_state, cost_summary, credit_available
from apps.billing.selectors.costs import CostSummary
from apps.billing.selectors.payments import BillingState
from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.managed.choices import LIVE_STATES
from apps.managed.models import ManagedService
from apps.orders.choices import OPEN_STATES, OrderState
from apps.orders.models import Order
from apps.sso.models import SamlConnection, SamlDomain
from apps.teams.models import Membership, Organisation, Project
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume

LIMIT = 50
AUDIT_LIMIT = 25


def _cut(queryset: QuerySet[Any], limit: int = LIMIT) -> tuple[list[Any], bool]:
    """The first ``limit`` rows and whether there are more (one query: ``limit + 1`` rows are read)."""
    rows = list(queryset[: limit + 1])
    return rows[:limit], len(rows) > limit


@dataclass
class OrganisationView:
    organisation: Organisation
    memberships: list[Membership]
    projects: list[Project]
    instances: list[Instance]
    instances_more: bool
    services: list[ManagedService]
    services_more: bool
    volumes: list[Volume]
    volumes_more: bool
    open_orders: list[Order]
    failed_orders: list[Order]
    costs: CostSummary | None
    costs_error: str
    invoices: list[Invoice]
    invoices_more: bool
    credits: list[CreditGrant]
    prepaid: Decimal
    promotional: Decimal
    billing: BillingState
    sso: SamlConnection | None
    sso_domains: list[SamlDomain]
    audit_events: list[AuditEvent]
    notes: list[StaffNote]


def organisation_view(*, organisation: Organisation) -> OrganisationView:
    """Everything on the organisation page (staff only; the view checks the permission)."""
    org = organisation
    instances, instances_more = _cut(
        Instance.objects.filter(organisation=org)
        .exclude(status=InstanceStatus.DELETED)
        .select_related("project", "offer", "datacentre")
        .order_by("-created_at", "-id")
    )
    services, services_more = _cut(
        ManagedService.objects.filter(organisation=org, state__in=LIVE_STATES)
        .select_related("project", "offer", "datacentre")
        .order_by("-created_at", "-id")
    )
    volumes, volumes_more = _cut(
        Volume.objects.filter(organisation=org)
        .exclude(status=VolumeStatus.DELETED)
        .select_related("project", "server", "datacentre")
        .order_by("-created_at", "-id")
    )
    orders = list(
        Order.objects.filter(organisation=org, state__in=[*OPEN_STATES, OrderState.FAILED])
        .select_related("offer", "datacentre", "project")
        .order_by("-created_at", "-id")[: LIMIT * 2]
    )
    invoices, invoices_more = _cut(Invoice.objects.filter(organisation=org).order_by("-period_start", "-id"), limit=12)
    sso = SamlConnection.objects.filter(organisation=org).first()
    # The page must answer a support call even when billing cannot rate the month (a VAT rate
    # missing for the organisation's country, say): the reason is shown in place of the spend.
    costs: CostSummary | None = None
    costs_error = ""
    try:
        costs = cost_summary(organisation=org)
    except ApplicationError as exc:
        costs_error = exc.message
    return OrganisationView(
        organisation=org,
        memberships=list(
            Membership.objects.filter(organisation=org).select_related("user").order_by("role", "user__email")
        ),
        projects=list(Project.objects.filter(organisation=org).order_by("-is_default", "name")),
        instances=instances,
        instances_more=instances_more,
        services=services,
        services_more=services_more,
        volumes=volumes,
        volumes_more=volumes_more,
        open_orders=[o for o in orders if o.state != OrderState.FAILED],
        failed_orders=[o for o in orders if o.state == OrderState.FAILED],
        costs=costs,
        costs_error=costs_error,
        invoices=invoices,
        invoices_more=invoices_more,
        credits=list(CreditGrant.objects.filter(organisation=org).order_by("-created_at")[:10]),
        prepaid=credit_available(organisation=org, kind=CreditKind.PREPAID),
        promotional=credit_available(organisation=org, kind=CreditKind.PROMOTIONAL),
        billing=billing_state(organisation=org),
        sso=sso,
        sso_domains=list(SamlDomain.objects.filter(connection=sso)) if sso is not None else [],
        audit_events=list(AuditEvent.objects.filter(organisation_id=org.pk).order_by("-created_at")[:AUDIT_LIMIT]),
        notes=list(StaffNote.objects.filter(organisation=org).order_by("-created_at")[:20]),
    )
