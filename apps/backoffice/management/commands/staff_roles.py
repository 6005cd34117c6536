"""``manage.py staff_roles``: create or reset the staff roles' groups to their default permissions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.backoffice import services
from apps.backoffice.rules import roles


class Command(BaseCommand):
    help = "Create the staff groups (support, operations, finance, superuser) and reset their default permissions."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = services.staff_roles_apply()
        for role, count in counts.items():
            self.stdout.write(f"{role}: {count} permissions — {roles.ROLE_LABELS[role]}")
