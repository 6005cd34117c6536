"""Writes of private networks: create, update, delete, attach, detach, and the deleted-server receiver.

Every write authorises (``resources.write``), validates, then works under row
locks in a fixed order (organisation → network → server) so two requests give
exactly one outcome. The database has the last word: a VNet tag, a subnet
address or a server's NIC slot is unique among live rows, and a losing insert
(``IntegrityError`` in a savepoint) retries with the next free value or ends in
a 409. Proxmox work runs in ``services.execution`` from the task enqueued on
commit, as an ``apps.instances`` Action on the network (docs/dev/style.md#celery-tasks).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalogue.models import Datacentre
from apps.core.actors import Actor, actor_is_back_office_staff, actor_user
from apps.core.errors import Conflict, NotFound, Unavailable, ValidationFailed
from apps.core.labels import labels_validate
from apps.core.services import audit_record
from apps.infrastructure.models import IpPool
from apps.instances.choices import ActionResource, ActionType, InstanceStatus
from apps.instances.models import Action, Instance
from apps.instances.services import resource_action_busy, resource_action_open
from apps.networks import rules, task_names
from apps.networks.choices import LIVE_ATTACHMENT_STATUSES, AttachmentStatus, NetworkStatus
from apps.networks.models import Attachment, Network, NetworkQuota, NetworkZone, Subnet
from apps.teams.access import require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project

ATTACHABLE_SERVER_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.STOPPED)
TAG_TRIES = 8
ADDRESS_TRIES = 8


def _range_message(error: str) -> str:
    return {
        "malformed": _("Give an IPv4 network such as 10.0.0.0/16, with the host bits clear."),
        "not_private": _("Use a private (RFC 1918) range: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16."),
        "prefix": _("A network range is between /%(min)s and /%(max)s."),
        "platform": _("This range overlaps %(other)s, which the platform uses itself. Choose another."),
    }[error]


def _subnet_message(error: str) -> str:
    return {
        "malformed": _("Give an IPv4 network such as 10.0.1.0/24, with the host bits clear."),
        "outside": _("A subnet must lie inside the network's range %(range)s."),
        "prefix": _("A subnet is between /%(min)s and /%(max)s."),
        "overlap": _("This subnet overlaps %(other)s."),
    }[error]


def network_authorise(actor: Actor, organisation: Organisation, obj: Any = None) -> None:
    """Writes need ``resources.write``; staff in the back office and the platform (None) may act."""
    if actor is None or actor_is_back_office_staff(actor):
        return
    require_permission(actor, organisation, Permission.RESOURCES_WRITE, obj=obj)


def _open(network: Network, *, type: str, actor: Actor, params: Mapping[str, Any], instance: Instance | None = None):
    return resource_action_open(
        resource_type=ActionResource.NETWORK,
        resource_id=network.public_id,
        project=network.project,
        type=type,
        actor=actor,
        task=task_names.RUN_ACTION,
        params=params,
        instance=instance,
    )


# --------------------------------------------------------------------------- validation


def _platform_ranges(datacentre: Datacentre) -> list[str]:
    pools = IpPool.objects.filter(datacentre=datacentre, family=4).values_list("cidr", flat=True)
    return [*settings.NETWORKS_PLATFORM_RANGES, *pools]


def range_clean(ip_range: str, *, datacentre: Datacentre) -> ipaddress.IPv4Network:
    """The network's range, or a 400 naming ``ip_range`` (malformed, not RFC 1918, size, platform overlap)."""
    platform = _platform_ranges(datacentre)
    error = rules.range_error(ip_range, platform_ranges=platform)
    if error is None:
        network = rules.network_parse(ip_range)
        assert network is not None  # noqa: S101 - range_error checked it
        return network
    values: dict[str, Any] = {"min": rules.RANGE_MIN_PREFIX, "max": rules.RANGE_MAX_PREFIX}
    if error == "platform":
        parsed = rules.network_parse(ip_range)
        values["other"] = next(
            (p for p in platform if parsed and rules.overlapping(parsed, [p])),
            "",
        )
    raise ValidationFailed(_("Invalid IP range."), fields={"ip_range": [_range_message(error) % values]})


def subnets_clean(
    subnets: Sequence[str], *, ip_range: ipaddress.IPv4Network, existing: Sequence[str] = ()
) -> list[str]:
    """The subnets in canonical form, or a 400 naming ``subnets`` (outside the range, size, overlap, too many)."""
    if len(subnets) + len(existing) > settings.NETWORKS_MAX_SUBNETS:
        raise ValidationFailed(
            _("Too many subnets."),
            fields={"subnets": [_("A network has at most %(n)s subnets.") % {"n": settings.NETWORKS_MAX_SUBNETS}]},
        )
    clean: list[str] = []
    for text in subnets:
        error = rules.subnet_error(text, ip_range=ip_range, others=[*existing, *clean])
        if error is not None:
            parsed = rules.network_parse(text)
            other = next((o for o in [*existing, *clean] if parsed and rules.overlapping(parsed, [o])), "")
            values = {
                "range": str(ip_range),
                "min": rules.SUBNET_MIN_PREFIX,
                "max": rules.SUBNET_MAX_PREFIX,
                "other": other,
            }
            message = f"{text}: {_subnet_message(error) % values}"
            raise ValidationFailed(_("Invalid subnet."), fields={"subnets": [message]})
        clean.append(str(rules.network_parse(text)))
    return clean


def _name_clean(name: str, *, project: Project, exclude: int | None = None) -> str:
    clean = (name or "").strip()
    if not clean or len(clean) > 63:
        raise ValidationFailed(_("Invalid name."), fields={"name": [_("1 to 63 characters.")]})
    taken = Network.objects.filter(project=project, name=clean).exclude(status=NetworkStatus.DELETED)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationFailed(
            _("Invalid name."), fields={"name": [_("A network of this project already has this name.")]}
        )
    return clean


def network_quota_check(*, organisation: Organisation) -> None:
    """Refuse (409 ``quota_exceeded``) a network past the organisation's quota; locks the organisation row."""
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    quota = NetworkQuota.objects.filter(organisation=organisation).first()
    limit = (
        quota.max_networks
        if quota and quota.max_networks is not None
        else settings.NETWORKS_DEFAULT_QUOTAS["max_networks"]
    )
    live = Network.objects.filter(organisation=organisation).exclude(status=NetworkStatus.DELETED).count()
    if live + 1 > limit:
        raise Conflict(
            _("Your organisation may have %(n)s private networks: delete one or ask us to raise the quota.")
            % {"n": limit},
            code="quota_exceeded",
        )


def _zone_for(datacentre: Datacentre) -> NetworkZone:
    zone = (
        NetworkZone.objects.select_related("cluster")
        .filter(cluster__datacentre=datacentre, enabled=True)
        .order_by("cluster_id")
        .first()
    )
    if zone is None:
        raise Unavailable(
            _("Private networks are not offered in %(dc)s yet.") % {"dc": datacentre.code}, code="networks_unavailable"
        )
    return zone


def _free_tag(zone: NetworkZone) -> int:
    """A tag of the zone's range no live network of the cluster holds: random, so racing creates rarely collide."""
    used = set(
        Network.objects.filter(cluster_id=zone.cluster_id)
        .exclude(status=NetworkStatus.DELETED)
        .values_list("tag", flat=True)
    )
    low, high = rules.tag_bounds(zone.zone_type)
    low, high = max(low, zone.tag_min), min(high, zone.tag_max)
    if len(used) >= high - low + 1:
        raise Unavailable(_("No private network can be created here now."), code="networks_exhausted")
    for _try in range(64):
        tag = random.randint(low, high)  # noqa: S311 - spreading, not security
        if tag not in used:
            return tag
    return next(t for t in range(low, high + 1) if t not in used)


def network_zone_ensure(*, cluster: Any, name: str, zone_type: str, options: Mapping[str, Any]) -> NetworkZone:
    """The SDN zone of ``cluster``, created with these values unless it has one (idempotent; staff edit it).

    For demo data and scripted set-ups; staff use the back office. The zone is written on Proxmox with the
    cluster's first network (docs/dev/proxmox-behaviour.md#sdn-zones).
    """
    with transaction.atomic():
        zone, created = NetworkZone.objects.get_or_create(
            cluster=cluster, defaults={"name": name, "zone_type": zone_type, "options": dict(options)}
        )
        if created:
            audit_record(
                actor=None,
                action="networks.zone.create",
                target=zone,
                changes={"name": name, "type": zone_type, "options": dict(options)},
            )
    return zone


# --------------------------------------------------------------------------- networks


def network_create(
    *,
    actor: Actor,
    organisation: Organisation,
    project: Project,
    name: str,
    datacentre: Datacentre,
    ip_range: str,
    subnets: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[Network, Action]:
    """Create a network (its VNet and subnets are written and applied by the ``create`` action)."""
    network_authorise(actor, organisation)
    if project.organisation_id != organisation.pk:
        raise ValidationFailed(_("Invalid project."), fields={"project_id": [_("Not a project of this organisation.")]})
    block = range_clean(ip_range, datacentre=datacentre)
    clean_subnets = subnets_clean(list(subnets) or [str(rules.default_subnet(block))], ip_range=block)
    clean_labels = labels_validate(dict(labels or {}))
    zone = _zone_for(datacentre)
    with transaction.atomic():
        network_quota_check(organisation=organisation)
        clean_name = _name_clean(name, project=project)
        network = None
        for _try in range(TAG_TRIES):
            tag = _free_tag(zone)
            try:
                with transaction.atomic():  # a savepoint: a lost race on the tag retries
                    network = Network.objects.create(
                        organisation=organisation,
                        project=project,
                        name=clean_name,
                        labels=clean_labels,
                        datacentre=datacentre,
                        ip_range=str(block),
                        cluster_id=zone.cluster_id,
                        zone=zone,
                        tag=tag,
                        vnet=rules.vnet_id(tag),
                        created_by=actor_user(actor),  # type: ignore[misc]
                    )
                break
            except IntegrityError as exc:
                if "uniq_network_name" in str(exc):
                    raise ValidationFailed(
                        _("Invalid name."), fields={"name": [_("A network of this project already has this name.")]}
                    ) from exc
                continue
        if network is None:
            raise Conflict(_("Too many networks are being created at once: try again."), code="network_busy")
        Subnet.objects.bulk_create([Subnet(network=network, cidr=cidr) for cidr in clean_subnets])
        audit_record(
            actor=actor,
            action="networks.network.create",
            target=network,
            organisation_id=organisation.pk,
            changes={"ip_range": str(block), "subnets": clean_subnets, "vnet": network.vnet},
        )
        action = _open(network, type=ActionType.CREATE, actor=actor, params={})
    return network, action


def network_update(
    *, actor: Actor, network: Network, name: str | None = None, labels: Mapping[str, str] | None = None
) -> Network:
    """Rename or relabel a network (no Proxmox work)."""
    network_authorise(actor, network.organisation, network)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = Network.objects.select_for_update(no_key=True).get(pk=network.pk)
        if name is not None:
            locked.name = _name_clean(name, project=locked.project, exclude=locked.pk)
            changes["name"] = locked.name
        if labels is not None:
            locked.labels = labels_validate(dict(labels))
            changes["labels"] = locked.labels
        if changes:
            locked.save(update_fields=[*changes, "updated_at"])
            audit_record(actor=actor, action="networks.network.update", target=locked, changes=changes)
    return locked


def subnet_add(*, actor: Actor, network: Network, cidr: str) -> tuple[Subnet, Action]:
    """Add a subnet to an available network; the ``apply`` action writes it on Proxmox."""
    network_authorise(actor, network.organisation, network)
    with transaction.atomic():
        locked = Network.objects.select_for_update(no_key=True).get(pk=network.pk)
        if locked.status != NetworkStatus.AVAILABLE or resource_action_busy(
            resource_type=ActionResource.NETWORK, resource_id=locked.public_id
        ):
            raise Conflict(_("This network is busy: try again when its last operation ended."), code="network_busy")
        existing = list(locked.subnets.values_list("cidr", flat=True))
        (clean,) = subnets_clean([cidr], ip_range=locked.network, existing=existing)
        subnet = Subnet.objects.create(network=locked, cidr=clean)
        audit_record(actor=actor, action="networks.subnet.create", target=locked, changes={"subnet": clean})
        action = _open(locked, type=ActionType.APPLY, actor=actor, params={"subnet_id": subnet.pk})
    return subnet, action


def subnet_delete(*, actor: Actor, network: Network, subnet: Subnet) -> Action:
    """Delete a subnet no server uses; the ``apply`` action removes it from the VNet on Proxmox.

    409 ``subnet_in_use`` while a card has (or is getting) an address in it, ``network_busy`` during another
    operation. Under the network's row lock, like ``network_attach``: an attach racing the delete either
    takes its address first (the delete is refused) or finds the subnet gone.
    """
    network_authorise(actor, network.organisation, network)
    with transaction.atomic():
        locked = Network.objects.select_for_update(no_key=True).get(pk=network.pk)
        if locked.status != NetworkStatus.AVAILABLE or resource_action_busy(
            resource_type=ActionResource.NETWORK, resource_id=locked.public_id
        ):
            raise Conflict(_("This network is busy: try again when its last operation ended."), code="network_busy")
        row = Subnet.objects.filter(pk=subnet.pk, network=locked).first()
        if row is None:
            raise NotFound(_("No such subnet."))
        in_use = Attachment.objects.filter(subnet=row, status__in=LIVE_ATTACHMENT_STATUSES).count()
        if in_use:
            raise Conflict(
                _("%(n)s server(s) have an address in this subnet: detach them first.") % {"n": in_use},
                code="subnet_in_use",
            )
        cidr = row.cidr
        row.delete()  # its detached cards keep their history (subnet set to null)
        audit_record(actor=actor, action="networks.subnet.delete", target=locked, changes={"subnet": cidr})
        return _open(locked, type=ActionType.APPLY, actor=actor, params={"removed_subnet": cidr})


def network_delete(*, actor: Actor, network: Network) -> Action:
    """Delete an empty network: 409 ``network_not_empty`` while a server is on it, ``network_busy`` mid-operation."""
    network_authorise(actor, network.organisation, network)
    with transaction.atomic():
        locked = Network.objects.select_for_update(no_key=True).get(pk=network.pk)
        if locked.status not in (NetworkStatus.AVAILABLE, NetworkStatus.ERROR) or resource_action_busy(
            resource_type=ActionResource.NETWORK, resource_id=locked.public_id
        ):
            raise Conflict(_("This network is busy: try again when its last operation ended."), code="network_busy")
        if locked.attachments.filter(status__in=LIVE_ATTACHMENT_STATUSES).exists():
            raise Conflict(_("Detach every server from this network first."), code="network_not_empty")
        Network.objects.filter(pk=locked.pk).update(status=NetworkStatus.DELETING, updated_at=timezone.now())
        audit_record(actor=actor, action="networks.network.delete", target=locked)
        return _open(locked, type=ActionType.DELETE, actor=actor, params={})


# --------------------------------------------------------------------------- attachments


def _server_check(server: Instance, network: Network, *, platform_vm: bool = False) -> None:
    # A platform VM serving the network's organisation (a load balancer's, apps/docs/content/load-balancers.md)
    # lives in the platform's organisation: only its datacentre and cluster are checked.
    if not platform_vm and (
        server.organisation_id != network.organisation_id or server.project_id != network.project_id
    ):
        raise ValidationFailed(
            _("Invalid server."), fields={"server_id": [_("The server must be in the network's project.")]}
        )
    if server.datacentre_id != network.datacentre_id:
        raise ValidationFailed(
            _("Invalid server."), fields={"server_id": [_("The server must be in the network's datacentre.")]}
        )
    if server.status not in ATTACHABLE_SERVER_STATUSES or server.vmid is None:
        raise Conflict(_("Only a running or stopped server joins a network."), code="server_not_ready")
    if server.cluster_id != network.cluster_id:
        raise Conflict(_("This server cannot reach this network."), code="network_unreachable")


def _nic_index(server: Instance) -> int:
    used = set(
        Attachment.objects.filter(instance=server, status__in=LIVE_ATTACHMENT_STATUSES).values_list(
            "nic_index", flat=True
        )
    )
    free = [i for i in range(1, settings.NETWORKS_MAX_ATTACHMENTS_PER_SERVER + 1) if i not in used]
    if not free:
        raise Conflict(
            _("A server joins at most %(n)s private networks.") % {"n": settings.NETWORKS_MAX_ATTACHMENTS_PER_SERVER},
            code="too_many_networks",
        )
    return free[0]


def _taken(subnet: Subnet) -> list[str]:
    return list(
        Attachment.objects.filter(subnet=subnet, status__in=LIVE_ATTACHMENT_STATUSES).values_list("address", flat=True)
    )


def _subnet_for(network: Network, ip: str | None) -> Subnet:
    subnets = list(network.subnets.order_by("id"))
    if ip:
        for subnet in subnets:
            if rules.address_error(ip, subnet=subnet.block) is None:
                return subnet
        reasons = [rules.address_error(ip, subnet=s.block) for s in subnets]
        reason = next((r for r in reasons if r != "outside"), "outside")
        message = {
            "malformed": _("Give an IPv4 address."),
            "reserved": _("The network, first and broadcast addresses of a subnet are reserved."),
        }.get(reason or "", _("This address is in none of the network's subnets."))
        raise ValidationFailed(_("Invalid address."), fields={"ip": [message]})
    for subnet in subnets:
        if rules.first_free(subnet.block, _taken(subnet)) is not None:
            return subnet
    raise Conflict(_("Every address of this network is taken."), code="network_full")


def network_attach(
    *, actor: Actor, network: Network, server: Instance, ip: str | None = None, platform_vm: bool = False
) -> Action:
    """Put ``server`` on ``network`` with ``ip`` (when free) or the next free address; the ``attach`` action adds
    the card and its cloud-init configuration. ``platform_vm``: the platform's own VM serving the network's
    organisation (a load balancer), attached by the platform (``actor`` None) from another organisation."""
    if platform_vm and actor is not None:
        raise ValueError("only the platform attaches its own VMs")
    network_authorise(actor, network.organisation, network)
    with transaction.atomic():
        locked = Network.objects.select_for_update(no_key=True).select_related("project").get(pk=network.pk)
        if locked.status != NetworkStatus.AVAILABLE:
            raise Conflict(_("This network is not available."), code="network_busy")
        server = Instance.objects.select_for_update(no_key=True).get(pk=server.pk)
        _server_check(server, locked, platform_vm=platform_vm)
        if Attachment.objects.filter(network=locked, instance=server, status__in=LIVE_ATTACHMENT_STATUSES).exists():
            raise Conflict(_("This server is already on this network."), code="already_attached")
        joined = Attachment.objects.filter(instance=server, status__in=LIVE_ATTACHMENT_STATUSES).values_list(
            "network__ip_range", flat=True
        )
        clash = rules.overlapping(locked.network, list(joined))
        if clash:
            # Two cards on overlapping ranges would leave the guest's routing ambiguous.
            raise Conflict(
                _("This server is on another network whose range %(other)s overlaps this one.") % {"other": clash},
                code="range_overlap",
            )
        index = _nic_index(server)
        subnet = _subnet_for(locked, ip)
        attachment = None
        for _try in range(ADDRESS_TRIES):
            address = ip or rules.first_free(subnet.block, _taken(subnet))
            if address is None:
                raise Conflict(_("Every address of this network is taken."), code="network_full")
            try:
                with transaction.atomic():  # a savepoint: the unique (subnet, address) index has the last word
                    attachment = Attachment.objects.create(
                        network=locked,
                        subnet=subnet,
                        instance=server,
                        server_name=server.name,
                        address=str(ipaddress.IPv4Address(address)),
                        nic_index=index,
                        needs_reboot=server.status == InstanceStatus.RUNNING,
                    )
                break
            except IntegrityError as exc:
                if ip or "uniq_attachment_address" not in str(exc):
                    code = "address_in_use" if ip else "network_busy"
                    raise Conflict(_("This address is already in use."), code=code) from exc
        if attachment is None:
            raise Conflict(_("Every address of this network is taken."), code="network_full")
        audit_record(
            actor=actor,
            action="networks.network.attach",
            target=locked,
            changes={"server": str(server.public_id), "address": attachment.address, "nic": f"net{index}"},
        )
        return _open(
            locked, type=ActionType.ATTACH, actor=actor, params={"attachment_id": attachment.pk}, instance=server
        )


def network_detach(*, actor: Actor, network: Network, server: Instance) -> Action:
    """Take ``server`` off ``network``: the ``detach`` action removes the card; its address is then free."""
    network_authorise(actor, network.organisation, network)
    with transaction.atomic():
        locked = Network.objects.select_for_update(no_key=True).get(pk=network.pk)
        attachment = (
            Attachment.objects.select_for_update(no_key=True)
            .filter(network=locked, instance=server, status__in=LIVE_ATTACHMENT_STATUSES)
            .first()
        )
        if attachment is None:
            raise Conflict(_("This server is not on this network."), code="not_attached")
        won = Attachment.objects.filter(pk=attachment.pk, status=AttachmentStatus.ATTACHED).update(
            status=AttachmentStatus.DETACHING
        )
        if not won:
            raise Conflict(_("This server's card is being changed: try again shortly."), code="network_busy")
        audit_record(
            actor=actor,
            action="networks.network.detach",
            target=locked,
            changes={"server": str(server.public_id), "address": attachment.address},
        )
        return _open(
            locked, type=ActionType.DETACH, actor=actor, params={"attachment_id": attachment.pk}, instance=server
        )


def networks_server_status_changed(sender: Any, *, instance_id: int, before: str, after: str, **kwargs: Any) -> None:
    """Receiver of ``instances.signals.instance_status_changed``.

    * A deleted server leaves its networks: its attachments end ``detached`` (reason kept, visible in the
      network's history) and their addresses are free; the networks stay.
    * A rebuilt server is a new VM without its private cards: they are added again (``network_cards_restore``).
    * A server that (re)started has booted with its cloud-init drive: its cards no longer need a reboot.
    """
    if after == InstanceStatus.DELETED:
        with transaction.atomic():
            rows = list(
                Attachment.objects.select_for_update(no_key=True)
                .select_related("network")
                .filter(instance_id=instance_id, status__in=LIVE_ATTACHMENT_STATUSES)
            )
            now = timezone.now()
            for row in rows:
                Attachment.objects.filter(pk=row.pk).update(
                    status=AttachmentStatus.DETACHED,
                    detached_at=now,
                    detached_reason="server deleted",
                    needs_reboot=False,
                )
                audit_record(
                    actor=None,
                    action="networks.network.detach",
                    target=row.network,
                    organisation_id=row.network.organisation_id,
                    changes={"server": row.server_name, "address": row.address, "reason": "server deleted"},
                )
        return
    if before == InstanceStatus.REBUILDING and after in ATTACHABLE_SERVER_STATUSES:
        network_cards_restore(instance_id=instance_id)
        return
    if after == InstanceStatus.RUNNING and before != InstanceStatus.RUNNING:
        Attachment.objects.filter(instance_id=instance_id, needs_reboot=True, status=AttachmentStatus.ATTACHED).update(
            needs_reboot=False
        )


def network_cards_restore(*, instance_id: int) -> list[Action]:
    """Add a server's private cards again (same slot, same address) after its VM was recreated by a rebuild.

    One ``attach`` action per card, by the platform; the address stays reserved throughout.
    """
    actions = []
    with transaction.atomic():
        rows = list(
            Attachment.objects.select_for_update(no_key=True)
            .select_related("network__project", "instance")
            .filter(instance_id=instance_id, status=AttachmentStatus.ATTACHED)
        )
        for row in rows:
            audit_record(
                actor=None,
                action="networks.network.attach",
                target=row.network,
                organisation_id=row.network.organisation_id,
                changes={"server": row.server_name, "address": row.address, "reason": "server rebuilt"},
            )
            actions.append(
                _open(
                    row.network,
                    type=ActionType.ATTACH,
                    actor=None,
                    params={"attachment_id": row.pk, "restore": True},
                    instance=row.instance,
                )
            )
    return actions
