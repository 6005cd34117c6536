"""Writes of SSH keys, an organisation's account resource: add, rename or relabel, delete.

The key material is checked by ``apps.instances.rules.ssh_key_parse``; a key is
unique in its organisation by fingerprint and by name. Servers get a copy of
the key lines at creation (``lifecycle.instance_create``), so deleting a key
never touches a running server.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.actors import Actor, actor_user
from apps.core.errors import ValidationFailed
from apps.core.services import audit_record
from apps.instances.models import SshKey
from apps.instances.rules import ssh_key_parse
from apps.instances.services.access import organisation_authorise
from apps.instances.services.validation import instance_labels_clean
from apps.teams.models import Organisation

KEY_NAME_MAX = 100


def _name_clean(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > KEY_NAME_MAX:
        raise ValidationFailed(
            _("Give the key a name."), code="invalid_name", fields={"name": [_("1 to 100 characters.")]}
        )
    return name


def ssh_key_create(
    *,
    organisation: Organisation,
    name: str,
    public_key: str,
    actor: Actor,
    labels: Mapping[str, str] | None = None,
) -> SshKey:
    """Add a validated public key to the organisation (unique by fingerprint and by name)."""
    organisation_authorise(actor, organisation)
    name = _name_clean(name)
    labels_clean = instance_labels_clean(labels)
    parsed = ssh_key_parse(public_key)
    with transaction.atomic():
        if SshKey.objects.filter(organisation=organisation, fingerprint=parsed.fingerprint).exists():
            message = _("This key is already registered.")
            raise ValidationFailed(message, code="duplicate_ssh_key", fields={"public_key": [message]})
        if SshKey.objects.filter(organisation=organisation, name=name).exists():
            message = _("A key with this name exists.")
            raise ValidationFailed(message, code="duplicate_ssh_key", fields={"name": [message]})
        key = SshKey.objects.create(
            organisation=organisation,
            name=name,
            public_key=parsed.normalised,
            key_type=parsed.key_type,
            bits=parsed.bits,
            fingerprint=parsed.fingerprint,
            labels=labels_clean,
            created_by=actor_user(actor),  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        )
        audit_record(
            actor=actor,
            action="instances.ssh_key.create",
            organisation_id=organisation.pk,
            changes={"name": name, "fingerprint": parsed.fingerprint},
        )
    return key


def ssh_key_rename(*, key: SshKey, name: str, actor: Actor) -> SshKey:
    """Rename a key (``ssh_key_update`` with a name only)."""
    return ssh_key_update(key=key, name=name, actor=actor)


def ssh_key_update(
    *, key: SshKey, actor: Actor, name: str | None = None, labels: Mapping[str, str] | None = None
) -> SshKey:
    """Rename or relabel a key (its material never changes: add a new key instead)."""
    organisation_authorise(actor, key.organisation)
    if name is not None:
        name = _name_clean(name)
    clean = instance_labels_clean(labels) if labels is not None else None
    with transaction.atomic():
        if (
            name is not None
            and SshKey.objects.filter(organisation_id=key.organisation_id, name=name).exclude(pk=key.pk).exists()
        ):
            message = _("A key with this name exists.")
            raise ValidationFailed(message, code="duplicate_ssh_key", fields={"name": [message]})
        if name is not None and name != key.name:
            old = key.name
            key.name = name
            key.save(update_fields=["name", "updated_at"])
            audit_record(
                actor=actor,
                action="instances.ssh_key.rename",
                organisation_id=key.organisation_id,
                changes={"name": [old, name]},
            )
        if clean is not None and clean != key.labels:
            old_labels = key.labels
            key.labels = clean
            key.save(update_fields=["labels", "updated_at"])
            audit_record(
                actor=actor,
                action="instances.ssh_key.update",
                organisation_id=key.organisation_id,
                changes={"labels": [old_labels, clean]},
            )
    return key


def ssh_key_delete(*, key: SshKey, actor: Actor) -> None:
    """Remove a key from the organisation (servers keep the copy they were created with)."""
    organisation_authorise(actor, key.organisation)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="instances.ssh_key.delete",
            organisation_id=key.organisation_id,
            changes={"name": key.name, "fingerprint": key.fingerprint},
        )
        key.delete()
