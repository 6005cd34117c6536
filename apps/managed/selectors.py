"""Reads of managed services, scoped to the actor (docs/dev/style.md#selectors): another organisation's is a 404.

Also what billing meters (``services_billable``, the shape of
``apps.instances.selectors.price_periods_billable``) and what the back office's
fulfilment queue lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.managed.backends import is_staff_fulfilled
from apps.managed.choices import ENDED_STATES, ServiceFamily, ServiceState
from apps.managed.models import ManagedService, ServicePricePeriod, ServiceTransition, ServiceUsage
from apps.teams.access import object_get_for_actor, restrict_to_actor
from apps.teams.choices import Permission

RELATED = ("offer", "offer__family", "datacentre", "project", "organisation")


def service_list(
    *, actor: Actor, where: Q | None = None, order_by: Sequence[Any] | None = None, include_ended: bool = True
) -> QuerySet[ManagedService]:
    """Every managed service the actor can read, newest first (ended ones too: their page stays readable)."""
    qs = restrict_to_actor(ManagedService.objects.all(), actor=actor).select_related(*RELATED)
    if not include_ended:
        qs = qs.exclude(state__in=ENDED_STATES)
    if where is not None:
        qs = qs.filter(where)
    return qs.order_by(*order_by) if order_by else qs.order_by("-created_at", "-id")


def service_get(*, actor: Actor, public_id: Any, permission: Permission = Permission.RESOURCES_READ) -> ManagedService:
    """One service by public id: 404 unless visible, 403 if visible without ``permission``."""
    qs = ManagedService.objects.select_related(*RELATED)
    try:
        pk = qs.filter(public_id=public_id).values_list("pk", flat=True).first()
    except (ValueError, DjangoValidationError) as exc:
        raise NotFound(_("Service not found.")) from exc
    if pk is None:
        raise NotFound(_("Service not found."))
    return object_get_for_actor(qs, actor=actor, pk=pk, permission=permission)


def service_transition_list(*, service: ManagedService) -> QuerySet[ServiceTransition]:
    """The service's state changes, oldest first (its audit trail page)."""
    return service.transitions.select_related("actor").order_by("created_at", "id")


def service_usage_list(*, service: ManagedService) -> QuerySet[ServiceUsage]:
    return service.usage.order_by("-recorded_at", "-id")


def service_credential_names(*, service: ManagedService) -> list[dict[str, Any]]:
    """The credentials delivered (names and whether they were revealed), never their values."""
    from apps.managed.choices import SecretKind

    return [
        {"name": name, "revealed_at": revealed_at}
        for name, revealed_at in service.secrets.filter(kind=SecretKind.CREDENTIAL)
        .order_by("name")
        .values_list("name", "revealed_at")
    ]


def fulfilment_queue() -> QuerySet[ManagedService]:
    """Services staff must deliver by hand: provisioning or changing, of a staff-fulfilled family, oldest first."""
    families = [f.value for f in ServiceFamily if is_staff_fulfilled(f.value)]
    return (
        ManagedService.objects.filter(state__in=(ServiceState.PROVISIONING, ServiceState.CHANGING), family__in=families)
        .select_related(*RELATED)
        .order_by("created_at", "id")
    )


def _overlapping_periods(*, start: datetime, end: datetime) -> QuerySet[ServicePricePeriod]:
    """Price periods of positive length that overlap [start, end)."""
    return ServicePricePeriod.objects.filter(started_at__lt=end).filter(
        Q(ended_at__isnull=True) | (Q(ended_at__gt=start) & Q(ended_at__gt=F("started_at")))
    )


def services_billable(*, start: datetime, end: datetime) -> QuerySet[ServicePricePeriod]:
    """The one price period each service is billed at for the hour [start, end) (servers' rule).

    Billed per started hour from activation until the service ends; a tier change inside the hour leaves
    two periods overlapping it, and the later one (greatest ``started_at``, then id) wins, so the hour is
    billed once, at the new tier's price (apps/docs/content/pricing-rules.md).
    """
    later = _overlapping_periods(start=start, end=end).filter(
        Q(started_at__gt=OuterRef("started_at")) | Q(started_at=OuterRef("started_at"), id__gt=OuterRef("id")),
        service_id=OuterRef("service_id"),
    )
    return _overlapping_periods(start=start, end=end).filter(~Exists(later))


def services_billable_since(*, floor: datetime) -> datetime | None:
    """When the earliest price period still billable after ``floor`` started."""
    return ServicePricePeriod.objects.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=floor)).aggregate(
        m=Min("started_at")
    )["m"]


def services_live_billed(*, organisation_id: int, project_id: int | None = None) -> QuerySet[ServicePricePeriod]:
    """The open price periods of an organisation's services (the costs forecast), with their service."""
    qs = ServicePricePeriod.objects.filter(ended_at__isnull=True, service__organisation_id=organisation_id)
    if project_id is not None:
        qs = qs.filter(service__project_id=project_id)
    return qs.select_related("service", "offer").order_by("service__created_at", "service_id")


def services_to_terminate_for(*, organisation_id: int) -> QuerySet[ManagedService]:
    """The organisation's services that have not ended (dunning's termination)."""
    return ManagedService.objects.filter(organisation_id=organisation_id).exclude(state__in=ENDED_STATES)


def services_to_suspend_for(*, organisation_id: int) -> QuerySet[ManagedService]:
    """The organisation's services that serve now (dunning's suspension)."""
    return ManagedService.objects.filter(
        organisation_id=organisation_id, state__in=(ServiceState.ACTIVE, ServiceState.CHANGING)
    )


def services_suspended_by_platform_since(*, organisation_id: int, since: datetime) -> QuerySet[ManagedService]:
    """Services the platform (no actor: dunning) suspended since ``since`` and nobody touched since.

    Their latest transition is to ``suspended``, by no user, at or after ``since``; a service staff suspended
    (an actor) is never among them, so lifting a dunning suspension never resumes it.
    """
    latest = ServiceTransition.objects.filter(service_id=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        ManagedService.objects.filter(organisation_id=organisation_id, state=ServiceState.SUSPENDED)
        .annotate(
            last_to=Subquery(latest.values("to_state")[:1]),
            last_actor=Subquery(latest.values("actor_id")[:1]),
            last_at=Subquery(latest.values("created_at")[:1]),
        )
        .filter(last_to=ServiceState.SUSPENDED, last_actor__isnull=True, last_at__gte=since)
    )
