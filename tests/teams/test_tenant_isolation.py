"""Tenant isolation: every /api/v1/ route, every role, against another organisation's objects.

Routes come from the URL resolver, so a new endpoint is walked automatically;
a new URL keyword needs a builder in ``tests/isolation.py`` (the test fails
and says so). Expectations:

* another organisation's object (in the URL, or in the body) → 404 and no
  foreign data in the response; the other organisation is left unchanged;
* lists never contain foreign data;
* viewers and read-only tokens get 403 on every write in their own organisation
  (a viewer's self-service on their own account is the only exception:
  leaving, answering an invitation, managing their own read-only tokens).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticatedOrReadOnly
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.instances.models import Action, Instance, Snapshot, SshKey
from apps.orders.models import Order
from apps.teams.choices import Role, TokenScope
from apps.teams.models import ApiToken, Invitation, Membership, Project
from tests.factories import ApiTokenFactory
from tests.isolation import OBJECT_BUILDERS, WRITE_BODIES

pytestmark = pytest.mark.django_db

KWARG = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
WRITE_METHODS = ("post", "put", "patch", "delete")
SELF_SERVICE = {
    ("api:organisation-leave", "post"),
    ("api:invitation-accept", "post"),
    ("api:invitation-decline", "post"),
    ("api:token-list", "post"),
    ("api:token-detail", "delete"),
}


def api_routes() -> list[tuple[str, str, Any]]:
    """(route, name, view class) for every route under /api/v1/."""
    found: list[tuple[str, str, Any]] = []

    def walk(patterns: list[Any], prefix: str, namespaces: list[str]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), [*namespaces, p.namespace] if p.namespace else namespaces)
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if route.startswith("api/v1/"):
                    name = ":".join([*namespaces, p.name or route])
                    found.append((route, name, getattr(p.callback, "view_class", None) or p.callback.cls))

    walk(get_resolver().url_patterns, "", [])
    return found


def is_public(view: Any) -> bool:
    return any(c in (AllowAny, IsAuthenticatedOrReadOnly) for c in getattr(view, "permission_classes", []))


def is_staff_only(view: Any) -> bool:
    return IsAdminUser in getattr(view, "permission_classes", [])


def tenant_routes() -> list[tuple[str, str, Any]]:
    return [r for r in api_routes() if not is_public(r[2]) and not is_staff_only(r[2])]


def methods_of(view: Any) -> list[str]:
    return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]


class Values:
    """URL keyword values of one organisation, built lazily through tests/isolation.py."""

    def __init__(self, org, personas) -> None:
        self.org, self.personas, self.cache = org, personas, {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.cache:
            if name not in OBJECT_BUILDERS:
                pytest.fail(f"URL keyword <{name}> has no builder: register one in tests/isolation.py")
            self.cache[name] = OBJECT_BUILDERS[name](self.org, self.personas)
        return self.cache[name]


class _Missing:
    def __getitem__(self, name: str) -> int:
        return 987654321


MISSING: Any = _Missing()


def fill(route: str, values: Values, own: Values | None = None) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m["name"]
        source = own if (own is not None and name == "org_id") else values
        return str(source[name])

    return "/" + KWARG.sub(repl, route)


def body_for(name: str, values: Values) -> dict[str, Any]:
    body = {}
    for key, value in WRITE_BODIES.get(name, {}).items():
        m = re.fullmatch(r"\{(\w+)\}", str(value))
        body[key] = values[m[1]] if m else value
    return body


def actors(personas) -> list[tuple[str, APIClient, str | None]]:
    """(label, client, token scope or None) for every role by session, plus owner tokens."""
    out = []
    for role in Role:
        client = APIClient()
        client.force_authenticate(personas.persona(role))
        out.append((f"{role} session", client, None))
    for scope in TokenScope:
        token = ApiTokenFactory(user=personas.owner, organisation=personas.org, scope=scope)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
        out.append((f"owner {scope} token", client, scope))
    return out


def snapshot(org) -> dict[str, Any]:
    return {
        "members": sorted(Membership.objects.filter(organisation=org).values_list("user_id", "role")),
        "projects": sorted(Project.objects.filter(organisation=org).values_list("id", "name", "description", "labels")),
        "invitations": sorted(Invitation.objects.filter(organisation=org).values_list("id", "status")),
        "tokens": sorted(ApiToken.objects.filter(organisation=org).values_list("id", "revoked_at")),
        "audit": AuditEvent.objects.filter(organisation_id=org.pk).count(),
        "org": type(org).objects.filter(pk=org.pk).values().get(),
        "instances": sorted(
            Instance.objects.filter(organisation=org).values_list("id", "name", "status", "delete_protection", "labels")
        ),
        "actions": Action.objects.filter(organisation=org).count(),
        "snapshots": sorted(Snapshot.objects.filter(instance__organisation=org).values_list("id", "name", "labels")),
        "ssh_keys": sorted(SshKey.objects.filter(organisation=org).values_list("id", "name", "labels")),
        "orders": sorted(Order.objects.filter(organisation=org).values_list("id", "state")),
    }


def foreign_markers(personas, other: Values) -> list[str]:
    markers = [personas.other_org.name, personas.other_org.slug, personas.outsider.email, "Extra globex"]
    markers += [f"invitee-{personas.other_org.pk}@", f"contractor-{personas.other_org.pk}@"]
    return markers


def assert_no_leak(response, markers: list[str], where: str) -> None:
    text = response.content.decode(errors="replace")
    for marker in markers:
        assert marker not in text, f"{where}: response leaks {marker!r}: {text[:300]}"


def expected_denial(response, scope: str | None, method: str) -> bool:
    if response.status_code == 404:
        return True
    if response.status_code == 403 and scope is not None:
        # Tokens are refused before any lookup, saying nothing about the object.
        return response.json()["error"]["code"] in {"token_read_only", "token_not_allowed"}
    return False


def test_every_api_route_is_walked(personas):
    routes = tenant_routes()
    names = {name for _route, name, _view in routes}
    assert {"api:organisation-detail", "api:member-detail", "api:token-detail", "api:audit-event-csv"} <= names
    # Every keyword of every tenant route has a builder.
    for route, _name, _view in routes:
        for m in KWARG.finditer(route):
            assert m["name"] in OBJECT_BUILDERS, f"register <{m['name']}> of {route} in tests/isolation.py"


def test_no_role_or_token_reaches_another_organisation(personas):
    other = Values(personas.other_org, personas)
    own = Values(personas.org, personas)
    routes = tenant_routes()
    # Build every foreign object first, so the snapshot covers them.
    for route, name, _view in routes:
        for m in KWARG.finditer(route):
            other[m["name"]]
        for value in WRITE_BODIES.get(name, {}).values():
            if m2 := re.fullmatch(r"\{(\w+)\}", str(value)):
                other[m2[1]]
    before = snapshot(personas.other_org)
    markers = foreign_markers(personas, other)
    checked = 0
    for label, client, scope in actors(personas):
        for route, name, view in routes:
            has_kwargs = bool(KWARG.search(route))
            for method in methods_of(view):
                call = getattr(client, method)
                if has_kwargs:
                    url = fill(route, other)
                    response = call(url, body_for(name, other), format="json")
                    where = f"{label} {method.upper()} {url}"
                    assert expected_denial(response, scope, method), f"{where}: {response.status_code}"
                    assert_no_leak(response, markers, where)
                    checked += 1
                    if "<int:org_id>" in route and len(KWARG.findall(route)) > 1:
                        # Own organisation, foreign object: indistinguishable from an id that does not exist.
                        url = fill(route, other, own=own)
                        response = call(url, body_for(name, other), format="json")
                        missing = call(fill(route, MISSING, own=own), body_for(name, other), format="json")
                        where = f"{label} {method.upper()} {url}"
                        assert response.status_code in (403, 404), f"{where}: {response.status_code}"
                        assert (response.status_code, response.json()["error"]["code"]) == (
                            missing.status_code,
                            missing.json()["error"]["code"],
                        ), f"{where}: differs from a missing id"
                        assert_no_leak(response, markers, where)
                        checked += 1
                else:
                    if (name, method) in SELF_SERVICE and method != "post":
                        continue
                    body = body_for(name, other) if method in WRITE_METHODS else None
                    response = (
                        call(route and "/" + route, body, format="json") if body is not None else call("/" + route)
                    )
                    where = f"{label} {method.upper()} /{route}"
                    assert response.status_code < 500, f"{where}: {response.status_code}"
                    if method in WRITE_METHODS:
                        assert response.status_code >= 400, f"{where} succeeded against another organisation"
                    assert_no_leak(response, markers, where)
                    checked += 1
    assert checked > 200
    assert snapshot(personas.other_org) == before


def test_viewers_and_read_only_tokens_get_403_on_every_write(personas):
    own = Values(personas.org, personas)
    routes = tenant_routes()
    viewer = APIClient()
    viewer.force_authenticate(personas.viewer)
    token = ApiTokenFactory(user=personas.owner, organisation=personas.org, scope=TokenScope.READ_ONLY)
    read_only = APIClient()
    read_only.credentials(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    for route, _name, _view in routes:
        for m in KWARG.finditer(route):
            own[m["name"]]
    before = snapshot(personas.org)
    writes = 0
    for label, client, is_token in (("viewer", viewer, False), ("read-only token", read_only, True)):
        for route, name, view in routes:
            for method in methods_of(view):
                if method not in WRITE_METHODS or (not is_token and (name, method) in SELF_SERVICE):
                    continue
                url = fill(route, own)
                response = getattr(client, method)(url, body_for(name, own), format="json")
                assert response.status_code == 403, f"{label} {method.upper()} {url}: {response.status_code}"
                writes += 1
    assert writes >= 20
    assert snapshot(personas.org) == before


def test_staff_routes_refuse_every_customer_role_and_token(personas):
    """Back-office routes (IsAdminUser) hold no tenant data and answer 403 to every customer."""
    routes = [r for r in api_routes() if is_staff_only(r[2])]
    checked = 0
    for label, client, _scope in actors(personas):
        for route, _name, view in routes:
            for method in methods_of(view):
                url = fill(route, MISSING)
                response = getattr(client, method)(url, {}, format="json")
                assert response.status_code == 403, f"{label} {method.upper()} {url}: {response.status_code}"
                checked += 1
    assert checked == len(actors(personas)) * sum(len(methods_of(v)) for _r, _n, v in routes)


def test_action_list_never_shows_another_organisations_actions(personas):
    """``GET /api/v1/actions/`` (and its filters) for every role and token: only the actor's own actions."""
    other = Values(personas.other_org, personas)
    own = Values(personas.org, personas)
    foreign = Action.objects.get(public_id=other["action_id"])
    mine = Action.objects.get(public_id=own["action_id"])
    foreign_instance = foreign.instance
    queries = [
        "",
        f"?resource_id={foreign_instance.public_id}",
        f"?resource_type=instance&resource_id={foreign_instance.public_id}",
        f"?organisation={personas.other_org.pk}",
        "?status=success&type=start&sort=created_at:desc",
    ]
    seen_mine = 0
    for label, client, _scope in actors(personas):
        for query in queries:
            response = client.get("/api/v1/actions/" + query)
            assert response.status_code == 200, f"{label} {query}: {response.status_code}"
            text = response.content.decode()
            assert str(foreign.public_id) not in text and str(foreign_instance.public_id) not in text, (
                f"{label} {query}: leaks another organisation's action"
            )
            seen_mine += str(mine.public_id) in text
    assert seen_mine > 0  # the list is not simply empty for everyone
    outsider = APIClient()
    outsider.force_authenticate(personas.outsider)
    assert str(mine.public_id) not in outsider.get("/api/v1/actions/").content.decode()
