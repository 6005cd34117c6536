"""The work queues of the back office's landing page: how many items wait in each, and since when.

Each queue is one aggregate query (``Count`` and ``Min`` of its age column), so the landing page
costs one query per queue the staff member may see, however long the queues are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.billing.choices import IN_DUNNING, InvoiceStatus
from apps.billing.models import BillingAccount, Invoice
from apps.infrastructure.choices import NodeStatus
from apps.infrastructure.models import Node
from apps.instances.choices import DriftStatus
from apps.instances.models import Drift
from apps.orders import selectors as order_selectors
from apps.orders.choices import OrderState
from apps.orders.models import Order
from apps.sso.models import SamlDomain

# The flags of the GPU risk policy all start so (apps.orders.choices.OrderFlag).
GPU_FLAG_PREFIX = "gpu_"


@dataclass(frozen=True)
class WorkQueue:
    """One queue: what it counts, the column that dates an item, and the admin changelist that lists it."""

    key: str
    label: str | Promise
    help: str | Promise
    permission: str  # the Django permission a staff member needs to see it
    changelist: str  # admin URL name
    query: Callable[[dt.datetime], str]  # the changelist's filter, as a query string
    items: Callable[[dt.datetime], QuerySet]  # type: ignore[type-arg]
    age_field: str


@dataclass(frozen=True)
class QueueCount:
    queue: WorkQueue
    count: int
    oldest: dt.datetime | None


def _overdue(now: dt.datetime) -> QuerySet[Invoice]:
    return Invoice.objects.filter(status=InvoiceStatus.OPEN, due_at__lt=now)


def _unreachable() -> Q:
    return ~Q(status=NodeStatus.ONLINE) | Q(missing_since__isnull=False)


QUEUES: tuple[WorkQueue, ...] = (
    WorkQueue(
        key="approvals",
        label=_("Approvals waiting"),
        help=_("Orders flagged for a staff decision: approve or reject."),
        permission="orders.view_order",
        changelist="admin:orders_approvalqueueorder_changelist",
        query=lambda now: "",
        items=lambda now: order_selectors.approval_queue(),
        age_field="created_at",
    ),
    WorkQueue(
        key="gpu_reviews",
        label=_("GPU risk reviews"),
        help=_("GPU orders held by the GPU risk policy."),
        permission="orders.view_order",
        changelist="admin:orders_approvalqueueorder_changelist",
        query=lambda now: f"flags__icontains={GPU_FLAG_PREFIX}",
        items=lambda now: order_selectors.approval_queue().filter(flags__icontains=GPU_FLAG_PREFIX),
        age_field="created_at",
    ),
    WorkQueue(
        key="fulfilments",
        label=_("Managed services to deliver"),
        help=_("Managed-service orders staff have not delivered yet."),
        permission="orders.view_order",
        changelist="admin:orders_fulfilmentqueueorder_changelist",
        query=lambda now: "",
        items=lambda now: order_selectors.fulfilment_queue(),
        age_field="created_at",
    ),
    WorkQueue(
        key="failed_orders",
        label=_("Failed orders"),
        help=_("Orders that failed: retry them or let the customer cancel."),
        permission="orders.view_order",
        changelist="admin:orders_order_changelist",
        query=lambda now: f"state__exact={OrderState.FAILED}",
        items=lambda now: Order.objects.filter(state=OrderState.FAILED),
        age_field="updated_at",
    ),
    WorkQueue(
        key="drift",
        label=_("Drift findings"),
        help=_("Differences between the platform and Proxmox found by reconciliation."),
        permission="instances.change_drift",  # a finding is work for those who can act on it
        changelist="admin:instances_drift_changelist",
        query=lambda now: f"status__exact={DriftStatus.OPEN}",
        items=lambda now: Drift.objects.filter(status=DriftStatus.OPEN),
        age_field="created_at",
    ),
    WorkQueue(
        key="sso_domains",
        label=_("SSO domains to verify"),
        help=_("Domains claimed by two organisations: only staff can verify them."),
        permission="sso.view_samldomain",
        changelist="admin:sso_samldomain_changelist",
        query=lambda now: "staff_review__exact=1&verified_at__isnull=True",
        items=lambda now: SamlDomain.objects.filter(staff_review=True, verified_at__isnull=True),
        age_field="created_at",
    ),
    WorkQueue(
        key="overdue_invoices",
        label=_("Overdue invoices"),
        help=_("Open invoices past their due date."),
        permission="billing.view_invoice",
        changelist="admin:billing_invoice_changelist",
        query=lambda now: f"status__exact={InvoiceStatus.OPEN}&due_at__lt={now:%Y-%m-%d %H:%M:%S}",
        items=_overdue,
        age_field="due_at",
    ),
    WorkQueue(
        key="dunning",
        label=_("Accounts in dunning"),
        help=_("Billing accounts overdue or suspended for non-payment: the next reminder or step."),
        permission="billing.view_billingaccount",
        changelist="admin:billing_billingaccount_changelist",
        query=lambda now: "dunning_state__in=" + ",".join(str(s) for s in IN_DUNNING),
        items=lambda now: BillingAccount.objects.filter(dunning_state__in=IN_DUNNING),
        age_field="past_due_since",
    ),
    WorkQueue(
        key="nodes_unreachable",
        label=_("Nodes unreachable"),
        help=_("Nodes Proxmox reports offline or unknown, or that the last sync did not find."),
        permission="infrastructure.view_node",
        changelist="admin:infrastructure_node_changelist",
        query=lambda now: "status__in=" + ",".join([NodeStatus.OFFLINE, NodeStatus.UNKNOWN]),
        items=lambda now: Node.objects.filter(_unreachable()),
        age_field="last_seen_at",
    ),
    WorkQueue(
        key="nodes_draining",
        label=_("Nodes draining"),
        help=_("Nodes in maintenance: they receive no new servers."),
        permission="infrastructure.view_node",
        changelist="admin:infrastructure_node_changelist",
        query=lambda now: "maintenance__exact=1",
        items=lambda now: Node.objects.filter(maintenance=True),
        age_field="updated_at",
    ),
)


def work_queue_counts(*, queues: Iterable[WorkQueue] = QUEUES, now: dt.datetime | None = None) -> list[QueueCount]:
    """Count and oldest item of each queue: one aggregate query per queue."""
    now = now or timezone.now()
    out = []
    for queue in queues:
        row = queue.items(now).order_by().aggregate(count=Count("pk"), oldest=Min(queue.age_field))
        out.append(QueueCount(queue=queue, count=row["count"] or 0, oldest=row["oldest"]))
    return out
