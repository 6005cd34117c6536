"""Targets following servers: a server's status or labels change, its load balancers' targets follow.

``lb_on_instance_status`` is called on every instance status change (``apps.instances.signals``,
connected in ``apps.py``): the load balancer's own VM running enqueues its apply; a customer's
server changing status refreshes the targets of its organisation's load balancers.
``lb_on_server_changed`` is called when a server's labels change (``instance_labels_changed``) or
one of its cards joins or leaves a private network (``apps.networks.signals.server_network_changed``),
so targets and their private addresses follow at once (docs/dev/style.md#events). ``lb_sync_all``
is the beat's safety net for a lost message: it finds nothing to do in the normal case.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone

from apps.core.services import audit_record, task_enqueue
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.loadbalancers import selectors, task_names
from apps.loadbalancers.models import LoadBalancer
from apps.loadbalancers.services.apply import APPLY_LEASE, lb_networks_sync
from apps.managed.choices import ENDED_STATES


def lb_targets_refresh(*, lb: LoadBalancer) -> bool:
    """Queue a change when the servers the targets name differ from the applied ones; True when queued."""
    with transaction.atomic():
        locked = (
            LoadBalancer.objects.select_for_update(no_key=True, of=("self",)).select_related("service").get(pk=lb.pk)
        )
        if locked.service.state in ENDED_STATES or locked.applied_generation < locked.config_generation:
            return False  # ended, or an apply is pending (it resolves the targets itself)
        resolved = [t.as_dict() for t in selectors.targets_resolve(locked)]
        if resolved == locked.applied_targets:
            return False
        locked.config_generation = F("config_generation") + 1
        locked.save(update_fields=["config_generation", "updated_at"])
        locked.refresh_from_db(fields=["config_generation"])
        audit_record(
            actor=None,
            action="loadbalancers.targets.follow",
            target=locked.service,
            organisation_id=locked.service.organisation_id,
            changes={"targets": [t["id"] for t in resolved], "generation": locked.config_generation},
        )
        task_enqueue(task_names.APPLY, locked.pk)
    return True


def lb_sync_all() -> dict[str, int]:
    """The beat's safety net (``tasks.targets_sync``): what a lost event or message left behind.

    Label edits and private-network cards are followed when they happen (``lb_on_server_changed``);
    a receiver that failed, or a lost apply message, leaves a load balancer behind: every live one
    whose applied targets differ from its resolved ones gets a new generation; every one with a
    generation left to apply and no live claim gets its apply enqueued again. Each VM first joins and
    leaves its targets' private networks (``lb_networks_sync``), in case an apply's sync was lost.
    """
    refreshed = resent = 0
    stale = timezone.now() - APPLY_LEASE
    for lb in LoadBalancer.objects.exclude(service__state__in=ENDED_STATES).exclude(instance__isnull=True):
        lb_networks_sync(lb=lb)
        if lb.applied_generation < lb.config_generation:
            if not lb.apply_task or (lb.apply_claimed_at is not None and lb.apply_claimed_at < stale):
                task_enqueue(task_names.APPLY, lb.pk)
                resent += 1
        elif lb_targets_refresh(lb=lb):
            refreshed += 1
    return {"refreshed": refreshed, "resent": resent}


def lb_on_instance_status(*, instance_id: int, after: str) -> None:
    """An instance changed status: an LB's own VM running → apply; a customer's server → its LBs' targets follow."""
    own = LoadBalancer.objects.filter(instance_id=instance_id).first()
    if own is not None:
        if after == InstanceStatus.RUNNING:
            task_enqueue(task_names.APPLY, own.pk)
        elif after == InstanceStatus.ERROR:
            LoadBalancer.objects.filter(pk=own.pk).update(apply_error="vm_error: the VM could not be built")
        return
    _organisation_targets_refresh(instance_id=instance_id)


def lb_on_server_changed(*, instance_id: int) -> int:
    """A server's labels changed, or one of its cards joined or left a private network: targets follow now.

    Called from the instances and networks signals (``apps.py``). For a load balancer's own VM, a new
    card changes which targets it reaches by a private address; for a customer's server, a label
    decides whether it is a target and a card decides its address. Returns the number of load balancers
    given a new generation (the beat's ``lb_sync_all`` then finds nothing left to do). One query finds
    the load balancers concerned, so a card or label change where there is none costs one query.
    """
    organisation = Instance.objects.filter(pk=instance_id).values("organisation_id")[:1]
    concerned = list(
        LoadBalancer.objects.filter(Q(instance_id=instance_id) | Q(service__organisation_id=Subquery(organisation)))
        .exclude(service__state__in=ENDED_STATES)
        .order_by("pk")
    )
    own = [lb for lb in concerned if lb.instance_id == instance_id]
    return sum(lb_targets_refresh(lb=lb) for lb in own or concerned)


def _organisation_targets_refresh(*, instance_id: int) -> int:
    organisation_id = Instance.objects.filter(pk=instance_id).values_list("organisation_id", flat=True).first()
    if organisation_id is None:
        return 0
    refreshed = 0
    for lb in LoadBalancer.objects.filter(service__organisation_id=organisation_id).exclude(
        service__state__in=ENDED_STATES
    ):
        refreshed += lb_targets_refresh(lb=lb)
    return refreshed
