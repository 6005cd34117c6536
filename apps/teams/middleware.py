"""Adds ``RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` to every API response.

The throttle (``apps.teams.api.throttling``) records its decision on the
request; responses that failed before throttling ran (401, 404 of an unknown
path) report the caller's bucket without counting the request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core.middleware import client_ip
from apps.teams import ratelimit


class RateLimitHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/"):
            return response
        decision = getattr(request, "ratelimit", None)
        if decision is None:
            decision = ratelimit.hit(
                ratelimit.buckets_for(getattr(request, "user", None), client_ip(request)), peek=True
            )
        for name, value in decision.headers().items():
            response[name] = value
        return response
