"""Wait until every migration is applied to the database, then exit 0.

Beat and the workers run this before they start: beat started alongside a
release's migrate job died on a table that did not exist yet. Exits 1 when
the timeout passes (the orchestrator restarts the container). Docs:
apps/docs/content/production.md ("Start order").
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from apps.core import health


class Command(BaseCommand):
    help = "Wait until the database answers and every migration is applied."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=600.0, help="Seconds before giving up (exit 1).")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between two checks.")

    def handle(self, *args: Any, **options: Any) -> None:
        deadline = time.monotonic() + options["timeout"]
        last_reason = ""
        while True:
            try:
                pending = health.pending_migrations()
            except Exception as exc:  # the database may not answer yet
                reason = f"database not reachable ({type(exc).__name__})"
                connections.close_all()
            else:
                if not pending:
                    self.stdout.write("migrations: all applied")
                    return
                reason = f"{len(pending)} migrations pending (first: {pending[0]})"
            if reason != last_reason:
                self.stdout.write(f"waiting: {reason}")
                last_reason = reason
            if time.monotonic() >= deadline:
                raise CommandError(f"gave up after {options['timeout']:.0f} s: {reason}")
            time.sleep(options["interval"])
