"""Atomic fixed-window rate limits, counted in Redis (or in-process without Redis).

DRF's cache throttles read, then write the request history: under
concurrency several requests read the same history and all pass (11–15 of 50
simultaneous requests got through a limit of 5, see DEPENDENCIES.md pitfall 13).
Here each request is one ``INCR`` per bucket inside a Lua script, which Redis
runs atomically (https://redis.io/docs/latest/develop/interact/programmability/eval-intro/):
the n-th request of a window sees exactly n, so exactly ``limit`` pass.

A bucket is (kind, identity, window index); the key expires with its window.
Without Redis (the embedded run) a process-local counter under a lock gives
the same guarantee within one process.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

_SCRIPT = """
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
  out[i] = count
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
    reset: int  # seconds until the window ends

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
    configured = getattr(settings, "API_RATE_LIMITS", None) or {}
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


class _LocalCounter:
    """In-process fallback: the same fixed windows, atomic under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def incr(self, keys: list[str], ttls_ms: list[int], *, peek: bool = False) -> list[int]:
        now = time.monotonic()
        out: list[int] = []
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            for key, ttl in zip(keys, ttls_ms, strict=True):
                count, expires = self._counts.get(key, (0, now + ttl / 1000))
                if expires <= now:
                    count, expires = 0, now + ttl / 1000
                if not peek:
                    count += 1
                    self._counts[key] = (count, expires)
                out.append(count)
        return out


_local = _LocalCounter()


def _keys(buckets: list[Bucket], now: float) -> tuple[list[str], list[int], list[tuple[int, int, int]]]:
    table = limits()
    keys, ttls, meta = [], [], []
    for bucket in buckets:
        limit, window = table[bucket.kind]
        index = int(now // window)
        keys.append(f"{_prefix()}:{bucket.kind}:{bucket.identity}:{window}:{index}")
        ttls.append(window * 1000 + 1000)
        reset = max(1, math.ceil((index + 1) * window - now))
        meta.append((limit, window, reset))
    return keys, ttls, meta


def _counts(keys: list[str], ttls: list[int], *, peek: bool) -> list[int]:
    url = getattr(settings, "REDIS_URL", "")
    if url:
        import redis

        try:
            client = _redis(url)
            if peek:
                return [int(v or 0) for v in client.mget(keys)]
            # EVALSHA: one round trip with the script's hash, not its text (redis-py loads it once on NOSCRIPT).
            return [int(v) for v in _script(url)(keys=keys, args=ttls)]
        except redis.RedisError:
            # Redis down: keep limiting per process rather than failing every request.
            logger.warning("rate limit: Redis unavailable, counting in-process")
    return _local.incr(keys, ttls, peek=peek)


def hit(buckets: list[Bucket], *, peek: bool = False) -> Decision:
    """Count one request in every bucket; the tightest bucket decides and is reported.

    With ``peek`` nothing is counted (used for the headers of responses that
    failed before throttling ran, such as a 401).
    """
    now = time.time()
    keys, ttls, meta = _keys(buckets, now)
    counts = _counts(keys, ttls, peek=peek)
    decisions = [
        Decision(allowed=count <= limit, limit=limit, remaining=max(0, limit - count), reset=reset)
        for count, (limit, _window, reset) in zip(counts, meta, strict=True)
    ]
    denied = [d for d in decisions if not d.allowed]
    if denied:
        return max(denied, key=lambda d: d.reset)
    return min(decisions, key=lambda d: (d.remaining, d.reset))
