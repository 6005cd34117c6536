"""The back office's search box: one query string, whatever the staff member has in hand.

An e-mail address (or part of one), an IP address, a VMID, an order id (the UUID or its first
eight characters, as the portal shows it), an invoice number, or a name. Each kind of object is
one bounded query, asked only when the text can be that kind of thing and the staff member may
view that model.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.billing.models import Invoice
from apps.floating_ips.models import FloatingIp
from apps.instances.models import Instance
from apps.managed.models import ManagedService
from apps.orders.models import Order
from apps.teams.models import Organisation

PER_KIND = 20
_HEX_PREFIX = re.compile(r"^[0-9a-f]{8}(-[0-9a-f-]{0,27})?$")


@dataclass(frozen=True)
class SearchHit:
    kind: str | Promise
    label: str
    detail: str
    admin_url: str  # an admin URL name taking the object's pk
    pk: Any
    organisation_id: int | None = None


Perm = Callable[[str], bool]


def _ip(q: str) -> str | None:
    try:
        return str(ipaddress.ip_address(q))
    except ValueError:
        return None


def search(*, q: str, can_view: Perm) -> list[SearchHit]:
    """Hits for ``q`` across users, organisations, servers, services, floating IPs, orders and invoices.

    ``can_view(perm)`` answers for the staff member (``user.has_perm``); a model they may not view
    is not searched.
    """
    q = (q or "").strip()[:200]
    if len(q) < 2:
        return []
    hits: list[SearchHit] = []
    ip = _ip(q)
    lowered = q.lower()

    if "@" in q or not ip:
        if can_view("accounts.view_user"):
            for user in User.objects.filter(email__icontains=q).order_by("email")[:PER_KIND]:
                hits.append(SearchHit(_("User"), user.email, "", "admin:accounts_user_change", user.pk))
        if can_view("teams.view_organisation"):
            orgs = Organisation.objects.filter(
                Q(billing_email__icontains=q)
                | Q(memberships__user__email__icontains=q)
                | Q(name__icontains=q)
                | Q(slug__icontains=q)
                | Q(vat_id__iexact=q)
            ).distinct()
            for org in orgs.order_by("name")[:PER_KIND]:
                hits.append(
                    SearchHit(_("Organisation"), org.name, org.slug, "admin:backoffice_organisation", org.pk, org.pk)
                )

    if can_view("instances.view_instance"):
        server_q = Q()
        if ip:
            server_q = Q(ipv4=ip) | Q(ipv6=ip)
        elif q.isdigit():
            server_q = Q(vmid=int(q))
        elif "@" not in q:
            server_q = Q(name__icontains=q)
        if server_q:
            servers = Instance.objects.filter(server_q).select_related("organisation").order_by("-created_at")
            for server in servers[:PER_KIND]:
                detail = f"VMID {server.vmid or '-'} · {server.ipv4 or ''} · {server.organisation.name}"
                hits.append(
                    SearchHit(
                        _("Server"),
                        server.name,
                        detail,
                        "admin:instances_instance_change",
                        server.pk,
                        server.organisation_id,
                    )
                )

    if ip and can_view("floating_ips.view_floatingip"):
        for fip in FloatingIp.objects.filter(address=ip).select_related("organisation")[:PER_KIND]:
            hits.append(
                SearchHit(
                    _("Floating IP"),
                    str(fip.address),
                    fip.organisation.name,
                    "admin:floating_ips_floatingip_change",
                    fip.pk,
                    fip.organisation_id,
                )
            )

    if not ip and "@" not in q and can_view("managed.view_managedservice"):
        for service in ManagedService.objects.filter(name__icontains=q).select_related("organisation")[:PER_KIND]:
            hits.append(
                SearchHit(
                    _("Managed service"),
                    service.name,
                    service.organisation.name,
                    "admin:managed_managedservice_change",
                    service.pk,
                    service.organisation_id,
                )
            )

    if can_view("orders.view_order"):
        order_q = None
        try:
            order_q = Q(public_id=uuid.UUID(q))
        except ValueError:
            if _HEX_PREFIX.match(lowered):
                order_q = Q(public_text__startswith=lowered)
        if order_q is not None:
            orders = (
                Order.objects.annotate(public_text=Cast("public_id", CharField()))
                .filter(order_q)
                .select_related("organisation", "offer")
            )
            for order in orders[:PER_KIND]:
                hits.append(
                    SearchHit(
                        _("Order"),
                        str(order.public_id),
                        f"{order.offer.code} · {order.get_state_display()} · {order.organisation.name}",
                        "admin:orders_order_change",
                        order.pk,
                        order.organisation_id,
                    )
                )

    if not ip and "@" not in q and can_view("billing.view_invoice"):
        for invoice in Invoice.objects.filter(number__icontains=q).select_related("organisation")[:PER_KIND]:
            hits.append(
                SearchHit(
                    _("Invoice"),
                    invoice.number or "",
                    f"{invoice.get_status_display()} · {invoice.total} "
                    f"{invoice.currency} · {invoice.organisation.name}",
                    "admin:billing_invoice_change",
                    invoice.pk,
                    invoice.organisation_id,
                )
            )
    return hits
