"""Writes of floating IPs: create (reserve an address), assign, move, unassign, release, update.

Every write authorises (``resources.write``) and validates, then takes the
floating IP's row lock and checks that it is settled (no action open on it):
two assigns of one floating IP give exactly one winner and the loser a 409
``floating_ip_busy`` (docs/dev/style.md#celery-tasks). The Proxmox and routing
work runs in ``services.execution`` from the task enqueued on commit.

Addresses come from the datacentre's IPv4 ``IpPool`` (the pool servers get
theirs from): an ``IpAllocation`` row with no reservation, whose unique
address column means two creates, or a create and a server's placement, never
get the same address.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Datacentre, Offer, ProductFamily
from apps.core.actors import Actor, actor_is_back_office_staff, actor_user
from apps.core.errors import Conflict, Unavailable, ValidationFailed
from apps.core.labels import labels_validate
from apps.core.money import to_cents, to_rate
from apps.core.services import audit_record, task_enqueue
from apps.floating_ips import task_names
from apps.floating_ips.choices import ROUTED_STATUSES, SETTLED_STATUSES, FloatingIpStatus
from apps.floating_ips.models import FloatingIp, FloatingIpQuota
from apps.infrastructure.models import IpAllocation, IpPool
from apps.instances.choices import ActionResource, ActionType, InstanceStatus
from apps.instances.models import Action, Instance
from apps.instances.services import resource_action_busy, resource_action_open
from apps.teams.access import require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project

HOURS_PER_MONTH = Decimal(730)
ASSIGNABLE_SERVER_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.STOPPED)
S = FloatingIpStatus


def floating_ip_authorise(actor: Actor, organisation: Organisation, obj: Any = None) -> None:
    """Resource writes need ``resources.write``; staff in the back office and the platform (None) may act."""
    if actor is None or actor_is_back_office_staff(actor):
        return
    require_permission(actor, organisation, Permission.RESOURCES_WRITE, obj=obj)


def floating_ip_offer() -> Offer:
    """The add-on offer that prices floating IPs (``FLOATING_IPS_OFFER_CODE``); 409 when staff removed it."""
    offer = Offer.objects.filter(code=settings.FLOATING_IPS_OFFER_CODE).first()
    if offer is None:
        raise Unavailable(_("Floating IPs are not on sale at the moment."), code="floating_ip_offer_missing")
    return offer


# The catalogue gives no figure for floating IPs (issue 13): ``make run``'s demo data sells them at this
# placeholder, said so in the offer's description, which staff read and change in the back office.
PLACEHOLDER_MONTHLY = Decimal("3.00")
PLACEHOLDER_DESCRIPTION = (
    "PLACEHOLDER PRICE: the catalogue gives no figure for floating IPs; 3.00 EUR a month is a demo value. "
    "Set the real monthly price here (hourly = monthly / 730); a floating IP keeps the price in force when it "
    "was created. Retired on purpose: floating IPs are created from their own page and API "
    "(/api/v1/floating_ips/), never through an order."
)


def floating_ip_offer_placeholder_ensure() -> Offer:
    """The add-on offer at the placeholder price, created once (demo data and tests; staff create the real one).

    In an "Add-ons" family and retired, so the order wizard never sells it as a product of its own.
    """
    family, _created = ProductFamily.objects.get_or_create(
        slug="add-ons",
        defaults={"name": "Add-ons", "tagline": "Options billed next to a server (floating IPs).", "kind": "service"},
    )
    offer, _created = Offer.objects.get_or_create(
        code=settings.FLOATING_IPS_OFFER_CODE,
        defaults={
            "family": family,
            "name": "Floating IPv4",
            "tier": "starter",
            "status": "retired",
            "description": PLACEHOLDER_DESCRIPTION,
            "billing_unit": "month",
            "price_monthly": PLACEHOLDER_MONTHLY,
            "price_hourly": to_rate(PLACEHOLDER_MONTHLY / HOURS_PER_MONTH),
        },
    )
    return offer


def floating_ip_prices(*, offer: Offer) -> tuple[Decimal, Decimal]:
    """(hourly, monthly) of one floating IP: the add-on's monthly price; hourly = monthly / 730."""
    monthly = offer.price_monthly
    return to_rate(monthly / HOURS_PER_MONTH), to_cents(monthly)


def floating_ip_quota_check(*, organisation: Organisation) -> None:
    """Refuse (409 ``quota_exceeded``) one more floating IP past the organisation's quota.

    Call inside the write's transaction: the organisation row is locked first, so two creates of one
    organisation cannot both pass the last free slot.
    """
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    quota = FloatingIpQuota.objects.filter(organisation=organisation).first()
    limit = (
        quota.max_floating_ips
        if quota and quota.max_floating_ips is not None
        else settings.FLOATING_IPS_DEFAULT_QUOTAS["max_floating_ips"]
    )
    live = FloatingIp.objects.filter(organisation=organisation).exclude(status=S.RELEASED).count()
    if live + 1 > limit:
        raise Conflict(
            _("Your organisation may have %(n)s floating IPs: release one or ask us to raise the quota.")
            % {"n": limit},
            code="quota_exceeded",
        )


def _name_clean(name: str, *, project: Project, exclude: int | None = None) -> str:
    clean = (name or "").strip()
    if not clean or len(clean) > 63:
        raise ValidationFailed(_("Invalid name."), fields={"name": [_("1 to 63 characters.")]})
    taken = FloatingIp.objects.filter(project=project, name=clean).exclude(status=S.RELEASED)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationFailed(
            _("Invalid name."), fields={"name": [_("A floating IP of this project already has this name.")]}
        )
    return clean


def _server_check(server: Instance, *, floating_ip: FloatingIp | None, project: Project, datacentre_id: int) -> None:
    if server.organisation_id != project.organisation_id or server.project_id != project.pk:
        raise ValidationFailed(
            _("Invalid server."), fields={"server_id": [_("The server must be in the floating IP's project.")]}
        )
    if server.datacentre_id != datacentre_id:
        raise ValidationFailed(
            _("Invalid server."), fields={"server_id": [_("The server must be in the floating IP's datacentre.")]}
        )
    if server.status not in ASSIGNABLE_SERVER_STATUSES or server.vmid is None or not server.ipv4:
        raise Conflict(_("Only a running or stopped server takes a floating IP."), code="server_not_ready")


def _host_addresses(pool: IpPool) -> tuple[int, int, int]:
    """(base, first offset, last offset) of the pool's usable host addresses (no network, no broadcast)."""
    network = pool.network
    size = network.num_addresses
    first, last = (0, size - 1) if size <= 2 else (1, size - 2)
    return int(network.network_address), first, last


def _address_claim(*, datacentre: Datacentre, note: str) -> IpAllocation:
    """Take a free IPv4 of the datacentre's active pools, round-robin after each pool's cursor.

    The pool row is locked (placement's cursor bump takes the same lock), and the insert runs in a savepoint:
    the unique ``IpAllocation.address`` is the guard, a conflict moves on to the next address.
    """
    pools = list(IpPool.objects.filter(datacentre=datacentre, family=4, is_active=True).order_by("id"))
    for pool in pools:
        locked = IpPool.objects.select_for_update(no_key=True).get(pk=pool.pk)
        base, first, last = _host_addresses(locked)
        gateway = ipaddress.ip_address(locked.gateway)
        used = set(IpAllocation.objects.filter(pool=locked).values_list("address", flat=True))
        start = locked.cursor + 1 if first <= locked.cursor < last else first
        offsets = [*range(start, last + 1), *range(first, start)]
        for offset in offsets:
            address = ipaddress.ip_address(base + offset)
            if address == gateway or str(address) in used:
                continue
            try:
                with transaction.atomic():
                    allocation = IpAllocation.objects.create(pool=locked, address=str(address), note=note)
            except IntegrityError:
                continue
            IpPool.objects.filter(pk=locked.pk).update(cursor=offset)
            return allocation
    raise Unavailable(_("No free IPv4 address left in %(dc)s.") % {"dc": datacentre.code}, code="no_address_available")


def _open(floating_ip: FloatingIp, *, type: str, actor: Actor, server: Instance | None, **params: Any) -> Action:
    return resource_action_open(
        resource_type=ActionResource.FLOATING_IP,
        resource_id=floating_ip.public_id,
        project=floating_ip.project,
        type=type,
        actor=actor,
        task=task_names.RUN_ACTION,
        params=params,
        instance=server,
    )


def floating_ip_create(
    *,
    actor: Actor,
    organisation: Organisation,
    project: Project,
    name: str,
    datacentre: Datacentre | None = None,
    server: Instance | None = None,
    labels: Mapping[str, str] | None = None,
    delete_protection: bool = False,
) -> tuple[FloatingIp, Action | None]:
    """Reserve a floating IPv4 in ``datacentre`` (or the server's), assigned to ``server`` at once when given.

    Returns the floating IP and, with a server, its ``assign`` action.
    """
    floating_ip_authorise(actor, organisation)
    if project.organisation_id != organisation.pk:
        raise ValidationFailed(_("Invalid project."), fields={"project_id": [_("Not a project of this organisation.")]})
    if datacentre is None and server is None:
        raise ValidationFailed(
            _("Give a datacentre or a server."), fields={"datacentre": [_("Give a datacentre or a server.")]}
        )
    if datacentre is not None and server is not None and server.datacentre_id != datacentre.pk:
        raise ValidationFailed(
            _("Invalid server."), fields={"server_id": [_("The server must be in the floating IP's datacentre.")]}
        )
    dc: Datacentre = datacentre if datacentre is not None else server.datacentre  # type: ignore[union-attr]
    clean_labels = labels_validate(dict(labels or {}))
    offer = floating_ip_offer()
    hourly, monthly = floating_ip_prices(offer=offer)
    public_id = uuid.uuid4()
    with transaction.atomic():
        floating_ip_quota_check(organisation=organisation)
        clean_name = _name_clean(name, project=project)
        if server is not None:
            server = Instance.objects.select_for_update(no_key=True).get(pk=server.pk)
            _server_check(server, floating_ip=None, project=project, datacentre_id=dc.pk)
        allocation = _address_claim(datacentre=dc, note=f"floating IP {public_id}")
        floating_ip = FloatingIp.objects.create(
            public_id=public_id,
            organisation=organisation,
            project=project,
            name=clean_name,
            labels=clean_labels,
            datacentre=dc,
            family=4,
            address=allocation.address,
            pool_id=allocation.pool_id,
            allocation=allocation,
            server=server,
            status=S.ASSIGNING if server is not None else S.AVAILABLE,
            delete_protection=delete_protection,
            offer=offer,
            price_hourly=hourly,
            price_monthly=monthly,
            created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        )
        audit_record(
            actor=actor,
            action="floating_ips.floating_ip.create",
            target=floating_ip,
            organisation_id=organisation.pk,
            changes={"address": floating_ip.address, "datacentre": dc.code},
        )
        action = None
        if server is not None:
            action = _open(floating_ip, type=ActionType.ASSIGN, actor=actor, server=server, server_id=server.pk)
    return floating_ip, action


def _lock_settled(floating_ip: FloatingIp) -> FloatingIp:
    """The floating IP's row, locked; 409 ``floating_ip_busy`` unless it is settled and no action is open on it."""
    locked = FloatingIp.objects.select_for_update(no_key=True).select_related("project").get(pk=floating_ip.pk)
    if locked.status == S.RELEASED:
        raise Conflict(_("This floating IP was released."), code="floating_ip_released")
    if locked.status not in SETTLED_STATUSES or resource_action_busy(
        resource_type=ActionResource.FLOATING_IP, resource_id=locked.public_id
    ):
        raise Conflict(_("This floating IP is busy: wait for its current action to finish."), code="floating_ip_busy")
    return locked


def floating_ip_assign(*, actor: Actor, floating_ip: FloatingIp, server: Instance) -> Action:
    """Assign (or move) the floating IP to a running or stopped server of its project and datacentre."""
    floating_ip_authorise(actor, floating_ip.organisation, floating_ip)
    with transaction.atomic():
        locked = _lock_settled(floating_ip)
        server = Instance.objects.select_for_update(no_key=True).get(pk=server.pk)
        _server_check(server, floating_ip=locked, project=locked.project, datacentre_id=locked.datacentre_id)
        if locked.server_id == server.pk and locked.status == S.ASSIGNED:
            raise Conflict(_("This floating IP is already assigned to that server."), code="already_assigned")
        previous = locked.server_id
        FloatingIp.objects.filter(pk=locked.pk).update(
            status=S.ASSIGNING, server=server, error_message="", updated_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="floating_ips.floating_ip.assign",
            target=locked,
            changes={"server": str(server.public_id), "previous_server_id": previous},
        )
        return _open(
            locked,
            type=ActionType.ASSIGN,
            actor=actor,
            server=server,
            server_id=server.pk,
            previous_server_id=previous if previous != server.pk else None,
        )


def floating_ip_unassign(*, actor: Actor, floating_ip: FloatingIp) -> Action:
    """Stop routing the floating IP to its server and remove it from the server's allowed addresses."""
    floating_ip_authorise(actor, floating_ip.organisation, floating_ip)
    with transaction.atomic():
        locked = _lock_settled(floating_ip)
        if locked.server_id is None and locked.status != S.ERROR:
            # An errored floating IP may still be routed (a failed unassign): unassigning it again withdraws it.
            raise Conflict(_("This floating IP is not assigned."), code="not_assigned")
        previous = locked.server
        FloatingIp.objects.filter(pk=locked.pk).update(
            status=S.UNASSIGNING, server=None, error_message="", updated_at=timezone.now()
        )
        audit_record(actor=actor, action="floating_ips.floating_ip.unassign", target=locked)
        return _open(
            locked, type=ActionType.UNASSIGN, actor=actor, server=previous, previous_server_id=locked.server_id
        )


def floating_ip_delete(*, actor: Actor, floating_ip: FloatingIp) -> Action:
    """Release the floating IP: unassigned if needed, its address back to the pool (refused while protected)."""
    floating_ip_authorise(actor, floating_ip.organisation, floating_ip)
    with transaction.atomic():
        locked = _lock_settled(floating_ip)
        if locked.delete_protection:
            raise Conflict(_("Turn delete protection off first."), code="delete_protected")
        previous = locked.server
        FloatingIp.objects.filter(pk=locked.pk).update(status=S.RELEASING, server=None, updated_at=timezone.now())
        audit_record(actor=actor, action="floating_ips.floating_ip.delete", target=locked)
        return _open(locked, type=ActionType.DELETE, actor=actor, server=previous, previous_server_id=locked.server_id)


def floating_ip_update(
    *,
    actor: Actor,
    floating_ip: FloatingIp,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    delete_protection: bool | None = None,
) -> FloatingIp:
    """Rename, relabel or toggle delete protection (no Proxmox call)."""
    floating_ip_authorise(actor, floating_ip.organisation, floating_ip)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = FloatingIp.objects.select_for_update(no_key=True).get(pk=floating_ip.pk)
        if locked.status == S.RELEASED:
            raise Conflict(_("This floating IP was released."), code="floating_ip_released")
        if name is not None:
            clean_name = _name_clean(name, project=locked.project, exclude=locked.pk)
            if clean_name != locked.name:
                changes["name"] = [locked.name, clean_name]
                locked.name = clean_name
        if labels is not None:
            clean = labels_validate(dict(labels))
            if clean != locked.labels:
                changes["labels"] = [locked.labels, clean]
                locked.labels = clean
        if delete_protection is not None and delete_protection != locked.delete_protection:
            changes["delete_protection"] = [locked.delete_protection, delete_protection]
            locked.delete_protection = delete_protection
        if changes:
            locked.save(update_fields=["name", "labels", "delete_protection", "updated_at"])
            audit_record(actor=actor, action="floating_ips.floating_ip.update", target=locked, changes=changes)
    return locked


def floating_ips_server_status_changed(
    sender: Any, *, instance_id: int, before: str, after: str, **kwargs: Any
) -> None:
    """Receiver of ``instances.signals.instance_status_changed``: a deleted server's floating IPs are unassigned.

    They stay reserved (the customer's addresses), shown unassigned, each with an ``unassign`` action that
    withdraws its route. A floating IP busy with an action loses its server here; its running task notices.

    A rebuilt server (out of ``rebuilding``) has a new VM whose anti-spoofing IP set no longer holds its
    floating IPs (cloud-init does, from the guest address provider): a task puts the set back.
    """
    if before == InstanceStatus.REBUILDING and after != InstanceStatus.DELETED:
        if FloatingIp.objects.filter(server_id=instance_id, status__in=ROUTED_STATUSES).exists():
            task_enqueue(task_names.SERVER_IPSET_SYNC, instance_id)
        return
    if after != InstanceStatus.DELETED:
        return
    with transaction.atomic():
        rows = list(
            FloatingIp.objects.select_for_update(no_key=True).filter(server_id=instance_id).exclude(status=S.RELEASED)
        )
        for floating_ip in rows:
            settled = floating_ip.status in SETTLED_STATUSES and not resource_action_busy(
                resource_type=ActionResource.FLOATING_IP, resource_id=floating_ip.public_id
            )
            FloatingIp.objects.filter(pk=floating_ip.pk).update(
                server=None, status=S.UNASSIGNING if settled else floating_ip.status, updated_at=timezone.now()
            )
            audit_record(
                actor=None,
                action="floating_ips.floating_ip.unassign",
                target=floating_ip,
                organisation_id=floating_ip.organisation_id,
                changes={"reason": "server deleted"},
            )
            if settled:
                _open(
                    floating_ip,
                    type=ActionType.UNASSIGN,
                    actor=None,
                    server=floating_ip.server,
                    previous_server_id=instance_id,
                )
