"""Writes of firewalls: create, update, set rules, apply to / remove from servers, delete, reconcile.

Every write authorises (``resources.write``), validates (a bad rule is a 400 naming the field, e.g.
``rules[3].port``), locks the firewall's row, records the change, and opens one ``apply`` Action in
the shared Action table (``resource_type`` "firewall") whose task writes every affected VM
(``services.execution``). Membership is ``FirewallServer``: by id (``direct``) or through a label
selector (``selected``, recomputed on each change, when a server starts running, when a server's
labels change, and by the periodic reconciliation as a safety net, so a selector also covers future
servers and changed labels).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.actors import Actor, actor_is_back_office_staff, actor_user
from apps.core.errors import Conflict, ValidationFailed
from apps.core.labels import label_selector_parse, label_selector_q, labels_validate
from apps.core.services import audit_record
from apps.firewalls import rules, task_names
from apps.firewalls.choices import FirewallStatus, MemberStatus
from apps.firewalls.models import Firewall, FirewallGroup, FirewallQuota, FirewallServer, ServerFirewall
from apps.instances.choices import ActionResource, ActionType, InstanceStatus
from apps.instances.models import Action, Instance
from apps.instances.services import resource_action_open
from apps.teams.access import require_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation, Project

GONE_STATUSES = (InstanceStatus.DELETING, InstanceStatus.DELETED)
MAX_SELECTORS = 10


def firewall_authorise(actor: Actor, organisation: Organisation, obj: Any = None) -> None:
    """Resource writes need ``resources.write``; staff in the back office and the platform (None) may act."""
    if actor is None or actor_is_back_office_staff(actor):
        return
    require_permission(actor, organisation, Permission.RESOURCES_WRITE, obj=obj)


def firewall_limits(organisation: Organisation) -> tuple[int, int]:
    """(max firewalls, max rules per firewall) of the organisation: its quota row, else the defaults."""
    quota = FirewallQuota.objects.filter(organisation=organisation).first()
    defaults = settings.FIREWALLS_DEFAULT_QUOTAS
    max_fw = quota.max_firewalls if quota and quota.max_firewalls is not None else defaults["max_firewalls"]
    max_rules = (
        quota.max_rules_per_firewall
        if quota and quota.max_rules_per_firewall is not None
        else defaults["max_rules_per_firewall"]
    )
    return int(max_fw), min(int(max_rules), rules.MAX_RULES)


def _rules_clean(raw: Any, *, organisation: Organisation) -> list[dict[str, Any]]:
    """Validated rules; 400 naming every bad field, 409 ``quota_exceeded`` past the organisation's rule quota."""
    _max_fw, max_rules = firewall_limits(organisation)
    clean, errors = rules.rules_clean(raw, max_rules=rules.MAX_RULES)
    if errors:
        raise ValidationFailed(_("Invalid rules."), fields={k: [v] for k, v in errors.items()})
    if len(clean) > max_rules:
        raise Conflict(
            _("Your organisation may have %(n)s rules per firewall: ask us to raise the quota.") % {"n": max_rules},
            code="quota_exceeded",
        )
    return clean


def _name_clean(name: str, *, project: Project, exclude: int | None = None) -> str:
    clean = (name or "").strip()
    if not clean or len(clean) > 63:
        raise ValidationFailed(_("Invalid name."), fields={"name": [_("1 to 63 characters.")]})
    taken = Firewall.objects.filter(project=project, name=clean).exclude(status=FirewallStatus.DELETED)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationFailed(
            _("Invalid name."), fields={"name": [_("A firewall of this project already has this name.")]}
        )
    return clean


def _selectors_clean(selectors: Iterable[str], *, field: str = "apply_to") -> list[str]:
    clean: list[str] = []
    for index, selector in enumerate(selectors):
        text = (selector or "").strip()
        try:
            label_selector_parse(text)
        except ValueError as exc:
            raise ValidationFailed(
                _("Invalid label selector."), fields={f"{field}[{index}].label_selector.selector": [str(exc)]}
            ) from exc
        if text not in clean:
            clean.append(text)
    return clean


def _servers_check(firewall: Firewall, servers: Sequence[Instance]) -> None:
    for index, server in enumerate(servers):
        if server.project_id != firewall.project_id:
            raise ValidationFailed(
                _("Invalid server."),
                fields={f"apply_to[{index}].server.id": [_("The server must be in the firewall's project.")]},
            )
        if server.status in GONE_STATUSES:
            raise Conflict(_("The server %(name)s is being deleted.") % {"name": server.name}, code="server_deleted")


def _selected_ids(firewall: Firewall) -> set[int]:
    """Servers of the firewall's project matched by any of its selectors now."""
    ids: set[int] = set()
    for selector in firewall.label_selectors:
        q = label_selector_q(label_selector_parse(selector))
        ids.update(
            Instance.objects.filter(project_id=firewall.project_id)
            .exclude(status__in=GONE_STATUSES)
            .filter(q)
            .values_list("pk", flat=True)
        )
    return ids


def _refresh_selected(firewall: Firewall) -> set[int]:
    """Bring ``selected`` in line with the selectors; the servers whose membership changed."""
    wanted = _selected_ids(firewall)
    rows = {m.instance_id: m for m in FirewallServer.objects.filter(firewall=firewall)}
    changed: set[int] = set()
    for instance_id in wanted - {pk for pk, m in rows.items() if m.selected}:
        row = rows.get(instance_id)
        if row is None:
            FirewallServer.objects.create(firewall=firewall, instance_id=instance_id, selected=True)
        else:
            FirewallServer.objects.filter(pk=row.pk).update(selected=True, status=MemberStatus.PENDING)
        changed.add(instance_id)
    for instance_id, row in rows.items():
        if row.selected and instance_id not in wanted:
            FirewallServer.objects.filter(pk=row.pk).update(
                selected=False, status=MemberStatus.PENDING if row.direct else MemberStatus.REMOVING
            )
            changed.add(instance_id)
    return changed


def _open_apply(firewall: Firewall, *, actor: Actor, server_ids: Iterable[int], reason: str) -> Action:
    return resource_action_open(
        resource_type=ActionResource.FIREWALL,
        resource_id=firewall.public_id,
        project=firewall.project,
        type=ActionType.APPLY,
        actor=actor,
        task=task_names.RUN_ACTION,
        params={"server_ids": sorted(set(server_ids)), "reason": reason, "generation": firewall.generation},
    )


def _locked(firewall: Firewall) -> Firewall:
    locked = Firewall.objects.select_for_update(no_key=True).get(pk=firewall.pk)
    if locked.status != FirewallStatus.ACTIVE:
        raise Conflict(_("This firewall is being deleted."), code="firewall_deleted")
    return locked


def _per_server_limit(server_ids: Iterable[int], *, firewall: Firewall) -> None:
    for instance_id in server_ids:
        count = (
            FirewallServer.objects.filter(instance_id=instance_id, firewall__status=FirewallStatus.ACTIVE)
            .exclude(firewall=firewall)
            .exclude(direct=False, selected=False)
            .count()
        )
        if count >= rules.MAX_FIREWALLS_PER_SERVER:
            raise Conflict(
                _("A server uses at most %(n)s firewalls.") % {"n": rules.MAX_FIREWALLS_PER_SERVER},
                code="server_firewall_limit",
            )


def _apply_direct(firewall: Firewall, servers: Sequence[Instance]) -> set[int]:
    changed: set[int] = set()
    for server in servers:
        row, created = FirewallServer.objects.get_or_create(
            firewall=firewall, instance=server, defaults={"direct": True}
        )
        if created or not row.direct:
            FirewallServer.objects.filter(pk=row.pk).update(direct=True, status=MemberStatus.PENDING)
            changed.add(server.pk)
    return changed


def firewall_create(
    *,
    actor: Actor,
    organisation: Organisation,
    project: Project,
    name: str,
    rules_data: Any = None,
    labels: dict[str, str] | None = None,
    servers: Sequence[Instance] = (),
    label_selectors: Sequence[str] = (),
) -> tuple[Firewall, list[Action]]:
    """Create a firewall; when it applies to servers, the ``apply`` Action that writes them."""
    firewall_authorise(actor, organisation)
    if project.organisation_id != organisation.pk:
        raise ValidationFailed(_("Invalid project."), fields={"project_id": [_("Not a project of this organisation.")]})
    clean_labels = labels_validate(labels)
    selectors = _selectors_clean(label_selectors)
    if len(selectors) > MAX_SELECTORS:
        raise ValidationFailed(
            _("Too many label selectors."), fields={"apply_to": [_("At most %(n)s.") % {"n": MAX_SELECTORS}]}
        )
    with transaction.atomic():
        Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
        clean_rules = _rules_clean(rules_data, organisation=organisation)
        clean_name = _name_clean(name, project=project)
        max_fw, _max_rules = firewall_limits(organisation)
        live = Firewall.objects.filter(organisation=organisation).exclude(status=FirewallStatus.DELETED).count()
        if live + 1 > max_fw:
            raise Conflict(
                _("Your organisation may have %(n)s firewalls: delete one or ask us to raise the quota.")
                % {"n": max_fw},
                code="quota_exceeded",
            )
        firewall = Firewall.objects.create(
            organisation=organisation,
            project=project,
            name=clean_name,
            labels=clean_labels,
            rules=clean_rules,
            label_selectors=selectors,
            created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        )
        _servers_check(firewall, servers)
        changed = _apply_direct(firewall, servers) | _refresh_selected(firewall)
        _per_server_limit(changed, firewall=firewall)
        audit_record(
            actor=actor,
            action="firewalls.firewall.create",
            target=firewall,
            organisation_id=organisation.pk,
            changes={"name": clean_name, "rules": len(clean_rules), "servers": len(changed)},
        )
        actions = [_open_apply(firewall, actor=actor, server_ids=changed, reason="create")] if changed else []
    return firewall, actions


def firewall_update(
    *, firewall: Firewall, actor: Actor, name: str | None = None, labels: dict[str, str] | None = None
) -> Firewall:
    """Rename or relabel (no Proxmox work: the group's name is derived from the id)."""
    firewall_authorise(actor, firewall.organisation, firewall)
    with transaction.atomic():
        locked = _locked(firewall)
        changes: dict[str, Any] = {}
        if name is not None:
            locked.name = changes["name"] = _name_clean(name, project=locked.project, exclude=locked.pk)
        if labels is not None:
            locked.labels = changes["labels"] = labels_validate(labels)
        if changes:
            locked.save(update_fields=[*changes, "updated_at"])
            audit_record(
                actor=actor,
                action="firewalls.firewall.update",
                target=locked,
                organisation_id=locked.organisation_id,
                changes=changes,
            )
    return locked


def firewall_set_rules(*, firewall: Firewall, actor: Actor, rules_data: Any) -> Action:
    """Replace every rule; the ``apply`` Action rewrites the security group and checks every server using it."""
    firewall_authorise(actor, firewall.organisation, firewall)
    with transaction.atomic():
        locked = _locked(firewall)
        clean = _rules_clean(rules_data, organisation=locked.organisation)
        locked.rules = clean
        locked.generation += 1
        locked.save(update_fields=["rules", "generation", "updated_at"])
        members = FirewallServer.objects.filter(firewall=locked).exclude(status=MemberStatus.REMOVING)
        server_ids = list(members.values_list("instance_id", flat=True))
        members.update(status=MemberStatus.PENDING)
        audit_record(
            actor=actor,
            action="firewalls.firewall.set_rules",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"rules": len(clean), "generation": locked.generation},
        )
        return _open_apply(locked, actor=actor, server_ids=server_ids, reason="set_rules")


def firewall_apply_to(
    *, firewall: Firewall, actor: Actor, servers: Sequence[Instance] = (), label_selectors: Sequence[str] = ()
) -> Action:
    """Apply to more servers, by id or label selector (current and future servers of the project)."""
    firewall_authorise(actor, firewall.organisation, firewall)
    selectors = _selectors_clean(label_selectors)
    with transaction.atomic():
        locked = _locked(firewall)
        _servers_check(locked, servers)
        merged = list(locked.label_selectors)
        merged += [s for s in selectors if s not in merged]
        if len(merged) > MAX_SELECTORS:
            raise ValidationFailed(
                _("Too many label selectors."), fields={"apply_to": [_("At most %(n)s.") % {"n": MAX_SELECTORS}]}
            )
        locked.label_selectors = merged
        locked.save(update_fields=["label_selectors", "updated_at"])
        changed = _apply_direct(locked, servers) | _refresh_selected(locked)
        _per_server_limit(changed, firewall=locked)  # by id or selector: the whole change is refused
        audit_record(
            actor=actor,
            action="firewalls.firewall.apply_to_resources",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"servers": [s.name for s in servers], "label_selectors": selectors},
        )
        return _open_apply(locked, actor=actor, server_ids=changed, reason="apply_to_resources")


def firewall_remove_from(
    *, firewall: Firewall, actor: Actor, servers: Sequence[Instance] = (), label_selectors: Sequence[str] = ()
) -> Action:
    """Stop applying to these servers (by id) or selectors; a server still matched another way keeps it."""
    firewall_authorise(actor, firewall.organisation, firewall)
    selectors = _selectors_clean(label_selectors, field="remove_from")
    with transaction.atomic():
        locked = _locked(firewall)
        changed: set[int] = set()
        for row in FirewallServer.objects.filter(firewall=locked, instance__in=list(servers), direct=True):
            FirewallServer.objects.filter(pk=row.pk).update(
                direct=False, status=MemberStatus.PENDING if row.selected else MemberStatus.REMOVING
            )
            changed.add(row.instance_id)
        locked.label_selectors = [s for s in locked.label_selectors if s not in selectors]
        locked.save(update_fields=["label_selectors", "updated_at"])
        changed |= _refresh_selected(locked)
        audit_record(
            actor=actor,
            action="firewalls.firewall.remove_from_resources",
            target=locked,
            organisation_id=locked.organisation_id,
            changes={"servers": [s.name for s in servers], "label_selectors": selectors},
        )
        return _open_apply(locked, actor=actor, server_ids=changed, reason="remove_from_resources")


def firewall_delete(*, firewall: Firewall, actor: Actor) -> Action:
    """Remove the firewall from every server, then delete its security groups (the ``delete`` Action)."""
    firewall_authorise(actor, firewall.organisation, firewall)
    with transaction.atomic():
        locked = _locked(firewall)
        Firewall.objects.filter(pk=locked.pk).update(status=FirewallStatus.DELETING, updated_at=timezone.now())
        members = FirewallServer.objects.filter(firewall=locked)
        server_ids = list(members.values_list("instance_id", flat=True))
        members.update(status=MemberStatus.REMOVING)
        audit_record(
            actor=actor, action="firewalls.firewall.delete", target=locked, organisation_id=locked.organisation_id
        )
        return resource_action_open(
            resource_type=ActionResource.FIREWALL,
            resource_id=locked.public_id,
            project=locked.project,
            type=ActionType.DELETE,
            actor=actor,
            task=task_names.RUN_ACTION,
            params={"server_ids": server_ids},
        )


def firewall_quota_set(
    *,
    organisation: Organisation,
    actor: Actor,
    max_firewalls: int | None,
    max_rules_per_firewall: int | None,
) -> FirewallQuota:
    """Staff set an organisation's firewall quota (None: the default)."""
    if max_rules_per_firewall is not None and max_rules_per_firewall > rules.MAX_RULES:
        raise ValidationFailed(
            _("Invalid quota."),
            fields={"max_rules_per_firewall": [_("At most %(n)s.") % {"n": rules.MAX_RULES}]},
        )
    with transaction.atomic():
        quota, _created = FirewallQuota.objects.update_or_create(
            organisation=organisation,
            defaults={"max_firewalls": max_firewalls, "max_rules_per_firewall": max_rules_per_firewall},
        )
        audit_record(
            actor=actor,
            action="firewalls.quota.set",
            target=quota,
            organisation_id=organisation.pk,
            changes={"max_firewalls": max_firewalls, "max_rules_per_firewall": max_rules_per_firewall},
        )
    return quota


# ------------------------------------------------------------------------------- servers' lifecycle


def firewalls_server_status_changed(sender: Any, *, instance_id: int, before: str, after: str, **kwargs: Any) -> None:
    """Receiver of ``instances.signals.instance_status_changed``.

    * A deleted server is dropped from its firewalls (the VM and its firewall file are gone with it): the
      firewalls no longer list it, and the audit log says why.
    * A server that starts running for the first time gets the firewalls whose label selectors match it,
      and those applied to it while it was being created.
    """
    if after in GONE_STATUSES:
        with transaction.atomic():
            rows = list(FirewallServer.objects.filter(instance_id=instance_id).select_related("firewall"))
            for row in rows:
                audit_record(
                    actor=None,
                    action="firewalls.firewall.server_removed",
                    target=row.firewall,
                    organisation_id=row.firewall.organisation_id,
                    changes={"server_id": instance_id, "reason": "server deleted"},
                )
            FirewallServer.objects.filter(instance_id=instance_id).delete()
            ServerFirewall.objects.filter(instance_id=instance_id).delete()
        return
    if after == InstanceStatus.RUNNING and before == InstanceStatus.PROVISIONING:
        firewall_server_started(instance_id=instance_id)


def firewall_server_started(*, instance_id: int) -> list[Action]:
    """A new server is running: apply the firewalls that select it or were applied to it meanwhile."""
    instance = Instance.objects.filter(pk=instance_id).first()
    if instance is None:
        return []
    actions: list[Action] = []
    with transaction.atomic():
        candidates = Firewall.objects.filter(project_id=instance.project_id, status=FirewallStatus.ACTIVE)
        for firewall in candidates.select_for_update(no_key=True).order_by("pk"):
            changed = _refresh_selected(firewall) if firewall.label_selectors else set()
            pending = FirewallServer.objects.filter(
                firewall=firewall, instance_id=instance_id, status=MemberStatus.PENDING
            ).exists()
            if instance_id in changed or pending:
                actions.append(_open_apply(firewall, actor=None, server_ids=[instance_id], reason="server_started"))
    return actions


def firewalls_reconcile_selectors() -> list[Action]:
    """Re-match every firewall's label selectors against servers' current labels; an Action where it changed."""
    ids = Firewall.objects.filter(status=FirewallStatus.ACTIVE).exclude(label_selectors=[]).values_list("pk", flat=True)
    return _selectors_rematch(list(ids), reason="reconcile")


def firewalls_server_labels_changed(sender: Any, *, instance_id: int, **kwargs: Any) -> list[Action]:
    """Receiver of ``instances.signals.instance_labels_changed``: the project's selectors are matched again now.

    A server whose new labels a selector matches gets that firewall, one that no longer matches loses
    it, without waiting for the periodic reconciliation (which stays as the safety net,
    docs/dev/style.md#events).
    """
    project_id = (
        Instance.objects.filter(pk=instance_id).exclude(status__in=GONE_STATUSES).values_list("project_id", flat=True)
    ).first()
    if project_id is None:
        return []
    ids = (
        Firewall.objects.filter(project_id=project_id, status=FirewallStatus.ACTIVE)
        .exclude(label_selectors=[])
        .values_list("pk", flat=True)
    )
    return _selectors_rematch(list(ids), reason="labels_changed")


def _selectors_rematch(firewall_ids: list[int], *, reason: str) -> list[Action]:
    actions: list[Action] = []
    for pk in firewall_ids:
        with transaction.atomic():
            firewall = (
                Firewall.objects.select_for_update(no_key=True).filter(pk=pk, status=FirewallStatus.ACTIVE).first()
            )
            if firewall is None:
                continue
            changed = _refresh_selected(firewall)
            if changed:
                actions.append(_open_apply(firewall, actor=None, server_ids=changed, reason=reason))
    return actions


def firewall_reapply(*, firewall: Firewall, actor: Actor, server_ids: Iterable[int] | None = None) -> Action:
    """Staff (or reconciliation) rewrite a firewall everywhere it applies: its security groups are written
    again and every server re-checked (after drift, or a cluster whose firewall was re-enabled)."""
    firewall_authorise(actor, firewall.organisation, firewall)
    with transaction.atomic():
        locked = _locked(firewall)
        FirewallGroup.objects.filter(firewall=locked).update(generation=0)
        members = FirewallServer.objects.filter(firewall=locked)
        if server_ids is not None:
            members = members.filter(instance_id__in=list(server_ids))
        ids = list(members.values_list("instance_id", flat=True))
        members.exclude(status=MemberStatus.REMOVING).update(status=MemberStatus.PENDING)
        audit_record(
            actor=actor, action="firewalls.firewall.reapply", target=locked, organisation_id=locked.organisation_id
        )
        return _open_apply(locked, actor=actor, server_ids=ids, reason="reapply")
