"""Cross-cutting views: liveness and readiness probes and error pages (JSON under /api/, HTML elsewhere)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from apps.core import health
from apps.core.api.exceptions import error_body


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database, cache or broker on purpose
    (apps/docs/content/production.md, "Probes")."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache and broker answer and every migration is applied;
    503 with the failing checks named otherwise (apps/docs/content/production.md)."""
    ready, checks = health.readiness()
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("server_error", _("Something went wrong on our side. Quote the request id to support.")),
            status=500,
        )
    return render(request, "500.html", status=500)
