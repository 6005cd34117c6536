"""Target health as HAProxy reports it, read from its runtime API's output (pure: text in, states out).

The platform asks the load balancer's stats socket (``show stat`` or ``show servers state``,
https://docs.haproxy.org/2.6/management.html#9.3) and shows each target's health as
HAProxy reports it: ``up``, ``down``, ``maint`` (in maintenance or draining: taking no new
traffic by an administrator's decision) or ``unknown`` (the target is not checked, not in
the output, or the output could not be read). Nothing is inferred beyond that.

A target is a server in one backend per forwarding rule (``be_<entry port>``, named after the
target, ``apps.loadbalancers.rules.haproxy``); ``target_health`` folds the backends into one state
per target: down if any backend has it down, else maint if any has it in maintenance, else up
if every backend has it up, else unknown.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Health(StrEnum):
    UP = "up"
    DOWN = "down"
    MAINT = "maint"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ServerHealth:
    """One server of one backend as HAProxy reports it; ``detail`` is HAProxy's own words (status, last check)."""

    backend: str
    server: str
    health: Health
    detail: str = ""


# ``show stat`` rows of type 2 are servers; FRONTEND/BACKEND rows are the proxies themselves.
_STAT_SERVER_TYPE = "2"
# ``show servers state`` admin bits (HAProxy's server-t.h): forced, inherited, configured, resolution
# and hostname maintenance (0x01 0x02 0x04 0x20 0x40), forced and inherited drain (0x08 0x10).
_ADMIN_MAINT_OR_DRAIN = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x40
# ``srv_check_state`` bit CHK_ST_CONFIGURED (check-t.h): the server has a health check.
_CHECK_CONFIGURED = 0x02
# ``srv_op_state``: 0 stopped, 1 starting (slow start), 2 running, 3 stopping (NOLB).
_OP_UP = {1, 2}


def _stat_health(status: str) -> Health:
    """``show stat``'s ``status`` column: "UP", "UP 1/3" (failing, not yet down), "DOWN", "DOWN 1/2", "MAINT", ..."""
    word = status.strip().split(" ", 1)[0].upper()
    if word in ("MAINT", "DRAIN"):
        return Health.MAINT
    if word == "UP":
        return Health.UP
    if word in ("DOWN", "NOLB"):
        return Health.DOWN
    return Health.UNKNOWN  # "no check", or a word this parser does not know


def health_from_show_stat(text: str) -> list[ServerHealth]:
    """The servers in ``show stat``'s CSV (its header line starts with ``# pxname,svname,``)."""
    lines = text.lstrip().splitlines()
    if not lines or not lines[0].startswith("# pxname,"):
        return []
    reader = csv.DictReader(io.StringIO("\n".join([lines[0][2:], *lines[1:]])))
    rows: list[ServerHealth] = []
    for row in reader:
        if row.get("type") != _STAT_SERVER_TYPE or not row.get("pxname") or not row.get("svname"):
            continue
        status = row.get("status") or ""
        detail = "; ".join(d for d in (status, row.get("check_desc") or "") if d)
        rows.append(ServerHealth(row["pxname"], row["svname"], _stat_health(status), detail))
    return rows


def health_from_servers_state(text: str) -> list[ServerHealth]:
    """The servers in ``show servers state`` (version 1: a ``1`` line, a ``# be_id be_name ...`` header, rows)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or lines[0].strip() != "1" or not lines[1].startswith("# "):
        return []
    columns = lines[1][2:].split()
    rows: list[ServerHealth] = []
    for line in lines[2:]:
        row = dict(zip(columns, line.split(), strict=False))
        try:
            backend, server = row["be_name"], row["srv_name"]
            op_state, admin_state = int(row["srv_op_state"]), int(row["srv_admin_state"])
            check_state = int(row["srv_check_state"])
        except (KeyError, ValueError):
            continue
        if admin_state & _ADMIN_MAINT_OR_DRAIN:
            health = Health.MAINT
        elif not check_state & _CHECK_CONFIGURED:
            health = Health.UNKNOWN
        else:
            health = Health.UP if op_state in _OP_UP else Health.DOWN
        rows.append(ServerHealth(backend, server, health, f"op_state={op_state} admin_state={admin_state}"))
    return rows


def target_health(rows: Iterable[ServerHealth], targets: Iterable[str]) -> dict[str, Health]:
    """One state per target name (every name in ``targets``; unknown when HAProxy does not report it)."""
    by_target: dict[str, list[Health]] = {}
    for row in rows:
        if row.backend.startswith("be_"):
            by_target.setdefault(row.server, []).append(row.health)
    result: dict[str, Health] = {}
    for name in targets:
        states = by_target.get(name, [])
        if Health.DOWN in states:
            result[name] = Health.DOWN
        elif Health.MAINT in states:
            result[name] = Health.MAINT
        elif states and all(s == Health.UP for s in states):
            result[name] = Health.UP
        else:
            result[name] = Health.UNKNOWN
    return result
