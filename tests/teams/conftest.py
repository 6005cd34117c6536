"""Personas for teams tests: one organisation ("acme") with an owner, admin, billing,
member and viewer, plus an outsider who owns another organisation ("globex")."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from apps.teams.choices import Role
from apps.teams.models import Organisation, Project
from apps.teams.services import organisation_create
from tests.factories import UserFactory, member


@dataclass
class World:
    org: Organisation
    project: Project
    owner: object
    admin: object
    billing: object
    member: object
    viewer: object
    other_org: Organisation
    other_project: Project
    outsider: object

    def persona(self, role: str):
        return {
            Role.OWNER: self.owner,
            Role.ADMIN: self.admin,
            Role.BILLING: self.billing,
            Role.MEMBER: self.member,
            Role.VIEWER: self.viewer,
        }[role]


@pytest.fixture
def world(db) -> World:
    owner = UserFactory(email="owner@acme.test")
    org = organisation_create(name="Acme", owner=owner, actor=owner)
    outsider = UserFactory(email="outsider@globex.test")
    other = organisation_create(name="Globex", owner=outsider, actor=outsider)
    return World(
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
    )


@pytest.fixture
def owner(world):
    return world.owner


@pytest.fixture
def outsider(world):
    return world.outsider
