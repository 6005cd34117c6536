"""Back-office writes: staff notes (audited) and the staff roles' groups."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext as _

from apps.backoffice.models import StaffNote
from apps.backoffice.rules import roles
from apps.core.actors import Actor, actor_user
from apps.core.choices import ActorKind
from apps.core.errors import ValidationFailed
from apps.core.services import audit_record
from apps.teams.models import Organisation

NOTE_MAX = 4000


def staff_note_create(*, organisation: Organisation, body: str, actor: Actor) -> StaffNote:
    """Write a staff note on ``organisation`` and audit it (``backoffice.note.create``, actor kind staff)."""
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(_("Write the note."), fields={"body": [_("This field is required.")]})
    if len(body) > NOTE_MAX:
        raise ValidationFailed(
            _("The note is too long."),
            fields={"body": [_("At most %(n)d characters.") % {"n": NOTE_MAX}]},
        )
    user = actor_user(actor)
    with transaction.atomic():
        note = StaffNote.objects.create(
            organisation=organisation,
            author=user,  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
            author_label=getattr(user, "email", "") or "",
            body=body,
        )
        audit_record(
            actor=actor,
            actor_kind=ActorKind.STAFF,
            action="backoffice.note.create",
            target=note,
            organisation_id=organisation.pk,
            changes={"body": body[:500]},
        )
    return note


def _granted(perm: Any, rules: tuple[roles.Rule, ...]) -> bool:
    """Whether one of ``rules`` grants ``perm``; only Django's default permissions (``<action>_<model>``) count."""
    ct = perm.content_type
    action, _sep, model = perm.codename.partition("_")
    if model != ct.model:
        return False
    return any(roles.rule_matches(rule, app_label=ct.app_label, model=model, action=action) for rule in rules)


def staff_roles_apply(*, group_model: Any = Group, permission_model: Any = Permission) -> dict[str, int]:
    """Create the staff roles' groups and set their permissions to the defaults of ``roles.ROLE_RULES``.

    Idempotent: each group ends with exactly its default permissions (a permission added by hand
    to a role's group is removed; give it to a person or another group instead). Takes the models
    so the data migration can pass its historical ones. Returns the number of permissions per role.
    """
    permissions = list(permission_model.objects.select_related("content_type"))
    counts: dict[str, int] = {}
    with transaction.atomic():
        for role, rules in roles.ROLE_RULES.items():
            group, _created = group_model.objects.get_or_create(name=role)
            granted = permissions if role == roles.SUPERUSER else [p for p in permissions if _granted(p, rules)]
            group.permissions.set(granted)
            counts[role] = len(granted)
    return counts


def staff_roles_grant_new_models() -> int:
    """Give each existing role group its default permissions on models it holds no permission on yet.

    Run after every ``migrate`` (``BackofficeConfig.ready`` connects it to ``post_migrate``): a model
    that lands after the roles' data migration (a new app, a new resource) reaches support,
    operations, finance and superuser without anyone running ``manage.py staff_roles``. A group's
    own choices on models it already holds permissions on are left as they are. Returns how many
    permissions were added.
    """
    permissions = list(Permission.objects.select_related("content_type"))
    added = 0
    with transaction.atomic():
        for group in Group.objects.filter(name__in=list(roles.ROLE_RULES)):
            rules = roles.ROLE_RULES[group.name]
            held = set(group.permissions.values_list("content_type_id", flat=True))
            new = [
                p
                for p in permissions
                if p.content_type_id not in held and (group.name == roles.SUPERUSER or _granted(p, rules))
            ]
            if new:
                group.permissions.add(*new)
                added += len(new)
    return added
