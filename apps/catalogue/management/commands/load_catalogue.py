"""``manage.py load_catalogue``: load the seeded catalogue, idempotently.

Creates the families, offers, GPU models, datacentres, images, GPU stacks and
capacity envelopes that are missing; rows that exist are left as staff edited
them unless ``--reset`` is given. Runs through ``catalogue_load_seed`` (audited).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.catalogue.services import catalogue_load_seed


class Command(BaseCommand):
    help = "Load the VMCloud catalogue seed (idempotent); --reset puts seeded rows back to the seed's values."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Overwrite existing seeded rows (and their links) with the seed's values, discarding staff edits.",
        )

    def handle(self, *args: Any, reset: bool = False, **options: Any) -> None:
        report = catalogue_load_seed(actor=None, reset=reset)
        if options.get("verbosity", 1) >= 1:
            for bucket, counts in report.as_dict().items():
                summary = ", ".join(f"{model} {n}" for model, n in sorted(counts.items())) or "none"
                self.stdout.write(f"{bucket}: {summary}")
            self.stdout.write(self.style.SUCCESS("Catalogue loaded."))
