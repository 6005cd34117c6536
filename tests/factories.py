"""factory_boy factories shared by every app's tests: users, organisations, projects, memberships, tokens,
the personas every app's tests act as (``personas_create``, served by the ``personas`` fixture) and the
shop they order from (``shop_create``, served by the ``shop`` fixture), and ``server_row``: a server row of
the personas' organisation placed on the shop's cluster.

Organisations built here have no default project unless asked; use
``organisation_with_owner`` (the real service) when the default project matters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.accounts.models import User
from apps.catalogue.choices import FamilyKind
from apps.catalogue.models import Datacentre, Offer, OsImage
from apps.instances.models import Instance
from apps.teams.choices import Role, TokenScope
from apps.teams.models import ApiToken, Membership, Organisation, Project
from apps.teams.rules import tokens
from tests.infrastructure.factories import FamilyFactory, GpuModelFactory, OfferFactory, envelopes, fleet


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct-horse-battery")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} SAS")
    country = "FR"
    billing_email = factory.Sequence(lambda n: f"billing{n}@example.com")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token row; the clear token is on ``token.plaintext`` (only tests ever hold it)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"token {n}")
    scope = TokenScope.READ_WRITE
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        new = tokens.generate_api_token()
        projects = kwargs.pop("projects", None)
        obj = super()._create(model_class, *args, prefix=new.prefix, secret_hash=new.secret_hash, **kwargs)
        if projects:
            obj.projects.set(projects)
        obj.plaintext = new.token
        return obj


def organisation_with_owner(owner=None, *, name: str = "Acme") -> Organisation:
    """A real organisation (default project, owner membership) built through the service."""
    from apps.teams.services import organisation_create

    owner = owner or UserFactory()
    return organisation_create(name=name, owner=owner, actor=owner)


def member(organisation: Organisation, role: str = Role.MEMBER, **user_fields):
    """A new user with ``role`` in ``organisation``."""
    user = UserFactory(**user_fields)
    MembershipFactory(organisation=organisation, user=user, role=role)
    return user


@dataclass(frozen=True)
class Personas:
    """Who acts in a test (``docs/dev/style.md#tests``): one user per role of one organisation, an outsider, staff.

    * ``org``: "Acme", made by the real service (``organisation_create``), so it has its default
      ``project`` and its owner's membership, as a sign-up leaves them.
    * ``owner``, ``admin``, ``billing``, ``member``, ``viewer``: a user of Acme with that role
      (``owner@acme.test``, ``admin@acme.test`` …); ``persona(role)`` picks one by ``Role``.
    * ``outsider``: the owner of another organisation, ``other_org`` ("Globex", ``outsider@globex.test``),
      with its default ``other_project``: what an outsider may reach is the tenant-isolation question.
    * ``staff``: back-office staff (``is_staff``, superuser), member of no organisation.

    No API token is made here: a test makes the one it needs (``ApiTokenFactory``), with the holder,
    scope and projects it is about. Users have the password ``correct-horse-battery``.
    """

    org: Organisation
    project: Project
    owner: User
    admin: User
    billing: User
    member: User
    viewer: User
    other_org: Organisation
    other_project: Project
    outsider: User
    staff: User

    def persona(self, role: str) -> User:
        """The user of ``org`` who holds ``role``."""
        return {
            Role.OWNER: self.owner,
            Role.ADMIN: self.admin,
            Role.BILLING: self.billing,
            Role.MEMBER: self.member,
            Role.VIEWER: self.viewer,
        }[role]


def personas_create() -> Personas:
    """Build the personas (see ``Personas``); the ``personas`` fixture of ``tests/conftest.py`` serves them."""
    owner = UserFactory(email="owner@acme.test")
    org = organisation_with_owner(owner, name="Acme")
    outsider = UserFactory(email="outsider@globex.test")
    other = organisation_with_owner(outsider, name="Globex")
    return Personas(
        org=org,
        project=org.projects.get(is_default=True),
        owner=owner,
        admin=member(org, Role.ADMIN, email="admin@acme.test"),
        billing=member(org, Role.BILLING, email="billing@acme.test"),
        member=member(org, Role.MEMBER, email="member@acme.test"),
        viewer=member(org, Role.VIEWER, email="viewer@acme.test"),
        other_org=other,
        other_project=other.projects.get(is_default=True),
        outsider=outsider,
        staff=UserFactory(email="backoffice@vmcloud.test", is_staff=True, is_superuser=True),
    )


@dataclass(frozen=True)
class Shop:
    """What a customer can order, for the ordering tests; who orders is ``Personas``.

    * ``dc``: datacentre PAR-1 with ``fleet`` (``tests.infrastructure.factories.fleet``: one cluster,
      ``nodes`` nodes (2) with 2 GPUs of one model each, a plain and a GPU-ready template, IP pools),
      so placement succeeds; every capacity envelope at 1.
    * ``image``: the OS image of the fleet's templates.
    * ``vps``: VPS-TEST, a virtual machine at 9.99 a month (0.0137 an hour).
    * ``gpu``: GPU-TEST, a virtual machine with one GPU at 80.00 a month (0.39 an hour).
    * ``service``: WEB-TEST, a managed service (staff fulfil it) at 4.99 a month (0.0068 an hour).
    """

    dc: Datacentre
    image: OsImage
    vps: Offer
    gpu: Offer
    service: Offer
    fleet: dict[str, Any]


def shop_create(*, nodes: int = 2) -> Shop:
    """Build the shop (see ``Shop``); the ``shop`` fixture of ``tests/conftest.py`` serves it."""
    gpu_model = GpuModelFactory()
    built = fleet(nodes=nodes, gpus_per_node=2, gpu_model=gpu_model)
    envelopes(gpu={gpu_model: "1"})
    vps_family = FamilyFactory(slug="vps", name="VPS")
    service_family = FamilyFactory(slug="web-hosting", name="Web hosting", kind=FamilyKind.MANAGED_SERVICE)
    vps = OfferFactory(
        family=vps_family,
        code="VPS-TEST",
        vcpu=2,
        ram_gb=4,
        disk_gb=50,
        price_monthly=Decimal("9.99"),
        price_hourly=Decimal("0.0137"),
    )
    gpu = OfferFactory(
        code="GPU-TEST",
        vcpu=8,
        ram_gb=32,
        disk_gb=200,
        gpu_model=gpu_model,
        gpu_count=1,
        price_monthly=Decimal("80.00"),
        price_hourly=Decimal("0.390000"),
    )
    service = OfferFactory(
        family=service_family,
        code="WEB-TEST",
        vcpu=None,
        ram_gb=None,
        disk_gb=None,
        price_monthly=Decimal("4.99"),
        price_hourly=Decimal("0.0068"),
    )
    return Shop(dc=built["dc"], image=built["image"], vps=vps, gpu=gpu, service=service, fleet=built)


def server_row(
    personas: Personas,
    shop: Shop,
    *,
    name: str = "web-1",
    status: str = "running",
    vmid: int | None = 100_500,
    **fields: Any,
) -> Instance:
    """A server row of Acme's default project, a VPS-TEST in PAR-1 on the shop's cluster and first node.

    Written straight to the table: no order, no reservation, no Proxmox behind it (the tests that use it
    never run the provisioning task). It costs the offer's 9.99 a month (0.0137 an hour) and was created by
    ``personas.owner``. ``fields`` set any other column or replace one of these (``ipv4``, ``labels``,
    ``organisation``/``project`` of another tenant, ``created_by=None`` …).
    """
    values: dict[str, Any] = {
        "organisation": personas.org,
        "project": personas.project,
        "name": name,
        "offer": shop.vps,
        "datacentre": shop.dc,
        "image": shop.image,
        "status": status,
        "cluster": shop.fleet["cluster"],
        "node_name": shop.fleet["nodes"][0].name,
        "vmid": vmid,
        "price_hourly": Decimal("0.0137"),
        "price_monthly": Decimal("9.99"),
        "created_by": personas.owner,
    }
    values.update(fields)
    return Instance.objects.create(**values)
