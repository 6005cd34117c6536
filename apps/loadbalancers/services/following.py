"""Targets following servers: a server's status or labels change, its load balancers' targets follow.

``lb_on_instance_status`` is called on every instance status change (``apps.instances.signals``,
connected in ``apps.py``): the load balancer's own VM running enqueues its apply; a customer's
server changing status refreshes the targets of its organisation's load balancers. ``lb_sync_all``
is the beat's safety net for what no signal tells (label edits, lost apply messages).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
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
    """The beat's safety net (``tasks.targets_sync``): targets follow label edits, lost applies are sent again.

    The instances app sends no signal when a server's labels are edited, and a lost message leaves
    a generation unapplied: every live load balancer whose applied targets differ from its resolved
    ones gets a new generation; every one with a generation left to apply and no live claim gets its
    apply enqueued again. Each VM first joins and leaves its targets' private networks
    (``lb_networks_sync``): a card that became attached changes the targets' addresses, so it is applied.
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
    organisation_id = Instance.objects.filter(pk=instance_id).values_list("organisation_id", flat=True).first()
    if organisation_id is None:
        return
    for lb in LoadBalancer.objects.filter(service__organisation_id=organisation_id).exclude(
        service__state__in=ENDED_STATES
    ):
        lb_targets_refresh(lb=lb)
