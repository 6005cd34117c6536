"""Back-office services: the audited staff note and the staff roles' groups."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from apps.backoffice.models import StaffNote
from apps.backoffice.rules import roles
from apps.backoffice.services import staff_note_create, staff_roles_apply
from apps.core.errors import ValidationFailed
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _codes(role: str) -> set[str]:
    return {
        f"{app}.{code}"
        for app, code in Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename")
    }


def test_staff_note_is_saved_and_audited_as_staff(personas):
    note = staff_note_create(organisation=personas.org, body="  Called about invoice 12.  ", actor=personas.staff)
    assert note.body == "Called about invoice 12."
    assert note.author == personas.staff
    event = AuditEvent.objects.get(action="backoffice.note.create")
    assert (event.actor_kind, event.organisation_id, event.target_id) == ("staff", personas.org.pk, str(note.pk))


@pytest.mark.parametrize("body", ["", "   ", "x" * 4001])
def test_staff_note_refuses_empty_or_too_long(personas, body):
    with pytest.raises(ValidationFailed) as exc:
        staff_note_create(organisation=personas.org, body=body, actor=personas.staff)
    assert "body" in exc.value.fields
    assert not StaffNote.objects.exists()
    assert not AuditEvent.objects.filter(action="backoffice.note.create").exists()


def test_the_data_migration_makes_the_four_groups():
    # Run the migration's function itself, on the historical models it gets when migrating (the test
    # database may have been flushed since it ran).
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    migration = importlib.import_module("apps.backoffice.migrations.0002_staff_roles")
    state = MigrationExecutor(connection).loader.project_state(("backoffice", "0002_staff_roles"))
    Group.objects.all().delete()
    migration.apply_roles(state.apps, None)
    assert set(Group.objects.values_list("name", flat=True)) == {"support", "operations", "finance", "superuser"}
    assert "teams.change_organisation" in _codes(roles.SUPPORT)


def test_roles_hold_their_defaults():
    staff_roles_apply()
    support, operations, finance = _codes(roles.SUPPORT), _codes(roles.OPERATIONS), _codes(roles.FINANCE)
    # Support: customers and their organisations, no billing writes, no fleet, no payments.
    assert {"teams.change_organisation", "accounts.change_user", "backoffice.add_staffnote"} <= support
    assert "billing.view_invoice" in support and "billing.change_invoice" not in support
    assert not any(code.startswith(("infrastructure.", "djstripe.")) for code in support)
    # Operations: the fleet and the orders, no billing, no payments.
    assert {"infrastructure.change_node", "orders.change_order", "instances.change_drift"} <= operations
    assert not any(code.startswith(("billing.", "djstripe.")) for code in operations)
    # Finance: billing and dj-stripe (read), no fleet writes.
    assert {"billing.add_creditgrant", "billing.change_invoice"} <= finance
    assert any(code.startswith("djstripe.view_") for code in finance)
    assert not any(code.startswith("djstripe.") and not code.startswith("djstripe.view_") for code in finance)
    assert "infrastructure.change_node" not in finance and "teams.change_organisation" not in finance
    assert Group.objects.get(name=roles.SUPERUSER).permissions.count() == Permission.objects.count()


def test_staff_roles_command_is_idempotent_and_resets_hand_edits(capsys):
    staff_roles_apply()
    before = _codes(roles.SUPPORT)
    support = Group.objects.get(name=roles.SUPPORT)
    support.permissions.add(Permission.objects.get(codename="delete_invoice", content_type__app_label="billing"))
    Group.objects.get(name=roles.FINANCE).delete()
    call_command("staff_roles")
    call_command("staff_roles")
    assert _codes(roles.SUPPORT) == before
    assert Group.objects.filter(name=roles.FINANCE).count() == 1
    assert "support:" in capsys.readouterr().out


def test_a_model_added_after_the_roles_migration_gets_its_role_defaults_at_the_next_migrate():
    """post_migrate grants the defaults on models a group holds nothing on, and keeps its own choices."""
    from django.core.management.sql import emit_post_migrate_signal

    from apps.backoffice.services import staff_roles_grant_new_models

    staff_roles_apply()
    operations = Group.objects.get(name=roles.OPERATIONS)
    # As if managed services had landed after the roles' migration: operations holds nothing on them.
    managed = Permission.objects.filter(content_type__app_label="managed", content_type__model="managedservice")
    operations.permissions.remove(*managed)
    # A choice made by hand on a model the group already knows is kept.
    assert "infrastructure.delete_node" in _codes(roles.OPERATIONS)
    operations.permissions.remove(
        Permission.objects.get(codename="delete_node", content_type__app_label="infrastructure")
    )
    assert "managed.change_managedservice" not in _codes(roles.OPERATIONS)

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # what every migrate ends with

    codes = _codes(roles.OPERATIONS)
    assert "managed.change_managedservice" in codes
    assert "infrastructure.delete_node" not in codes
    assert staff_roles_grant_new_models() == 0  # nothing more to add
