"""Reconciliation of private network cards: a VM's card changed outside the platform is flagged, staff repair it.

After each inventory sync that asked a cluster (``infrastructure.signals.cluster_synced``), every card the
platform attached on that cluster is compared with its VM's configuration
(docs/dev/proxmox-behaviour.md#sdn-nic): ``net<N>`` must exist on the network's VNet and ``ipconfig<N>`` must
give the card its address. A difference (the card removed, moved to another bridge, its address changed) sets
``Attachment.drift`` with what differs, shown in the back office like firewalls' drift; the staff action
re-attaches the card (same slot, same address) with an ``attach`` action, which clears the flag.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.services import audit_record
from apps.infrastructure.models import Cluster
from apps.infrastructure.proxmox.driver import ProxmoxDriver
from apps.infrastructure.proxmox.errors import ProxmoxError, ProxmoxNotFound
from apps.instances.choices import ActionResource, ActionType, InstanceStatus
from apps.instances.models import Action
from apps.instances.services import resource_action_busy
from apps.networks.choices import AttachmentStatus
from apps.networks.models import Attachment
from apps.networks.services.networks import _open

logger = logging.getLogger(__name__)


def _options(text: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in str(text).split(",") if "=" in part)


def attachment_card_problems(attachment: Attachment, options: Mapping[str, Any]) -> list[str]:
    """What differs between a live card and the VM's configuration ``options`` (empty: in step)."""
    index = attachment.nic_index
    vnet = attachment.network.vnet
    problems = []
    net = options.get(f"net{index}")
    if net is None:
        problems.append(f"net{index} missing (expected on {vnet})")
    else:
        bridge = _options(str(net)).get("bridge", "")
        if bridge != vnet:
            problems.append(f"net{index} on {bridge or 'no bridge'}, expected {vnet}")
    ipconfig = options.get(f"ipconfig{index}")
    address = _options(str(ipconfig or "")).get("ip", "")
    if address.split("/")[0] != attachment.address:
        problems.append(f"ipconfig{index} gives {address or 'no address'}, expected {attachment.address}")
    return problems


def network_cards_check(*, cluster: Cluster, driver: ProxmoxDriver) -> list[int]:
    """Compare every settled card of ``cluster`` with its VM; flag or clear drift. Returns the drifted ids.

    Cards with an action under way (attaching, detaching, a restore after a rebuild) are left for the next
    round; a VM that cannot be read is logged and left as it was.
    """
    rows = list(
        Attachment.objects.select_related("network", "instance")
        .filter(status=AttachmentStatus.ATTACHED, instance__cluster=cluster, instance__vmid__isnull=False)
        .exclude(instance__status=InstanceStatus.DELETED)
        .order_by("instance_id", "nic_index")
    )
    drifted: list[int] = []
    configs: dict[int, Mapping[str, Any] | None] = {}
    for row in rows:
        server = row.instance
        assert server is not None and server.vmid is not None  # noqa: S101 - filtered above
        if resource_action_busy(resource_type=ActionResource.NETWORK, resource_id=row.network.public_id):
            continue
        if server.pk not in configs:
            try:
                configs[server.pk] = dict(driver.config(server.node_name, server.vmid).options)
            except ProxmoxNotFound:
                configs[server.pk] = {}  # the VM is gone: every card of it is missing
            except ProxmoxError as exc:
                logger.warning("network card check of server %s failed: %s", server.pk, exc)
                configs[server.pk] = None
        options = configs[server.pk]
        if options is None:
            continue
        problems = attachment_card_problems(row, options)
        Attachment.objects.filter(pk=row.pk, status=AttachmentStatus.ATTACHED).update(
            drift=bool(problems), drift_detail="; ".join(problems)[:300], checked_at=timezone.now()
        )
        if problems:
            drifted.append(row.pk)
    return drifted


def network_cards_repair(*, actor: Actor, attachments: Iterable[Attachment]) -> list[Action]:
    """Staff: write the drifted cards again (same slot and address) with one ``attach`` action each.

    A card whose network is busy is skipped (the next check flags it again if still wrong).
    """
    actions = []
    with transaction.atomic():
        ids = [a.pk for a in attachments]
        rows = list(
            Attachment.objects.select_for_update(no_key=True, of=("self",))
            .select_related("network", "instance")
            .filter(pk__in=ids, status=AttachmentStatus.ATTACHED, drift=True)
        )
        for row in rows:
            if resource_action_busy(resource_type=ActionResource.NETWORK, resource_id=row.network.public_id):
                continue
            audit_record(
                actor=actor,
                action="networks.network.attach",
                target=row.network,
                organisation_id=row.network.organisation_id,
                changes={"server": row.server_name, "address": row.address, "reason": "drift repaired"},
            )
            Attachment.objects.filter(pk=row.pk).update(drift=False, drift_detail="")
            actions.append(
                _open(
                    row.network,
                    type=ActionType.ATTACH,
                    actor=actor,
                    params={"attachment_id": row.pk, "restore": True},
                    instance=row.instance,
                )
            )
    return actions
