"""Rate limits: atomic under concurrency, sliding (no boundary burst), RateLimit-* headers, 429 with Retry-After."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
from rest_framework.test import APIClient

from apps.teams import ratelimit
from apps.teams.services import organisation_create
from tests.factories import ApiTokenFactory, UserFactory


@pytest.fixture
def tight_limits(settings):
    settings.API_RATE_LIMITS = {"token": (5, 60), "user": (50, 60), "anonymous": (5, 60)}
    return settings


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_requests_against_a_limit_of_five_let_exactly_five_through(live_server, tight_limits):
    owner = UserFactory()
    org = organisation_create(name="Burst", owner=owner, actor=owner)
    token = ApiTokenFactory(user=owner, organisation=org)
    # The window slides (apps/teams/ratelimit.py): wherever the burst falls on
    # the clock, exactly the limit passes, so the test no longer waits for the
    # start of a clock-aligned window (a boundary straddle is tested below).
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    retry_after: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        request = urllib.request.Request(  # noqa: S310 - loopback live_server
            f"{live_server.url}/api/v1/organisations/", headers={"Authorization": f"Bearer {token.plaintext}"}
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback live_server
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            if exc.code == 429:
                with lock:
                    retry_after.append(exc.headers["Retry-After"])
                assert json.loads(exc.read())["error"]["code"] == "rate_limited"
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=call) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 50
    assert statuses.count(200) == 5
    assert statuses.count(429) == 45
    assert all(1 <= int(value) <= 60 for value in retry_after)


@pytest.mark.django_db
def test_every_api_response_carries_ratelimit_headers(tight_limits):
    # A fresh client address: other tests of this process share the anonymous window.
    client = APIClient(REMOTE_ADDR=f"2001:db8::{uuid.uuid4().hex[:4]}")
    ok = client.get("/api/v1/catalogue/families/")
    assert ok["RateLimit-Limit"] == "5"
    assert ok["RateLimit-Remaining"] == "4"
    assert 1 <= int(ok["RateLimit-Reset"]) <= 60
    unauthenticated = client.get("/api/v1/organisations/")
    assert unauthenticated.status_code in (401, 403)
    assert "RateLimit-Remaining" in unauthenticated


@pytest.mark.django_db
def test_user_limit_spans_all_of_a_users_tokens(settings):
    settings.API_RATE_LIMITS = {"token": (100, 60), "user": (3, 60), "anonymous": (100, 60)}
    owner = UserFactory()
    org = organisation_create(name="Two tokens", owner=owner, actor=owner)
    first, second = ApiTokenFactory(user=owner, organisation=org), ApiTokenFactory(user=owner, organisation=org)
    statuses = []
    for token in (first, second, first, second):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
        statuses.append(client.get("/api/v1/organisations/").status_code)
    assert statuses == [200, 200, 200, 429]


def test_local_counter_is_atomic_without_redis(settings):
    settings.REDIS_URL = ""
    settings.API_RATE_LIMITS = {"anonymous": (5, 60)}
    bucket = ratelimit.Bucket("anonymous", f"local-{threading.get_ident()}")
    barrier = threading.Barrier(50)
    results: list[bool] = []

    def call() -> None:
        barrier.wait()
        results.append(ratelimit.hit([bucket]).allowed)

    threads = [threading.Thread(target=call) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 5


def _sleep_until_just_before_a_boundary(window: float, lead: float) -> None:
    """Sleep until ``lead`` seconds before the next multiple of ``window`` on the clock."""
    wait = (window - time.time() % window) - lead
    if wait < 0:
        wait += window
    time.sleep(wait)


@pytest.mark.parametrize("redis_url", ["redis", ""], ids=["redis", "in-process"])
def test_a_burst_straddling_a_clock_boundary_never_passes_more_than_the_limit(settings, redis_url):
    # A fixed window let `limit` requests pass just before a boundary of the
    # clock and `limit` more just after: twice the limit within a fraction of a
    # second. The sliding window counts the previous `window` seconds wherever
    # the clock is, so the second half of the burst is refused.
    if not redis_url:
        settings.REDIS_URL = ""
    limit, window = 5, 2
    settings.API_RATE_LIMITS = {"anonymous": (limit, window)}
    bucket = ratelimit.Bucket("anonymous", f"straddle-{uuid.uuid4().hex}")
    _sleep_until_just_before_a_boundary(window, lead=0.3)
    before = [ratelimit.hit([bucket]) for _ in range(limit)]
    assert all(d.allowed for d in before)
    time.sleep(0.5)  # now past the clock boundary
    after = [ratelimit.hit([bucket]) for _ in range(limit)]
    assert [d.allowed for d in after] == [False] * limit
    # The refusals tell the truth: no quota left, and it frees when the first request leaves the window.
    assert after[-1].remaining == 0
    assert 1 <= after[-1].reset <= window
    # Once the whole burst has left the window, the full limit is available again.
    time.sleep(window - 0.5 + 0.1)
    again = [ratelimit.hit([bucket]) for _ in range(limit + 1)]
    assert [d.allowed for d in again] == [True] * limit + [False]
