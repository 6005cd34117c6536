"""factory_boy factories shared by every app's tests: users, organisations, projects, memberships, tokens.

Organisations built here have no default project unless asked; use
``organisation_with_owner`` (the real service) when the default project matters.
"""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.teams import tokens
from apps.teams.choices import Role, TokenScope
from apps.teams.models import ApiToken, Membership, Organisation, Project


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
