"""Atomic sliding-window rate limits, counted in Redis (or in-process without Redis).

DRF's cache throttles read, then write the request history: under
concurrency several requests read the same history and all pass (11–15 of 50
simultaneous requests got through a limit of 5, see docs/dev/dependencies.md#drf-throttles).
A fixed window (one counter per clock-aligned window) is atomic but lets
``limit`` requests pass just before a boundary and ``limit`` more just after.

Here each bucket is a sliding log: a Redis sorted set of the accepted
requests' times. One Lua script, which Redis runs atomically
(https://redis.io/docs/latest/develop/interact/programmability/eval-intro/),
drops entries older than the window, counts the rest in every bucket, and
records the request in all of them only if every bucket has room: in any
``window`` seconds, wherever the clock is, at most ``limit`` requests pass, and
a refused request uses no quota. Times come from Redis (``TIME``), so web
processes with skewed clocks share one timeline. Memory: at most ``limit``
entries per bucket, expiring with the window.

Headers (draft-ietf-httpapi-ratelimit-headers): ``RateLimit-Remaining`` is
what the window still accepts, ``RateLimit-Reset`` the seconds until the
oldest counted request leaves the window (a slot frees); a 429's
``Retry-After`` is the same figure. Without Redis (the embedded run) a
process-local log under a lock gives the same guarantee within one process.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# KEYS: one sorted set per bucket. ARGV[1]: "1" to peek (count nothing),
# ARGV[2]: a unique member for this request, then per bucket its limit and
# window in milliseconds. Returns {allowed, then per bucket: count, ms until
# its oldest entry leaves the window (0 when empty)}.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local peek = ARGV[1] == '1'
local counts = {}
local allowed = 1
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  counts[i] = redis.call('ZCARD', key)
  if counts[i] >= limit then allowed = 0 end
end
if allowed == 1 and not peek then
  for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[2])
    redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
    counts[i] = counts[i] + 1
  end
end
local out = {allowed}
for i, key in ipairs(KEYS) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  local reset = 0
  if first[2] then reset = tonumber(first[2]) + tonumber(ARGV[2 + 2 * i]) - now end
  out[#out + 1] = counts[i]
  out[#out + 1] = reset
end
return out
"""

DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "token": (600, 60),
    "user": (1200, 60),
    "anonymous": (120, 60),
}


@dataclass(frozen=True)
class Bucket:
    kind: str  # "token", "user" or "anonymous"
    identity: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the oldest counted request leaves the window (a slot frees)

    def headers(self) -> dict[str, str]:
        """IETF draft-ietf-httpapi-ratelimit-headers fields."""
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


def buckets_for(user: Any, ip: str | None) -> list[Bucket]:
    """A token request counts against its token and its user; a session against the user; else the IP."""
    if user is not None and user.is_authenticated:
        from apps.teams.access import bound_token

        token = bound_token(user)
        user_bucket = Bucket("user", str(user.pk))
        return [Bucket("token", str(token.pk)), user_bucket] if token else [user_bucket]
    return [Bucket("anonymous", ip or "unknown")]


def limits() -> dict[str, tuple[int, int]]:
    configured = settings.API_RATE_LIMITS or {}
    return {**DEFAULT_LIMITS, **configured}


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'vmcloud')}:rl"


@cache
def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


@cache
def _script(url: str) -> Any:
    return _redis(url).register_script(_SCRIPT)


class _LocalLog:
    """In-process fallback: the same sliding logs, atomic under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[str, deque[float]] = {}

    def hit(self, keys: list[str], meta: list[tuple[int, int]], *, peek: bool) -> tuple[bool, list[tuple[int, int]]]:
        now = time.monotonic()
        with self._lock:
            if len(self._logs) > 10_000:
                horizon = max(window for _limit, window in meta)
                self._logs = {k: v for k, v in self._logs.items() if v and v[-1] > now - horizon}
            logs = []
            for key, (_limit, window) in zip(keys, meta, strict=True):
                log = self._logs.setdefault(key, deque())
                while log and log[0] <= now - window:
                    log.popleft()
                logs.append(log)
            allowed = all(len(log) < limit for log, (limit, _window) in zip(logs, meta, strict=True))
            if allowed and not peek:
                for log in logs:
                    log.append(now)
            out = [
                (len(log), int((log[0] + window - now) * 1000) if log else 0)
                for log, (_limit, window) in zip(logs, meta, strict=True)
            ]
        return allowed, out


_local = _LocalLog()


def _keys(buckets: list[Bucket]) -> tuple[list[str], list[tuple[int, int]]]:
    table = limits()
    keys, meta = [], []
    for bucket in buckets:
        limit, window = table[bucket.kind]
        keys.append(f"{_prefix()}:sw:{bucket.kind}:{bucket.identity}:{window}")
        meta.append((limit, window))
    return keys, meta


def _hit(keys: list[str], meta: list[tuple[int, int]], *, peek: bool) -> tuple[bool, list[tuple[int, int]]]:
    """(allowed, [(count, ms until a slot frees)] per bucket)."""
    url = settings.REDIS_URL
    if url:
        import redis

        args: list[Any] = ["1" if peek else "0", uuid.uuid4().hex]
        for limit, window in meta:
            args += [limit, window * 1000]
        try:
            # EVALSHA: one round trip with the script's hash, not its text (redis-py loads it once on NOSCRIPT).
            raw = [int(v) for v in _script(url)(keys=keys, args=args)]
        except redis.RedisError:
            # Redis down: keep limiting per process rather than failing every request.
            logger.warning("rate limit: Redis unavailable, counting in-process")
        else:
            return bool(raw[0]), [(raw[i], raw[i + 1]) for i in range(1, len(raw), 2)]
    return _local.hit(keys, meta, peek=peek)


def hit(buckets: list[Bucket], *, peek: bool = False) -> Decision:
    """Count one request in every bucket if all have room; the tightest bucket decides and is reported.

    With ``peek`` nothing is counted (used for the headers of responses that
    failed before throttling ran, such as a 401).
    """
    keys, meta = _keys(buckets)
    allowed, states = _hit(keys, meta, peek=peek)
    decisions = [
        Decision(
            allowed=count < limit if not allowed else True,
            limit=limit,
            remaining=max(0, limit - count),
            reset=math.ceil(reset_ms / 1000) if count else 0,
        )
        for (count, reset_ms), (limit, _window) in zip(states, meta, strict=True)
    ]
    denied = [d for d in decisions if not d.allowed]
    if not allowed and denied:
        return max(denied, key=lambda d: d.reset)
    return min(decisions, key=lambda d: (d.remaining, d.reset))
