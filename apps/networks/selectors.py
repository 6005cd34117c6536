"""Reads of networks, scoped to the actor (docs/dev/style.md#selectors): another organisation's network is a 404."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.core.sql import address_text, as_text
from apps.instances.choices import ActionResource
from apps.instances.models import Action, Instance
from apps.networks.choices import LIVE_ATTACHMENT_STATUSES, AttachmentStatus, NetworkStatus
from apps.networks.models import Attachment, Network, Subnet
from apps.teams.access import object_get_for_actor, restrict_to_actor
from apps.teams.choices import Permission

RELATED = ("datacentre", "project", "organisation")


def _live_attachments() -> Prefetch:  # type: ignore[type-arg]
    return Prefetch(
        "attachments",
        queryset=Attachment.objects.filter(status__in=LIVE_ATTACHMENT_STATUSES)
        .select_related("instance", "subnet")
        .order_by("nic_index", "id"),
        to_attr="live_attachments",
    )


def network_list(*, actor: Actor, where: Q | None = None, order_by: Sequence[Any] | None = None) -> QuerySet[Network]:
    """Every network the actor can read, newest first, with subnets and live attachments; deleted ones left out."""
    qs = (
        restrict_to_actor(Network.objects.exclude(status=NetworkStatus.DELETED), actor=actor)
        .select_related(*RELATED)
        .prefetch_related(Prefetch("subnets", queryset=Subnet.objects.order_by("id")), _live_attachments())
    )
    if where is not None:
        qs = qs.filter(where)
    return qs.order_by(*order_by) if order_by else qs.order_by("-created_at", "-id")


def network_get(*, actor: Actor, public_id: Any, permission: Permission = Permission.RESOURCES_READ) -> Network:
    """One network by public id: 404 unless visible, 403 if visible without ``permission``."""
    qs = (
        Network.objects.exclude(status=NetworkStatus.DELETED)
        .select_related(*RELATED)
        .prefetch_related(Prefetch("subnets", queryset=Subnet.objects.order_by("id")), _live_attachments())
    )
    try:
        pk = qs.filter(public_id=public_id).values_list("pk", flat=True).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Network not found.")) from exc
    if pk is None:
        raise NotFound(_("Network not found."))
    return object_get_for_actor(qs, actor=actor, pk=pk, permission=permission)


def network_action_list(*, network: Network) -> QuerySet[Action]:
    """Actions of a network the actor can already see, newest first."""
    return Action.objects.filter(resource_type=ActionResource.NETWORK, resource_id=network.public_id).order_by(
        "-created_at", "-id"
    )


def network_history(*, network: Network, limit: int = 20) -> list[Attachment]:
    """The network's detached cards, newest first (a deleted server's are among them)."""
    return list(
        network.attachments.filter(status=AttachmentStatus.DETACHED)
        .select_related("subnet")
        .order_by("-detached_at")[:limit]
    )


def server_attachments(*, instance: Instance) -> list[Attachment]:
    """A server's live cards with their networks (the server is already visible to the actor)."""
    return list(
        Attachment.objects.filter(instance=instance, status__in=LIVE_ATTACHMENT_STATUSES)
        .select_related("network", "subnet")
        .order_by("nic_index")
    )


def attachable_networks(*, actor: Actor, instance: Instance) -> QuerySet[Network]:
    """Available networks the server may join: same project and datacentre, not joined yet."""
    joined = Attachment.objects.filter(instance=instance, status__in=LIVE_ATTACHMENT_STATUSES).values("network_id")
    return (
        network_list(actor=actor)
        .filter(project_id=instance.project_id, datacentre_id=instance.datacentre_id, status=NetworkStatus.AVAILABLE)
        .exclude(pk__in=joined)
    )


def network_counts(*, network_ids: Sequence[int]) -> dict[int, int]:
    """Live attachments per network."""
    rows = (
        Attachment.objects.filter(network_id__in=network_ids, status__in=LIVE_ATTACHMENT_STATUSES)
        .values("network_id")
        .annotate(n=Count("id"))
    )
    return {row["network_id"]: row["n"] for row in rows}


def private_addresses_by_server(*, instance_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """(network name, address) of each server's live cards, in one query: for lists of servers (constant queries
    in the number of rows)."""
    found: dict[int, list[tuple[str, str]]] = {}
    rows = (
        Attachment.objects.filter(instance_id__in=list(instance_ids), status__in=LIVE_ATTACHMENT_STATUSES)
        .order_by("instance_id", "nic_index")
        .values_list("instance_id", "network__name", "address")
    )
    for instance_id, name, address in rows:
        found.setdefault(instance_id, []).append((name, address))
    return found


def private_networks_by_server() -> QuerySet[Attachment]:
    """Servers' live cards, as ``apps.instances.selectors.server_extras`` rows (network id, address); the registry
    narrows them to a page of servers."""
    return Attachment.objects.filter(status__in=LIVE_ATTACHMENT_STATUSES).annotate(
        extra_server=F("instance_id"),
        extra_a=as_text("network__public_id"),
        extra_b=address_text("address"),
    )
