"""Registry for the tenant-isolation walk (tests/teams/test_tenant_isolation.py).

The walk visits EVERY route under /api/v1/. For each URL keyword argument it
needs an object of a given organisation: register a builder here when you add
a route with a new keyword (``instance_id``, ``order_id`` …). A builder takes
the organisation and the ``personas`` (``tests.factories.Personas``) and returns the value to put in
the URL (usually a primary key), creating the object if needed.

Routes whose view allows anonymous access (public catalogue) are skipped:
they hold no tenant data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apps.teams.choices import ProjectAccess, Role
from apps.teams.models import Membership, Organisation

Builder = Callable[[Organisation, Any], Any]


def _org(org: Organisation, personas: Any) -> Any:
    return org.pk


def _member(org: Organisation, personas: Any) -> Any:
    return (
        Membership.objects.filter(organisation=org)
        .exclude(role=Role.OWNER)
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
        or Membership.objects.filter(organisation=org).values_list("pk", flat=True).first()
    )


def _invitation(org: Organisation, personas: Any) -> Any:
    from apps.teams.services import invitation_create

    owner = Membership.objects.filter(organisation=org, role=Role.OWNER).first().user  # type: ignore[union-attr]
    invitation, _token = invitation_create(
        organisation=org, email=f"invitee-{org.pk}@example.net", role=Role.MEMBER, actor=owner
    )
    return invitation.pk


def _project(org: Organisation, personas: Any) -> Any:
    from apps.teams.services import project_create

    return project_create(organisation=org, name=f"Extra {org.slug}", actor=None).pk


def _grant_user(org: Organisation, personas: Any) -> Any:
    from apps.teams.services import project_grant_set
    from tests.factories import UserFactory

    project = org.projects.get(is_default=True)
    contractor = UserFactory(email=f"contractor-{org.pk}@example.net")
    owner = Membership.objects.filter(organisation=org, role=Role.OWNER).first().user  # type: ignore[union-attr]
    project_grant_set(project=project, user=contractor, access=ProjectAccess.WRITE, actor=owner)
    return contractor.pk


def _token(org: Organisation, personas: Any) -> Any:
    from tests.factories import ApiTokenFactory

    owner = Membership.objects.filter(organisation=org, role=Role.OWNER).first().user  # type: ignore[union-attr]
    return ApiTokenFactory(user=owner, organisation=org).pk


def _order(org: Organisation, personas: Any) -> Any:
    """A managed-service order (no fleet needed) of the organisation, placed by its owner."""
    from apps.catalogue import choices as catalogue_choices
    from apps.orders.services import order_place
    from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory

    dc = DatacentreFactory(code="ISO-1")
    family = FamilyFactory(slug="iso-service", name="Service", kind=catalogue_choices.FamilyKind.MANAGED_SERVICE)
    offer = OfferFactory(family=family, code=f"ISO-SVC-{org.pk}", vcpu=None, ram_gb=None, disk_gb=None)
    offer.datacentres.add(dc)
    owner = Membership.objects.filter(organisation=org, role=Role.OWNER).first().user  # type: ignore[union-attr]
    order = order_place(
        actor=owner,
        organisation=org,
        project=org.projects.get(is_default=True),
        offer=offer,
        datacentre=dc,
        image=None,
        name=f"svc-{org.slug}",
    )
    return order.public_id


def _owner(org: Organisation) -> Any:
    return Membership.objects.filter(organisation=org, role=Role.OWNER).first().user  # type: ignore[union-attr]


def _instance_row(org: Organisation) -> Any:
    """A stopped instance row of the organisation (no Proxmox needed: denials happen before any call)."""
    from decimal import Decimal

    from apps.instances.models import Instance
    from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory, OsImageFactory

    existing = Instance.objects.filter(organisation=org).first()
    if existing is not None:
        return existing
    return Instance.objects.create(
        organisation=org,
        project=org.projects.get(is_default=True),
        name=f"iso-{org.slug}",
        offer=OfferFactory(family=FamilyFactory(slug="vps", name="VPS"), code=f"ISO-VPS-{org.pk}"),
        datacentre=DatacentreFactory(code="ISO-1"),
        image=OsImageFactory(slug="ubuntu-24.04"),
        status="stopped",
        price_hourly=Decimal("0.0397"),
        price_monthly=Decimal("29.00"),
        created_by=_owner(org),
    )


def _instance(org: Organisation, personas: Any) -> Any:
    return _instance_row(org).public_id


def _action_name(org: Organisation, personas: Any) -> Any:
    return "start"


def _action(org: Organisation, personas: Any) -> Any:
    from apps.instances.models import Action

    instance = _instance_row(org)
    return Action.objects.create(instance=instance, organisation=org, type="start", status="success").public_id


def _snapshot(org: Organisation, personas: Any) -> Any:
    from apps.instances.models import Snapshot

    instance = _instance_row(org)
    return Snapshot.objects.create(instance=instance, name=f"snap-{org.slug}", proxmox_name=f"snap{org.pk}").public_id


def _public_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def _ssh_key(org: Organisation, personas: Any) -> Any:
    from apps.instances.services import ssh_key_create

    key = ssh_key_create(organisation=org, name=f"key-{org.slug}", public_key=_public_key(), actor=_owner(org))
    return key.public_id


def _budget(org: Organisation, personas: Any) -> Any:
    from apps.billing.services import budget_create

    budget, _secret = budget_create(organisation=org, actor=None, name=f"budget-{org.slug}", amount="100")
    return budget.public_id


def _payment_method(org: Organisation, personas: Any) -> Any:
    """A saved card of the organisation (dj-stripe rows only: no Stripe call)."""
    from djstripe.models import Customer, PaymentMethod

    from apps.billing.services import billing_account_for

    customer, _created = Customer.objects.get_or_create(
        id=f"cus_iso_{org.pk}", defaults={"subscriber": org, "livemode": False, "stripe_data": {}}
    )
    account = billing_account_for(organisation=org)
    account.stripe_customer = customer
    account.save(update_fields=["stripe_customer"])
    method, _created = PaymentMethod.objects.get_or_create(
        id=f"pm_iso_{org.pk}",
        defaults={"customer": customer, "livemode": False, "stripe_data": {"type": "card", "card": {"last4": "4242"}}},
    )
    return method.id


def _issued_invoice(org: Organisation) -> Any:
    """An issued (open) invoice of the organisation, written directly (no usage or Stripe needed)."""
    from datetime import date
    from decimal import Decimal

    from apps.billing.models import Invoice

    return Invoice.objects.get_or_create(
        organisation=org,
        period_start=date(2026, 1, 1),
        defaults={
            "period_end": date(2026, 1, 31),
            "number": f"ISO-{org.pk}-000001",
            "status": "open",
            "buyer_name": org.name,
            "subtotal": Decimal("10.00"),
            "net_total": Decimal("10.00"),
            "total": Decimal("10.00"),
            "amount_due": Decimal("10.00"),
        },
    )[0]


def _invoice(org: Organisation, personas: Any) -> Any:
    return _issued_invoice(org).public_id


def _credit_note(org: Organisation, personas: Any) -> Any:
    from decimal import Decimal

    from django.utils import timezone

    from apps.billing.models import CreditNote

    invoice = _issued_invoice(org)
    note, _created = CreditNote.objects.get_or_create(
        number=f"ISO-CN-{org.pk}",
        defaults={
            "invoice": invoice,
            "organisation": org,
            "kind": "reduction",
            "reason": "probe",
            "net_amount": Decimal("1.00"),
            "vat_amount": Decimal("0"),
            "total": Decimal("1.00"),
            "issued_at": timezone.now(),
        },
    )
    return note.public_id


def _volume(org: Organisation, personas: Any) -> Any:
    """A detached volume row of the organisation (no Proxmox needed: denials happen before any call)."""
    from decimal import Decimal

    from apps.volumes.models import Volume
    from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory

    existing = Volume.objects.filter(organisation=org).first()
    if existing is not None:
        return existing.public_id
    tier = OfferFactory(
        family=FamilyFactory(slug="storage", name="Storage"),
        code=f"ISO-STORAGE-{org.pk}",
        vcpu=None,
        ram_gb=None,
        disk_gb=None,
        price_monthly=Decimal("0.15"),
    )
    return Volume.objects.create(
        organisation=org,
        project=org.projects.get(is_default=True),
        name=f"vol-{org.slug}",
        tier=tier,
        size_gb=10,
        datacentre=DatacentreFactory(code="ISO-1"),
        status="available",
        price_hourly=Decimal("0.002055"),
        price_monthly=Decimal("1.50"),
        created_by=_owner(org),
    ).public_id


# URL keyword → builder of a value belonging to the given organisation.
OBJECT_BUILDERS: dict[str, Builder] = {
    "org_id": _org,
    "member_id": _member,
    "invitation_id": _invitation,
    "project_id": _project,
    "user_id": _grant_user,
    "token_id": _token,
    "order_id": _order,
    "instance_id": _instance,
    "action": _action_name,
    "action_id": _action,
    "snapshot_id": _snapshot,
    "key_id": _ssh_key,
    "budget_id": _budget,
    "method_id": _payment_method,
    "invoice_id": _invoice,
    "credit_note_id": _credit_note,
    "volume_id": _volume,
}

# Request bodies for writes that reference objects in the body rather than the
# URL, keyed by URL name; ``{other}`` values are replaced by the other
# organisation's builder results.
WRITE_BODIES: dict[str, dict[str, Any]] = {
    "api:token-list": {"organisation": "{org_id}", "name": "probe", "scope": "read_write"},
    "api:invitation-list": {"email": "probe@example.net", "role": "member", "project": "{project_id}"},
    "api:project-grant-list": {"email": "probe@example.net", "access": "write"},
    "api:organisation-transfer": {"user_id": "{user_id}"},
    "api:ssh-key-list": {"organisation_id": "{org_id}", "name": "probe", "public_key": _public_key()},
    "api:order-list": {"project": "{project_id}", "offer": "NONE", "datacentre": "NONE", "name": "probe"},
    "api:billing-budget-list": {"organisation": "{org_id}", "name": "probe", "amount": "10"},
    "api:billing-notice-read": {"organisation": "{org_id}"},
    "api:billing-payment-method-detail": {"organisation": "{org_id}"},
    "api:billing-payment-method-default": {"organisation": "{org_id}"},
    "api:billing-checkout-session-list": {"organisation": "{org_id}", "mode": "setup"},
    "api:volume-list": {
        "organisation_id": "{org_id}",
        "name": "probe",
        "tier": "NONE",
        "size_gb": 10,
        "datacentre": "NONE",
    },
}


def _merge_app_builders() -> None:
    """Add the builders and bodies of ``tests/<app>/isolation_builders.py`` (one module per app).

    Each app's tests register their own URL keywords there (``OBJECT_BUILDERS``,
    ``WRITE_BODIES``), so apps added side by side never edit this shared file.
    """
    import importlib
    from pathlib import Path

    tests_dir = Path(__file__).parent
    for package in sorted(p.name for p in tests_dir.iterdir() if (p / "isolation_builders.py").is_file()):
        module = importlib.import_module(f"tests.{package}.isolation_builders")
        for keyword, builder in getattr(module, "OBJECT_BUILDERS", {}).items():
            assert keyword not in OBJECT_BUILDERS, f"tests.{package}: URL keyword {keyword!r} already has a builder"
            OBJECT_BUILDERS[keyword] = builder
        WRITE_BODIES.update(getattr(module, "WRITE_BODIES", {}))


_merge_app_builders()
