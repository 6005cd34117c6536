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
from apps.catalogue.models import Offer
from apps.core.services import site_configure
from apps.floating_ips.services import floating_ip_offer_placeholder_ensure
from apps.infrastructure.models import Cluster, Node, Storage
from apps.infrastructure.services import cluster_storage_ensure
from apps.networks.services import network_zone_ensure
from apps.teams.services import personal_organisation_ensure

WELCOME_CREDIT = "Welcome credit (demo)"
# Block storage in the demo: the demo fleet has one shared Ceph pool per datacentre, so each of the four tiers is
# declared on it (production declares one storage per tier; docs/volumes.md, "For staff"), owned by one holder
# VMID outside the servers' range use (the one "Adding a cluster" grants).
DEMO_TIERS = ("STORAGE-SSD", "STORAGE-NVME", "STORAGE-EXTREME", "STORAGE-DEDICATED")
DEMO_VOLUME_STORAGE = "ceph-nvme"
DEMO_HOLDER_VMID = 899_999
DEMO_SDN_ZONE = "vmcnets"

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
        self._demo_cloud_around_servers()
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

    def _demo_cloud_around_servers(self) -> None:
        """What staff declare per cluster for volumes and private networks (issue 13), so both work out of the box.

        A storage per volume tier and a VXLAN SDN zone on every cluster of the fleet; the third switch, the
        datacentre firewall, is on in the demo fleet file itself (``firewall: true``: the simulator starts with it).
        """
        tiers = list(Offer.objects.filter(code__in=DEMO_TIERS))
        for cluster in Cluster.objects.order_by("name"):
            nodes = list(Node.objects.filter(cluster=cluster).order_by("name").values_list("name", flat=True))
            if not nodes:
                continue
            if Storage.objects.filter(cluster=cluster, name=DEMO_VOLUME_STORAGE, node__isnull=True).exists():
                for tier in tiers:
                    cluster_storage_ensure(
                        cluster=cluster,
                        tier=tier,
                        storage=DEMO_VOLUME_STORAGE,
                        node_name=nodes[0],
                        holder_vmid=DEMO_HOLDER_VMID,
                    )
            # VXLAN needs its peers (the nodes' addresses on the cluster network); the simulator takes any list.
            network_zone_ensure(
                cluster=cluster, name=DEMO_SDN_ZONE, zone_type="vxlan", options={"peers": "10.255.0.1,10.255.0.2"}
            )

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
