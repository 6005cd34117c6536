"""Target health read from HAProxy's runtime API, as HAProxy reports it and unknown otherwise.

``data/`` holds the answers of Debian's HAProxy 2.6 to ``show stat`` and ``show servers state``
for a backend with a server up, one down (connection refused), one without checks, one in
maintenance (``disabled``) and one draining (``set server … state drain``); the live tests
(test_live.py) read a running HAProxy through the same parser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.loadbalancers.rules.health import (
    Health,
    ServerHealth,
    health_from_servers_state,
    health_from_show_stat,
    target_health,
)

DATA = Path(__file__).parent / "data"
EXPECTED = {
    "up1": Health.UP,
    "down1": Health.DOWN,
    "nock": Health.UNKNOWN,
    "mnt": Health.MAINT,
    "drn": Health.MAINT,
}


@pytest.mark.parametrize(
    ("parse", "sample"),
    [(health_from_show_stat, "show_stat.csv"), (health_from_servers_state, "show_servers_state.txt")],
    ids=["show-stat", "show-servers-state"],
)
def test_each_server_state_as_haproxy_reports_it(parse, sample):
    rows = parse((DATA / sample).read_text())
    assert {r.server: r.health for r in rows} == EXPECTED
    assert {r.backend for r in rows} == {"be_80"}  # FRONTEND and BACKEND rows are not servers


def test_show_stat_keeps_haproxys_words():
    rows = {r.server: r for r in health_from_show_stat((DATA / "show_stat.csv").read_text())}
    assert rows["down1"].detail == "DOWN; Layer4 connection problem"


@pytest.mark.parametrize(
    ("status", "health"),
    [
        ("UP", Health.UP),
        ("UP 1/3", Health.UP),  # failing, not yet taken out
        ("DOWN", Health.DOWN),
        ("DOWN 1/2", Health.DOWN),  # recovering, not yet put back
        ("NOLB", Health.DOWN),
        ("MAINT", Health.MAINT),
        ("MAINT (via be/srv)", Health.MAINT),
        ("DRAIN", Health.MAINT),
        ("no check", Health.UNKNOWN),
        ("SOMETHING NEW", Health.UNKNOWN),
    ],
)
def test_show_stat_status_words(status, health):
    text = f"# pxname,svname,status,type\nbe_80,srv,{status},2\n"
    assert health_from_show_stat(text) == [ServerHealth("be_80", "srv", health, status)]


@pytest.mark.parametrize("text", ["", "Unknown command\n", "1\n", "garbage,with,commas\nbe_80,srv,UP,2\n"])
def test_unreadable_output_reports_nothing(text):
    assert health_from_show_stat(text) == []
    assert health_from_servers_state(text) == []


def test_a_target_folds_its_backends_and_is_unknown_when_not_reported():
    rows = [
        ServerHealth("be_80", "a", Health.UP),
        ServerHealth("be_443", "a", Health.UP),
        ServerHealth("be_80", "b", Health.UP),
        ServerHealth("be_443", "b", Health.DOWN),
        ServerHealth("be_80", "c", Health.MAINT),
        ServerHealth("be_443", "c", Health.UP),
        ServerHealth("be_80", "d", Health.UP),
        ServerHealth("be_443", "d", Health.UNKNOWN),
        ServerHealth("stats", "e", Health.UP),  # not one of the load balancer's backends
    ]
    assert target_health(rows, ["a", "b", "c", "d", "e", "f"]) == {
        "a": Health.UP,
        "b": Health.DOWN,
        "c": Health.MAINT,
        "d": Health.UNKNOWN,
        "e": Health.UNKNOWN,
        "f": Health.UNKNOWN,
    }
