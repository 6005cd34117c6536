"""Cross-cutting views: liveness and readiness probes and error pages (JSON under /api/, HTML elsewhere)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

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


def resolve_or_none(path: str, urlconf: str | None) -> ResolverMatch | None:
    try:
        return resolve(path, urlconf)
    except Resolver404:
        return None


@csrf_exempt
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """The last route under /api/: a JSON 404 for any method, DEBUG or not.

    handler404 only runs with DEBUG off (Django answers its technical HTML page
    otherwise), and an API client must get the one error body whatever the
    server's mode (apps/docs/content/api-overview.md, "Errors"). No CSRF check:
    nothing is done, and a session POST would otherwise get an HTML 403 first.
    This route matching everything would stop CommonMiddleware's APPEND_SLASH,
    so a path that exists with a trailing slash is redirected here, with 308 so
    that a POST keeps its method and body (RFC 9110, 15.4.9).
    """
    if settings.APPEND_SLASH and not request.path_info.endswith("/"):
        match = resolve_or_none(request.path_info + "/", getattr(request, "urlconf", None))
        if match is not None and match.url_name != "api-not-found":
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True), preserve_request=True)
    return not_found(request)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("server_error", _("Something went wrong on our side. Quote the request id to support.")),
            status=500,
        )
    return render(request, "500.html", status=500)
