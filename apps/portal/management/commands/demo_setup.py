"""Load the catalogue and demo data for `make run`, idempotently, and print the demo logins."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from apps.billing.choices import CreditKind
from apps.billing.models import CreditGrant
from apps.billing.services import credit_grant
from apps.core.services import site_configure
from apps.floating_ips.services import floating_ip_offer_placeholder_ensure
from apps.teams.services import personal_organisation_ensure

WELCOME_CREDIT = "Welcome credit (demo)"

DEMO_LOGINS = [
    # (email, password, is_staff, description)
    ("admin@vmcloud.test", "vmcloud-admin-demo", True, "staff: back office at /admin/"),
    ("demo@vmcloud.test", "vmcloud-demo-2026", False, "customer: portal"),
]


class Command(BaseCommand):
    help = "Load the catalogue and demo users (idempotent); --print-logins only prints them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--print-logins", action="store_true", help="Only print the demo logins.")

    def handle(self, *args: Any, print_logins: bool = False, **options: Any) -> None:
        if print_logins:
            for email, password, _staff, description in DEMO_LOGINS:
                self.stdout.write(f"    {description:<32} {email} / {password}")
            return
        # E-mails say "[VMCloud]" and link to SITE_URL, not example.com.
        site_configure()
        if "load_catalogue" in get_commands():
            call_command("load_catalogue", verbosity=0)
        if "fleet_bootstrap" in get_commands():
            # The demo fleet (60 EPYC servers, 85 GPUs) of the Procfile's simulator, imported from its
            # fleet file; the simulator's token is a development value, not a secret.
            call_command(
                "fleet_bootstrap",
                fleet="apps/pvesim/fleets/demo.yaml",
                api_base="https://127.0.0.1:8006",
                token="portal@pve!celery=0c9c4d0e-5d1f-4d5e-9a7e-pvesim-demo00",  # noqa: S106
                ca_file="var/pvesim/ca.pem",
                ip_pools=True,
            )
        # Floating IPs are priced by an add-on staff manage; the demo sells them at a marked placeholder.
        floating_ip_offer_placeholder_ensure()
        User = get_user_model()
        with transaction.atomic():
            for email, password, staff, _description in DEMO_LOGINS:
                user, created = User.objects.get_or_create(
                    email=email, defaults={"is_staff": staff, "is_superuser": staff}
                )
                if created:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                EmailAddress.objects.update_or_create(
                    user=user, email=email, defaults={"verified": True, "primary": True}
                )
                if not staff:
                    # As sign-up does: a personal organisation with a default project, so the
                    # demo customer can order straight away.
                    organisation = personal_organisation_ensure(user=user)
                    self._demo_billing(organisation)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _demo_billing(self, organisation: Any) -> None:
        """A French consumer with a welcome credit, so the billing pages show VAT and credits at once."""
        if not organisation.country:
            organisation.country = "FR"
            organisation.save(update_fields=["country", "updated_at"])
        if not CreditGrant.objects.filter(organisation=organisation, description=WELCOME_CREDIT).exists():
            credit_grant(
                organisation=organisation,
                kind=CreditKind.PROMOTIONAL,
                amount=Decimal("25.00"),
                description=WELCOME_CREDIT,
                expires_at=timezone.now() + timedelta(days=90),
                actor=None,
            )
