"""Reads of floating IPs, scoped to the actor (docs/dev/style.md#selectors): another organisation's is a 404.

``floating_ips_billable`` is the exception: billing's metering reads every
organisation's floating IPs for an hour, like ``instances.selectors.price_periods_billable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Min, Q, QuerySet
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.core.sql import address_text, as_text
from apps.floating_ips.choices import FloatingIpStatus
from apps.floating_ips.models import FloatingIp, FloatingIpRoute
from apps.instances.choices import ActionResource
from apps.instances.models import Action, Instance
from apps.teams.access import object_get_for_actor, restrict_to_actor
from apps.teams.choices import Permission

RELATED = ("datacentre", "server", "project", "organisation")


def floating_ip_list(
    *, actor: Actor, where: Q | None = None, order_by: Sequence[Any] | None = None
) -> QuerySet[FloatingIp]:
    """Every floating IP the actor can read, newest first; released ones are left out."""
    qs = restrict_to_actor(FloatingIp.objects.exclude(status=FloatingIpStatus.RELEASED), actor=actor).select_related(
        *RELATED
    )
    if where is not None:
        qs = qs.filter(where)
    return qs.order_by(*order_by) if order_by else qs.order_by("-created_at", "-id")


def floating_ip_get(*, actor: Actor, public_id: Any, permission: Permission = Permission.RESOURCES_READ) -> FloatingIp:
    """One floating IP by public id: 404 unless visible, 403 if visible without ``permission``."""
    qs = FloatingIp.objects.exclude(status=FloatingIpStatus.RELEASED).select_related(*RELATED)
    try:
        pk = qs.filter(public_id=public_id).values_list("pk", flat=True).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Floating IP not found.")) from exc
    if pk is None:
        raise NotFound(_("Floating IP not found."))
    return object_get_for_actor(qs, actor=actor, pk=pk, permission=permission)


def floating_ip_action_list(*, floating_ip: FloatingIp) -> QuerySet[Action]:
    """Actions of a floating IP the actor can already see, newest first."""
    return (
        Action.objects.filter(resource_type=ActionResource.FLOATING_IP, resource_id=floating_ip.public_id)
        .select_related("instance")
        .order_by("-created_at", "-id")
    )


def floating_ip_open_action(*, floating_ip: FloatingIp) -> Action | None:
    """The floating IP's pending or running action, if any."""
    return floating_ip_action_list(floating_ip=floating_ip).filter(status__in=("pending", "running")).first()


def floating_ips_of_server(*, actor: Actor, server: Instance) -> QuerySet[FloatingIp]:
    """The floating IPs assigned (or being assigned) to a server the actor can see."""
    return floating_ip_list(actor=actor, where=Q(server=server))


def floating_ip_routes(*, addresses: Sequence[str]) -> dict[str, str]:
    """``{address: next hop}`` recorded by the table routing backend for these addresses."""
    rows = FloatingIpRoute.objects.filter(address__in=list(addresses)).values_list("address", "next_hop")
    return dict(rows)


def floating_ips_billable(*, start: datetime, end: datetime) -> QuerySet[FloatingIp]:
    """Floating IPs that exist during [start, end): created before ``end``, not released before ``start``.

    Billed from create to release, assigned or not, at the price frozen at create (``price_hourly``,
    ``price_monthly``; hourly = monthly / 730, capped at the monthly price per calendar month). Rows carry
    ``organisation_id``, ``project_id``, ``public_id``, ``name``, ``address``, ``price_hourly``,
    ``price_monthly``, ``created_at`` and ``deleted_at`` (release time, None while held).
    """
    return (
        FloatingIp.objects.filter(created_at__lt=end)
        .filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=start))
        .exclude(status=FloatingIpStatus.RELEASED, deleted_at__isnull=True)
        .order_by("id")
    )


def floating_ips_billable_since(*, floor: datetime) -> datetime | None:
    """When the earliest floating IP still billable after ``floor`` was created."""
    return FloatingIp.objects.filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=floor)).aggregate(
        m=Min("created_at")
    )["m"]


def floating_ips_by_server() -> QuerySet[FloatingIp]:
    """The floating IPs assigned to servers, as ``apps.instances.selectors.server_extras`` rows (id, address); the
    registry narrows them to a page of servers."""
    return (
        FloatingIp.objects.filter(server_id__isnull=False)
        .exclude(status=FloatingIpStatus.RELEASED)
        .annotate(extra_server=F("server_id"), extra_a=as_text("public_id"), extra_b=address_text("address"))
    )
