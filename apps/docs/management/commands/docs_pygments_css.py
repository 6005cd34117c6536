"""Write static/css/pygments.css: code highlighting colours for the light and dark themes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.docs.rules.rendering import pygments_css


class Command(BaseCommand):
    help = "Generate static/css/pygments.css from the Pygments styles the docs use."
    requires_system_checks: list[str] = []  # writes a static file; needs neither URLs nor models

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Fail if the file is out of date; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(settings.BASE_DIR) / "static" / "css" / "pygments.css"
        css = pygments_css()
        if options["check"]:
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            if current != css:
                self.stderr.write(f"{target} is out of date: run manage.py docs_pygments_css")
                raise SystemExit(1)
            self.stdout.write("pygments.css is up to date")
            return
        target.write_text(css, encoding="utf-8")
        self.stdout.write(f"wrote {target}")
