"""What the firewalls tasks run: write security groups and VM firewalls on Proxmox, check for drift.

* A firewall's security group is written once per cluster and rules generation
  (``FirewallGroup``), under that row's lock, so two applies of one firewall never
  interleave their rule writes (``firewall_group_put`` replaces the rules with the
  rule-list digest: docs/dev/proxmox-behaviour.md#firewall-rules).
* A server's VM is written by ``server_firewall_sync`` under the lock of its
  ``ServerFirewall`` row: the wanted state (one ``group`` rule per firewall that
  applies, inbound policy DROP, outbound DROP only with an outbound rule,
  ``firewall=1`` on every NIC) is computed from the database *inside* the lock,
  so two firewalls changing one server at once serialise and the second writes
  the union of both: exactly one consistent outcome. Every write is idempotent
  (the driver compares before writing), so a redelivered task just re-checks.
* A server no firewall applies to any more goes back to open: no ``group``
  rule, both policies ACCEPT (the VM firewall stays enabled so that other
  platform rules, such as anti-spoofing IP sets, keep working).
* Transient driver errors propagate to the task, which retries; a permanent one
  marks that server's application ``error`` and the action ends in error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.firewalls import rules
from apps.firewalls.choices import FirewallStatus, MemberStatus
from apps.firewalls.models import ClusterFirewallCheck, Firewall, FirewallGroup, FirewallServer, ServerFirewall
from apps.infrastructure.models import Cluster
from apps.infrastructure.proxmox import ProxmoxDriver
from apps.infrastructure.proxmox.errors import ProxmoxError
from apps.infrastructure.proxmox.types import FirewallRule
from apps.instances.choices import ActionType, InstanceStatus
from apps.instances.models import Action, Instance
from apps.instances.services import (
    instance_driver,
    resource_action_fail,
    resource_action_progress,
    resource_action_succeed,
)

logger = logging.getLogger(__name__)

# A VM exists and its firewall can be written (a stopped VM's firewall files are written all the same).
SYNCABLE_STATUSES = (
    InstanceStatus.RUNNING,
    InstanceStatus.STOPPED,
    InstanceStatus.REBOOTING,
    InstanceStatus.RESIZING,
    InstanceStatus.REBUILDING,
    InstanceStatus.ERROR,
)
NIC_TASK_WAIT_SECONDS = 120


class Drivers:
    """One Proxmox client per cluster for the length of an action (a session is reused across VMs)."""

    def __init__(self) -> None:
        self._by_cluster: dict[int, ProxmoxDriver] = {}

    def get(self, cluster: Cluster) -> ProxmoxDriver:
        if cluster.pk not in self._by_cluster:
            self._by_cluster[cluster.pk] = instance_driver(cluster)
        return self._by_cluster[cluster.pk]


def _pve_rules(firewall: Firewall) -> list[FirewallRule]:
    return [FirewallRule(**fields) for fields in rules.pve_rules(firewall.rules)]  # type: ignore[arg-type]


def group_write(*, firewall_id: int, cluster: Cluster, drivers: Drivers, force: bool = False) -> bool:
    """Make the firewall's security group on ``cluster`` hold its current rules; True when written."""
    FirewallGroup.objects.get_or_create(firewall_id=firewall_id, cluster=cluster)
    with transaction.atomic():
        row = FirewallGroup.objects.select_for_update(no_key=True).get(firewall_id=firewall_id, cluster=cluster)
        firewall = Firewall.objects.get(pk=firewall_id)
        if row.generation >= firewall.generation and not force:
            return False
        drivers.get(cluster).firewall_group_put(
            firewall.group, _pve_rules(firewall), comment=f"{firewall.project_id}/{firewall.name}"[:200]
        )
        FirewallGroup.objects.filter(pk=row.pk).update(generation=firewall.generation, written_at=timezone.now())
        return True


def _nics_firewall_on(driver: ProxmoxDriver, node: str, vmid: int) -> list[str]:
    """Put ``firewall=1`` on every NIC that lacks it (one config write); the NICs changed."""
    options = driver.config(node, vmid).options
    changes: dict[str, str] = {}
    for key, value in options.items():
        if not (key.startswith("net") and key[3:].isdigit()):
            continue
        parts = [part for part in str(value).split(",") if not part.startswith("firewall=")]
        if f"{value}".split(",").count("firewall=1") == 1:
            continue
        changes[key] = ",".join([*parts, "firewall=1"])
    if changes:
        upid = driver.update_config(node, vmid, changes, digest=str(options.get("digest") or "") or None)
        if upid:
            driver.wait_task(node, upid, timeout=NIC_TASK_WAIT_SECONDS)
    return sorted(changes)


def _wanted(instance: Instance) -> tuple[list[Firewall], list[FirewallServer]]:
    """The firewalls that apply to the server (in id order) and its membership rows."""
    members = list(FirewallServer.objects.filter(instance=instance).select_related("firewall").order_by("firewall_id"))
    firewalls = [m.firewall for m in members if (m.direct or m.selected) and m.firewall.status == FirewallStatus.ACTIVE]
    return firewalls, members


def server_firewall_sync(*, instance_id: int, drivers: Drivers, full: bool = False) -> bool:
    """Make the server's VM firewall what the platform wants now; False when the VM cannot be written yet.

    The VM's ``group`` rules are always read and compared; its options and NICs are written when its
    groups or outbound policy change, when drift was flagged, or with ``full`` (staff re-apply).

    Raises ``ProxmoxError`` (the caller decides: retry if transient, else mark the server in error).
    """
    ServerFirewall.objects.get_or_create(instance_id=instance_id)
    with transaction.atomic():
        state = ServerFirewall.objects.select_for_update(no_key=True).get(instance_id=instance_id)
        instance = Instance.objects.select_related("cluster").get(pk=instance_id)
        firewalls, members = _wanted(instance)
        if instance.status in (InstanceStatus.DELETING, InstanceStatus.DELETED):
            FirewallServer.objects.filter(instance=instance).delete()
            return False
        if instance.status not in SYNCABLE_STATUSES or instance.vmid is None or instance.cluster is None:
            return False
        driver = drivers.get(instance.cluster)
        for firewall in firewalls:
            group_write(firewall_id=firewall.pk, cluster=instance.cluster, drivers=drivers)
        groups = [firewall.group for firewall in firewalls]
        node, vmid = instance.node_name, int(instance.vmid)
        rules_changed = driver.vm_firewall_group_rules_set(node, vmid, groups=groups)
        if groups:
            policy_out = rules.vm_policy_out([firewall.rules for firewall in firewalls])
            # Options and NICs are written when anything about this VM changed (or on a full re-apply); a
            # rule change alone reaches the VM through its security group, already rewritten above.
            same = state.applied_at is not None and state.groups == groups and state.policy_out == policy_out
            if full or rules_changed or not same or state.drift:
                _nics_firewall_on(driver, node, vmid)
                driver.vm_firewall_options_set(node, vmid, enable=True, policy_in="DROP", policy_out=policy_out)
        else:
            policy_out = ""
            if state.groups or rules_changed:
                driver.vm_firewall_options_set(node, vmid, enable=True, policy_in="ACCEPT", policy_out="ACCEPT")
        now = timezone.now()
        ServerFirewall.objects.filter(pk=state.pk).update(
            groups=groups, policy_out=policy_out, applied_at=now, drift=False, drift_detail="", checked_at=now
        )
        keep = [m.pk for m in members if (m.direct or m.selected) and m.firewall.status == FirewallStatus.ACTIVE]
        FirewallServer.objects.filter(pk__in=keep).update(status=MemberStatus.APPLIED, applied_at=now, error_message="")
        # Only the rows read above: a membership committed since (another firewall applied to this server
        # while we held its lock) is not ours to judge, and its own action syncs it next.
        FirewallServer.objects.filter(pk__in=[m.pk for m in members if m.pk not in keep]).delete()
        return True


def _servers_of(action: Action, firewall: Firewall) -> list[int]:
    ids = set(FirewallServer.objects.filter(firewall=firewall).values_list("instance_id", flat=True))
    ids.update(int(pk) for pk in action.params.get("server_ids", ()))
    return sorted(ids)


def _sync_many(action: Action, instance_ids: Iterable[int], drivers: Drivers) -> list[str]:
    """Sync every server; the errors (permanent ones mark the server's application ``error``)."""
    ids = list(instance_ids)
    full = action.params.get("reason") == "reapply"
    failures: list[str] = []
    for done, instance_id in enumerate(ids, start=1):
        try:
            server_firewall_sync(instance_id=instance_id, drivers=drivers, full=full)
        except ProxmoxError as exc:
            if exc.is_transient:
                raise
            logger.warning("firewall action %s: server %s: %s", action.pk, instance_id, exc)
            FirewallServer.objects.filter(instance_id=instance_id).exclude(status=MemberStatus.APPLIED).update(
                status=MemberStatus.ERROR, error_message=_("The firewall could not be written on this server.")
            )
            failures.append(f"server {instance_id}: {exc}")
        if done % 20 == 0 or done == len(ids):
            resource_action_progress(action=action, value=5 + 90 * done // max(1, len(ids)))
    return failures


def firewall_action_execute(*, action: Action) -> None:
    """Run a claimed firewall action: ``apply`` (rules or servers changed) or ``delete``."""
    firewall = Firewall.objects.filter(public_id=action.resource_id).first() if action.resource_id else None
    if firewall is None:
        resource_action_fail(action=action, code="not_found", message=_("The firewall no longer exists."))
        return
    drivers = Drivers()
    instance_ids = _servers_of(action, firewall)
    generation = firewall.generation
    if action.type == ActionType.APPLY and firewall.status == FirewallStatus.ACTIVE:
        clusters = Cluster.objects.filter(
            pk__in=Instance.objects.filter(pk__in=instance_ids, cluster__isnull=False).values("cluster_id")
        )
        for cluster in clusters:
            group_write(firewall_id=firewall.pk, cluster=cluster, drivers=drivers)
    failures = _sync_many(action, instance_ids, drivers)
    if action.type == ActionType.DELETE or firewall.status != FirewallStatus.ACTIVE:
        for row in FirewallGroup.objects.filter(firewall=firewall).select_related("cluster"):
            drivers.get(row.cluster).firewall_group_delete(firewall.group)
            row.delete()
        with transaction.atomic():
            Firewall.objects.filter(pk=firewall.pk).update(status=FirewallStatus.DELETED, deleted_at=timezone.now())
            resource_action_succeed(action=action)
        return
    if failures:
        resource_action_fail(
            action=action,
            code="apply_failed",
            message=_("The firewall could not be applied to %(n)s server(s).") % {"n": len(failures)},
            detail="\n".join(failures)[:5000],
        )
        return
    with transaction.atomic():
        Firewall.objects.filter(pk=firewall.pk).update(applied_generation=Greatest(F("applied_generation"), generation))
        resource_action_succeed(action=action)


# ------------------------------------------------------------------------------------------ drift


def server_firewall_drift(*, instance_id: int, drivers: Drivers) -> str:
    """Compare the VM's firewall with what the platform last wrote; record and return the difference ("" if none)."""
    state = ServerFirewall.objects.select_related("instance__cluster").filter(instance_id=instance_id).first()
    if state is None:
        return ""
    instance = state.instance
    if instance.status not in SYNCABLE_STATUSES or instance.vmid is None or instance.cluster is None:
        return ""
    firewalls, _members = _wanted(instance)
    wanted_groups = [firewall.group for firewall in firewalls]
    current = drivers.get(instance.cluster).vm_firewall_state(instance.node_name, int(instance.vmid))
    problems: list[str] = []
    if list(current.groups) != wanted_groups:
        problems.append(f"groups {list(current.groups)} instead of {wanted_groups}")
    if wanted_groups:
        if not current.enable:
            problems.append("VM firewall disabled")
        if (current.policy_in or "DROP") != "DROP":
            problems.append(f"policy_in {current.policy_in} instead of DROP")
        policy_out = rules.vm_policy_out([firewall.rules for firewall in firewalls])
        if (current.policy_out or "ACCEPT") != policy_out:
            problems.append(f"policy_out {current.policy_out} instead of {policy_out}")
    elif state.groups and (current.policy_in or "DROP") != "ACCEPT" and current.enable:
        problems.append(f"policy_in {current.policy_in or 'DROP'} on a server without firewall")
    detail = "; ".join(problems)
    ServerFirewall.objects.filter(pk=state.pk).update(
        drift=bool(problems), drift_detail=detail, checked_at=timezone.now()
    )
    return detail


def cluster_firewall_check(*, cluster: Cluster, driver: ProxmoxDriver | None = None) -> bool | None:
    """Read whether the cluster's datacentre firewall is on and record it (flagged in the back office when off).

    Without it no VM firewall filters anything (docs/dev/proxmox-behaviour.md#firewall-switches). None when
    the cluster could not be asked.
    """
    enabled: bool | None
    error = ""
    try:
        enabled = (driver or instance_driver(cluster)).cluster_firewall_enabled()
    except ProxmoxError as exc:
        enabled, error = None, str(exc)[:300]
    ClusterFirewallCheck.objects.update_or_create(
        cluster=cluster, defaults={"enabled": enabled, "checked_at": timezone.now(), "error": error}
    )
    if enabled is False:
        logger.warning("cluster %s: the datacentre firewall is off; customer firewalls do not filter", cluster.pk)
    return enabled


def firewall_group_drift(*, firewall: Firewall, drivers: Drivers) -> list[str]:
    """Clusters where the firewall's security group does not hold its current rules."""
    wanted = [rule.params() for rule in _pve_rules(firewall)]
    drifted: list[str] = []
    for row in FirewallGroup.objects.filter(firewall=firewall).select_related("cluster"):
        try:
            rows: Any = drivers.get(row.cluster).request("GET", f"cluster/firewall/groups/{firewall.group}")
        except ProxmoxError as exc:
            if exc.is_transient:
                raise
            rows = None  # the group is gone (PVE: "no such security group")
        current = (
            None
            if rows is None
            else [FirewallRule.from_row(r).params() for r in sorted(rows, key=lambda r: int(r["pos"]))]
        )
        if current != wanted:
            drifted.append(row.cluster.name)
            FirewallGroup.objects.filter(pk=row.pk).update(generation=0)
    return drifted
