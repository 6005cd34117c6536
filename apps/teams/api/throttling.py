"""DRF throttle on atomic counters (``apps.teams.ratelimit``): per token and per user.

Set in ``REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]``. The decision is kept on
the Django request so ``RateLimitHeadersMiddleware`` adds ``RateLimit-*``
headers to every API response; a denied request raises ``Throttled`` and the
exception handler answers 429 with ``Retry-After``.
Docs: https://www.django-rest-framework.org/api-guide/throttling/#custom-throttles
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.core.middleware import client_ip
from apps.teams import ratelimit


class AtomicRateThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        decision = ratelimit.hit(ratelimit.buckets_for(request.user, client_ip(request._request)))
        request._request.ratelimit = decision  # type: ignore[attr-defined]
        self.decision = decision
        return decision.allowed

    def wait(self) -> float | None:
        return float(self.decision.reset)
