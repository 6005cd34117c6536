"""Rate-limit cost per request: the sliding-window script vs a fixed-window INCR, same Redis, same run.

    DJANGO_SETTINGS_MODULE=config.settings.test python benchmarks/ratelimit_bench.py [--count 5000]

Times ``apps.teams.ratelimit.hit`` for a token request (two buckets: the token
and its user) one call after another on the test settings' Redis, with limits
high enough that every call passes and writes, after 1,200 warm-up calls (the
sorted sets then hold every request of the last minute, more than a token at
the production limits ever keeps). For comparison it times the fixed-window
script the platform used before (one ``INCR`` per bucket and clock window),
loaded into the same Redis. Prints microseconds per request for
both; the API's goal (benchmarks/instance_list_bench.py) includes this cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.conf import settings  # noqa: E402

from apps.teams import ratelimit  # noqa: E402

_FIXED_WINDOW = """
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
  out[i] = count
end
return out
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    if not getattr(settings, "REDIS_URL", ""):
        sys.exit("ratelimit_bench needs Redis (DJANGO_SETTINGS_MODULE=config.settings.test).")
    run = uuid.uuid4().hex[:8]
    buckets = [ratelimit.Bucket("token", f"bench-{run}"), ratelimit.Bucket("user", f"bench-{run}")]
    client = ratelimit._redis(settings.REDIS_URL)

    # Limits high enough that every timed call passes and writes, as a passing request does, on sets
    # already holding 1,200 entries (a busy token at the production limits).
    settings.API_RATE_LIMITS = {"token": (10**9, 60), "user": (10**9, 60), "anonymous": (120, 60)}
    for _ in range(1200):
        ratelimit.hit(buckets)
    start = time.perf_counter()
    for _ in range(args.count):
        ratelimit.hit(buckets)
    sliding = (time.perf_counter() - start) / args.count * 1e6

    fixed = client.register_script(_FIXED_WINDOW)
    keys = [f"bench:{run}:fixed:token", f"bench:{run}:fixed:user"]
    start = time.perf_counter()
    for _ in range(args.count):
        fixed(keys=keys, args=[61000, 61000])
    fixed_us = (time.perf_counter() - start) / args.count * 1e6

    entries = [client.zcard(key) for key in ratelimit._keys(buckets)[0]]
    client.delete(*ratelimit._keys(buckets)[0], *keys)
    print(f"requests timed:        {args.count} (sorted sets held {entries[0]} entries each)")
    print(f"sliding window (now):  {sliding:7.1f} µs per request (two buckets, one EVALSHA)")
    print(f"fixed window (before): {fixed_us:7.1f} µs per request (two INCR, one EVALSHA)")
    print(f"difference:            {sliding - fixed_us:+7.1f} µs per request")


if __name__ == "__main__":
    main()
