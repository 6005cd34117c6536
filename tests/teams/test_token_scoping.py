"""Token requests scope their reads from what authentication loaded with the token (one query):
the holder's role and the token's project limit. The result must equal the general path's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.teams import ratelimit
from apps.teams.access import bind_token, project_list_for_actor, token_auth_queryset
from apps.teams.choices import Permission, ProjectAccess, Role, TokenScope
from apps.teams.models import ApiToken, Membership
from apps.teams.services import organisation_suspend, project_create, project_grant_set
from tests.factories import ApiTokenFactory, UserFactory

PERMISSIONS = list(Permission)


def _visible(token: ApiToken, *, fast: bool, permission: Permission, include_suspended: bool) -> set[int]:
    """Project ids the token's holder sees, with the token loaded as authentication does (fast) or plainly."""
    loaded = token_auth_queryset().get(pk=token.pk) if fast else ApiToken.objects.get(pk=token.pk)
    user = loaded.user
    bind_token(user, loaded)
    qs = project_list_for_actor(actor=user, permission=permission, include_suspended=include_suspended)
    return set(qs.values_list("pk", flat=True))


def _assert_same_as_general_path(token: ApiToken) -> None:
    for permission in PERMISSIONS:
        for include_suspended in (False, True):
            fast = _visible(token, fast=True, permission=permission, include_suspended=include_suspended)
            slow = _visible(token, fast=False, permission=permission, include_suspended=include_suspended)
            assert fast == slow, (permission, include_suspended)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BILLING, Role.MEMBER, Role.VIEWER])
@pytest.mark.parametrize("scope", [TokenScope.READ_ONLY, TokenScope.READ_WRITE])
def test_role_tokens_see_what_the_general_path_sees(personas, role, scope):
    project_create(organisation=personas.org, name="Staging", actor=personas.owner)
    token = ApiTokenFactory(user=personas.persona(role), organisation=personas.org, scope=scope)
    _assert_same_as_general_path(token)


def test_project_limited_token(personas):
    staging = project_create(organisation=personas.org, name="Staging", actor=personas.owner)
    token = ApiTokenFactory(user=personas.member, organisation=personas.org, projects=[staging])
    assert _visible(token, fast=True, permission=Permission.RESOURCES_READ, include_suspended=False) == {staging.pk}
    _assert_same_as_general_path(token)


def test_guest_token_keeps_to_its_grant(personas):
    staging = project_create(organisation=personas.org, name="Staging", actor=personas.owner)
    contractor = UserFactory()
    project_grant_set(project=staging, user=contractor, access=ProjectAccess.WRITE, actor=personas.owner)
    token = ApiTokenFactory(user=contractor, organisation=personas.org)
    assert _visible(token, fast=True, permission=Permission.RESOURCES_READ, include_suspended=False) == {staging.pk}
    _assert_same_as_general_path(token)


def test_holder_removed_from_the_organisation_sees_nothing(personas):
    token = ApiTokenFactory(user=personas.member, organisation=personas.org)
    Membership.objects.filter(user=personas.member, organisation=personas.org).delete()
    assert _visible(token, fast=True, permission=Permission.RESOURCES_READ, include_suspended=True) == set()
    _assert_same_as_general_path(token)


def test_suspended_organisation(personas):
    token = ApiTokenFactory(user=personas.owner, organisation=personas.org)
    organisation_suspend(organisation=personas.org, reason="unpaid", actor=None)
    assert _visible(token, fast=True, permission=Permission.RESOURCES_READ, include_suspended=False) == set()
    _assert_same_as_general_path(token)


def test_token_list_request_makes_one_query_for_the_token(personas):
    """Token, holder's role and project limit in one query; then the visible project ids; no M2M query."""
    staging = project_create(organisation=personas.org, name="Staging", actor=personas.owner)
    token = ApiTokenFactory(user=personas.member, organisation=personas.org, projects=[staging])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    client.get("/api/v1/instances/")  # warm caches; touches last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/instances/").status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    # token (with the holder's role and the project limit as subqueries), visible project ids, count
    # (no instances: the page is not read; tests/instances covers the count and the page)
    assert len(sql) == 3, sql
    assert sql[0].startswith('SELECT "teams_apitoken"."id"')
    assert sql[1].startswith('SELECT "teams_project"."id"')
    assert sql[2].startswith("SELECT COUNT")


def test_rate_limit_script_survives_a_script_flush(db, settings):
    """EVALSHA: Redis forgetting the script (restart, SCRIPT FLUSH) reloads it, still one count per hit."""
    if not getattr(settings, "REDIS_URL", ""):
        pytest.skip("no Redis")
    user = UserFactory()
    buckets = ratelimit.buckets_for(user, "127.0.0.1")
    first = ratelimit.hit(buckets)
    ratelimit._redis(settings.REDIS_URL).script_flush()
    second = ratelimit.hit(buckets)
    assert second.remaining == first.remaining - 1
