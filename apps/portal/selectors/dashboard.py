"""Reads for the dashboard: what an organisation has, what is moving, its spend and notices, and its first steps.

Every figure is computed from data the owning apps expose through their selectors,
scoped to the actor, with a constant number of queries whatever the number of
resources (counts and sums in the database, never a Python loop over rows):
``tests/portal/test_dashboard_overview.py`` holds it to that and
``benchmarks/dashboard_bench.py`` times it for 500 servers. What each item of the
first-run checklist means is written in ``apps/docs/content/console.md#first-steps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from apps.accounts.selectors import user_has_second_factor
from apps.alerts import selectors as alert_selectors
from apps.billing import selectors as billing_selectors
from apps.core.actors import Actor
from apps.core.errors import ApplicationError
from apps.firewalls import selectors as firewall_selectors
from apps.floating_ips import selectors as floating_ip_selectors
from apps.infrastructure.models import Node
from apps.instances import selectors as instance_selectors
from apps.instances.choices import OPEN_ACTION_STATUSES, InstanceStatus
from apps.managed import selectors as managed_selectors
from apps.networks import selectors as network_selectors
from apps.orders import selectors as order_selectors
from apps.orders.choices import OrderState
from apps.teams import selectors as team_selectors
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.volumes import selectors as volume_selectors

ZERO = Decimal("0")
# Orders on their way: not created yet, waiting for an approver, or being provisioned / set up.
ORDERS_MOVING = (OrderState.PENDING, OrderState.AWAITING_APPROVAL, OrderState.PROVISIONING)
# Server statuses that are no transition: anything else is "in progress".
SERVER_SETTLED = (InstanceStatus.RUNNING, InstanceStatus.STOPPED, InstanceStatus.ERROR, InstanceStatus.DELETED)


@dataclass(frozen=True)
class ServerFigures:
    """The organisation's servers by state, and the monthly cap of what it runs."""

    total: int = 0
    running: int = 0
    stopped: int = 0
    error: int = 0
    moving: int = 0


@dataclass(frozen=True)
class BudgetUse:
    """One active budget against this month's spend (month-to-date or forecast, as the budget compares)."""

    name: str
    amount: Decimal
    spend: Decimal
    basis: str
    scope: str  # the project's name, "" for the whole organisation

    @property
    def percent(self) -> int:
        return int(self.spend * 100 / self.amount) if self.amount else 0


@dataclass
class DashboardOverview:
    """Everything the dashboard shows, computed in a fixed number of queries."""

    counts: dict[str, int] = field(default_factory=dict)
    servers: ServerFigures = field(default_factory=ServerFigures)
    monthly_cap: Decimal = ZERO
    services_cap: Decimal = ZERO
    actions_running: int = 0
    orders_moving: int = 0
    approvals_waiting: int = 0
    incidents_open: int = 0
    servers_in_maintenance: int = 0
    can_read_billing: bool = False
    month_to_date: Decimal | None = None
    forecast: Decimal | None = None
    budgets: list[BudgetUse] = field(default_factory=list)


def _count(qs: Any) -> int:
    # ``order_by()`` drops the list's ordering, which a COUNT does not need.
    return int(qs.order_by().count())


def dashboard_overview(*, actor: Actor, organisation: Organisation) -> DashboardOverview:
    """What ``organisation`` has across products and what is moving, as ``actor`` may see it."""
    mine = Q(organisation=organisation)
    servers = instance_selectors.instance_list(actor=actor).filter(mine).order_by()
    figures = servers.aggregate(
        total=Count("pk"),
        running=Count("pk", filter=Q(status=InstanceStatus.RUNNING)),
        stopped=Count("pk", filter=Q(status=InstanceStatus.STOPPED)),
        error=Count("pk", filter=Q(status=InstanceStatus.ERROR)),
        moving=Count("pk", filter=~Q(status__in=SERVER_SETTLED)),
        cap=Sum("price_monthly"),
    )
    # Live managed services count in the monthly cap like servers: each at most its tier's price (issue 14).
    live_services = managed_selectors.service_list(actor=actor, where=mine, include_ended=False).order_by()
    services = live_services.aggregate(
        total=Count("pk"),
        load_balancers=Count("pk", filter=Q(load_balancer__isnull=False)),
        cap=Sum("price_monthly"),
    )
    services_cap = services["cap"] or ZERO
    counts = {
        "servers": figures["total"],
        "volumes": _count(volume_selectors.volume_list(actor=actor, where=mine)),
        "networks": _count(network_selectors.network_list(actor=actor, where=mine)),
        "firewalls": _count(firewall_selectors.firewall_list(actor=actor, where=mine)),
        "floating_ips": _count(floating_ip_selectors.floating_ip_list(actor=actor, where=mine)),
        "services": services["total"] - services["load_balancers"],
        "load_balancers": services["load_balancers"],
        "alert_policies": _count(alert_selectors.alert_policy_list(actor=actor, where=mine)),
        "ssh_keys": _count(instance_selectors.ssh_key_list(actor=actor, organisation=organisation)),
    }
    orders = order_selectors.order_list(actor=actor, organisation=organisation).order_by()
    order_figures = orders.aggregate(
        moving=Count("pk", filter=Q(state__in=ORDERS_MOVING)),
        approvals=Count("pk", filter=Q(state=OrderState.AWAITING_APPROVAL)),
    )
    actions = instance_selectors.action_list_for_actor(actor=actor, where=mine & Q(status__in=OPEN_ACTION_STATUSES))
    incidents = alert_selectors.alert_policy_list(actor=actor, where=mine).order_by()
    overview = DashboardOverview(
        counts=counts,
        servers=ServerFigures(
            total=figures["total"],
            running=figures["running"],
            stopped=figures["stopped"],
            error=figures["error"],
            moving=figures["moving"],
        ),
        monthly_cap=(figures["cap"] or ZERO) + services_cap,
        services_cap=services_cap,
        actions_running=_count(actions),
        orders_moving=order_figures["moving"],
        approvals_waiting=order_figures["approvals"],
        incidents_open=incidents.aggregate(n=Count("incidents", filter=Q(incidents__resolved_at__isnull=True)))["n"],
        # Staff drain a node for maintenance (apps/docs/content/operations.md): its servers keep running, but a
        # customer wants to know before a planned reboot or migration.
        servers_in_maintenance=_count(
            servers.filter(node_name__in=Node.objects.filter(maintenance=True).values("name"))
        ),
    )
    if actor_has_permission(actor, organisation, Permission.BILLING_READ):
        overview.can_read_billing = True
        _spend_fill(overview, organisation)
    return overview


def _spend_fill(overview: DashboardOverview, organisation: Organisation) -> None:
    """Month-to-date, forecast and every active budget against them, from one cost summary."""
    try:
        summary = billing_selectors.cost_summary(organisation=organisation)
    except ApplicationError:
        # No VAT rate for the organisation's country yet (staff add it): the rest of the dashboard still
        # shows; the spend card says it is unavailable rather than the whole page failing.
        return
    overview.month_to_date = summary.month_to_date
    overview.forecast = summary.forecast
    by_project = {p.project_id: p for p in summary.projects}
    for budget in (
        billing_selectors.budget_list(organisation=organisation).filter(is_active=True).select_related("project")
    ):
        if budget.project_id is None:
            month_to_date, forecast, scope = summary.month_to_date, summary.forecast, ""
        else:
            project = by_project.get(budget.project_id)
            month_to_date = project.month_to_date if project else ZERO
            forecast = project.forecast if project else ZERO
            scope = budget.project.name if budget.project else ""
        spend = forecast if budget.basis == "forecast" else month_to_date
        overview.budgets.append(
            BudgetUse(name=budget.name, amount=budget.amount, spend=spend, basis=budget.basis, scope=scope)
        )


@dataclass(frozen=True)
class ChecklistItem:
    """One first step of a new organisation: done or not, computed from data (never a stored click)."""

    key: str
    done: bool


def onboarding_checklist(*, actor: Actor, organisation: Organisation) -> list[ChecklistItem]:
    """The first-run checklist, in the order a newcomer meets it (apps/docs/content/console.md#first-steps).

    * ``billing_identity``: the organisation says where it is (its country decides the VAT) and, unless it is a
      personal account (a consumer), who the business is (its legal name; a VAT id is optional, it gives the
      reverse charge inside the EU);
    * ``ssh_key``: an SSH key in the organisation;
    * ``first_server``: a server was ever created (deleting it later does not untick it);
    * ``teammate``: another member, or an invitation waiting for an answer;
    * ``two_factor``: the user looking at it has a second factor (TOTP or a passkey).
    """
    identity = bool(organisation.country) and (organisation.is_personal or bool(organisation.legal_name))
    ssh_key = instance_selectors.ssh_key_list(actor=actor, organisation=organisation).exists()
    first_server = (
        instance_selectors.instance_list(actor=actor, include_deleted=True).filter(organisation=organisation).exists()
    )
    teammate = (
        team_selectors.member_list(organisation=organisation).count() > 1
        or team_selectors.invitation_list(organisation=organisation, pending_only=True).exists()
    )
    return [
        ChecklistItem("billing_identity", identity),
        ChecklistItem("ssh_key", ssh_key),
        ChecklistItem("first_server", first_server),
        ChecklistItem("teammate", teammate),
        ChecklistItem("two_factor", user_has_second_factor(user=actor)),
    ]
