"""What a failed browser test was waiting for: requests still in flight, the live server's threads, locks.

A wait that times out in Playwright says only "waiting for navigation"; this
prints, under the failed test's captured output, which requests the browser
had sent and not seen answered, where every thread of the worker stands
(``sys._current_frames``: the live server handles each request in a thread),
and which PostgreSQL sessions are not idle and what they wait on
(``pg_stat_activity``, https://www.postgresql.org/docs/15/monitoring-stats.html).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Any

from django.db import connections


def browser_requests_follow(context: Any) -> dict[Any, tuple[float, str]]:
    """Requests of ``context`` sent and not yet answered: request → (sent at, "METHOD url")."""
    in_flight: dict[Any, tuple[float, str]] = {}
    context.on("request", lambda req: in_flight.__setitem__(req, (time.monotonic(), f"{req.method} {req.url}")))
    context.on("requestfinished", lambda req: in_flight.pop(req, None))
    context.on("requestfailed", lambda req: in_flight.pop(req, None))
    return in_flight


def browser_failure_explain(in_flight: dict[Any, tuple[float, str]], *, page: Any = None) -> None:
    now = time.monotonic()
    if page is not None:
        try:
            print(f"\n--- the page: {page.url} ---")
            for error in page.locator(".field-error, .alert, .errorlist").all_inner_texts()[:10]:
                print(f"shown: {error.strip()[:200]}")
        except Exception as exc:  # a diagnostic must never hide the test's own failure
            print(f"(could not read the page: {exc})")
    print("\n--- browser requests without an answer ---")
    for sent, what in sorted(in_flight.values()):
        print(f"{now - sent:7.1f} s  {what}")
    print("--- threads of this worker ---")
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        print(f"thread {names.get(ident, ident)}:")
        print("".join(traceback.format_stack(frame, limit=25)))
    print("--- PostgreSQL sessions not idle ---")
    try:
        with connections["default"].cursor() as cursor:
            if connections["default"].vendor != "postgresql":
                return
            cursor.execute(
                "SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid),"
                " now() - xact_start, left(query, 300) FROM pg_stat_activity"
                " WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()"
            )
            for row in cursor.fetchall():
                print(row)
    except Exception as exc:  # a diagnostic must never hide the test's own failure
        print(f"(could not read pg_stat_activity: {exc})")
