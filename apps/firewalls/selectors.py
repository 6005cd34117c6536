"""Reads of firewalls, scoped to the actor (docs/dev/style.md#selectors): another organisation's firewall is a 404."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet, Value
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.core.sql import as_text
from apps.firewalls.choices import FirewallStatus, MemberStatus
from apps.firewalls.models import Firewall, FirewallServer
from apps.instances.choices import ActionResource
from apps.instances.models import Action, Instance
from apps.teams.access import object_get_for_actor, restrict_to_actor
from apps.teams.choices import Permission

RELATED = ("project", "organisation")
VISIBLE = (FirewallStatus.ACTIVE, FirewallStatus.DELETING)


def _annotated(qs: QuerySet[Firewall]) -> QuerySet[Firewall]:
    members = Prefetch("members", queryset=FirewallServer.objects.select_related("instance").order_by("id"))
    return qs.prefetch_related(members).annotate(
        servers_total=Count("members", filter=~Q(members__status=MemberStatus.REMOVING), distinct=True),
        servers_not_applied=Count("members", filter=~Q(members__status=MemberStatus.APPLIED), distinct=True),
    )


def firewall_list(*, actor: Actor, where: Q | None = None, order_by: Sequence[Any] | None = None) -> QuerySet[Firewall]:
    """Every firewall the actor can read, newest first; deleted ones are left out."""
    qs = restrict_to_actor(Firewall.objects.filter(status__in=VISIBLE), actor=actor).select_related(*RELATED)
    if where is not None:
        qs = qs.filter(where)
    qs = _annotated(qs)
    return qs.order_by(*order_by) if order_by else qs.order_by("-created_at", "-id")


def firewall_get(*, actor: Actor, public_id: Any, permission: Permission = Permission.RESOURCES_READ) -> Firewall:
    """One firewall by public id: 404 unless visible, 403 if visible without ``permission``."""
    qs = _annotated(Firewall.objects.filter(status__in=VISIBLE).select_related(*RELATED))
    try:
        pk = Firewall.objects.filter(status__in=VISIBLE, public_id=public_id).values_list("pk", flat=True).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Firewall not found.")) from exc
    if pk is None:
        raise NotFound(_("Firewall not found."))
    return object_get_for_actor(qs, actor=actor, pk=pk, permission=permission)


def firewall_members(*, firewall: Firewall) -> QuerySet[FirewallServer]:
    """The servers the firewall applies to (or is being removed from), with their application status."""
    return FirewallServer.objects.filter(firewall=firewall).select_related("instance").order_by("instance__name", "id")


def firewall_action_list(*, firewall: Firewall) -> QuerySet[Action]:
    """Actions of a firewall the actor can already see, newest first."""
    return Action.objects.filter(resource_type=ActionResource.FIREWALL, resource_id=firewall.public_id).order_by(
        "-created_at", "-id"
    )


def server_firewalls(*, instance: Instance) -> QuerySet[FirewallServer]:
    """The firewalls of a server the actor can already see, with their application status."""
    return (
        FirewallServer.objects.filter(instance=instance, firewall__status__in=VISIBLE)
        .select_related("firewall")
        .order_by("firewall__name")
    )


def firewall_is_applied(firewall: Firewall) -> bool:
    """Applied everywhere: its rules' last generation is written and every server has it (nothing pending)."""
    not_applied = getattr(firewall, "servers_not_applied", None)
    if not_applied is None:
        not_applied = FirewallServer.objects.filter(firewall=firewall).exclude(status=MemberStatus.APPLIED).count()
    return (
        firewall.status == FirewallStatus.ACTIVE
        and not not_applied
        and (firewall.applied_generation >= firewall.generation or not getattr(firewall, "servers_total", 1))
    )


def firewalls_by_server() -> QuerySet[FirewallServer]:
    """The firewalls applied (or applying) to servers, as ``apps.instances.selectors.server_extras`` rows; the
    registry narrows them to a page of servers."""
    return FirewallServer.objects.exclude(status=MemberStatus.REMOVING).annotate(
        extra_server=F("instance_id"), extra_a=as_text("firewall__public_id"), extra_b=Value("")
    )
