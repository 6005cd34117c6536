"""`manage.py consistency_check`: the platform's consistency checks; exit 1 on any problem.

Run after every restore (scripts/restore.sh does) and whenever in doubt.
Docs: apps/docs/content/runbook-restore.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.portal.selectors import platform_consistency


class Command(BaseCommand):
    help = "Check gap-free document numbers, ledger = invoices, and that every live server's VM is known."

    def handle(self, *args: Any, **options: Any) -> None:
        report = platform_consistency()
        for what, count in report.checked.items():
            self.stdout.write(f"checked {count} {what}")
        for problem in report.problems:
            self.stderr.write(f"PROBLEM: {problem}")
        if not report.ok:
            raise CommandError(f"{len(report.problems)} consistency problems")
        self.stdout.write("consistency: ok")
