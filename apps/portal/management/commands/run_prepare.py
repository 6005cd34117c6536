"""`manage.py run_prepare`: everything `make run` does before starting the servers, in one process.

Migrate when a migration is pending (with one line per migration), load the
catalogue and demo data, print the logins. One Django start instead of three
keeps the second `make run` within seconds (apps/docs/content/getting-started.md).
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.core import health


class Command(BaseCommand):
    help = "Migrate if needed, load the demo data and print the logins (make run)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        pending = health.pending_migrations()
        if pending:
            self.stdout.write(f"==> migrating the database: {len(pending)} migrations to apply")
            call_command("migrate", interactive=False, verbosity=1, stdout=self.stdout)
        else:
            self.stdout.write("==> database up to date (no migration to apply)")
        self.stdout.write("==> loading the catalogue and demo data")
        call_command("demo_setup", stdout=self.stdout)
        self.stdout.write(f"    prepared in {time.monotonic() - started:.1f} s")
        port = os.environ.get("PORT", "8000")
        self.stdout.write("")
        self.stdout.write(f"    VMCloud is starting on http://127.0.0.1:{port}/")
        self.stdout.write(f"    Admin (back office): http://127.0.0.1:{port}/admin/")
        self.stdout.write(f"    API reference:       http://127.0.0.1:{port}/api/docs/")
        call_command("demo_setup", print_logins=True, stdout=self.stdout)
