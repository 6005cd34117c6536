"""Request id middleware and the client address.

Every request gets an id, echoed as ``X-Request-ID``. A client may send its
own ``X-Request-ID`` (kept if it is a sane token); the id appears in API error
bodies, audit events and log lines so support can find one request's trail.

``client_ip`` is the one place that decides who the client is, for lockouts,
rate limits, audit events and token "last used from" (see its docstring).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from ipware import get_client_ip
from python_ipware.modern.parsers import split_proxy_chain

from apps.core import context
from apps.core.errors import ApplicationError

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def trusted_proxy_networks(entries: Iterable[str] | None = None) -> tuple[_Network, ...]:
    """``TRUSTED_PROXIES`` as networks (addresses or CIDRs); raises ``ValueError`` on a bad entry."""
    configured = settings.TRUSTED_PROXIES if entries is None else entries
    return _networks(tuple(configured or ()))


def _is_trusted(address: object, networks: tuple[_Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the TCP peer, unless the peer is one of our trusted proxies.

    A header is read only when ``REMOTE_ADDR`` is a proxy listed in
    ``TRUSTED_PROXIES``; then the client is the right-most ``X-Forwarded-For``
    entry that is not itself a trusted proxy (each proxy appends the address it
    received the request from, so entries left of it are whatever the client
    sent and can be forged). django-ipware parses the chain and picks that
    position (``proxy_count`` = the trusted hops at its end). Anything odd (no
    header, every hop trusted, unparsable) falls back to the peer address.
    Docs: https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Forwarded-For#security_and_privacy_concerns
    and apps/docs/content/sign-in-and-mfa.md ("Behind a proxy").
    """
    remote = request.META.get("REMOTE_ADDR") or None
    networks = trusted_proxy_networks()
    if not remote or not networks or not _is_trusted(remote, networks):
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain = (split_proxy_chain(header, False) or []) if isinstance(header, str) else []
    trusted_hops = 0
    for hop in reversed(chain):
        if not _is_trusted(hop, networks):
            break
        trusted_hops += 1
    if not chain or trusted_hops >= len(chain):
        return remote
    ip, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=trusted_hops,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    return ip or remote


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else context.new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.bind(
            context.RequestContext(
                request_id=request_id,
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", "")[:400],
            )
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ProbeMiddleware:
    """Answers ``/healthz`` and ``/readyz`` before the host check and the HTTPS redirect.

    The kubelet, HAProxy and the compose health check call the probes by the
    container's address over plain HTTP: Django would refuse that ``Host``
    (``ALLOWED_HOSTS``) or redirect it to HTTPS (``SECURE_SSL_REDIRECT``), and
    a 400 or a 301 says nothing about the process. Found by running the compose
    stack (apps/docs/content/production.md, "Probes").
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"GET", "HEAD"} and request.path_info in {"/healthz", "/readyz"}:
            from apps.core import views  # the views import the API layer; loaded on first probe

            return views.healthz(request) if request.path_info == "/healthz" else views.readyz(request)
        return self.get_response(request)


class ApplicationErrorPageMiddleware:
    """A domain error a portal page did not handle is shown to the user, never a 500.

    Services raise ``ApplicationError`` with a status and a message meant for the
    customer (``apps/core/errors.py``). Portal views turn the ones they expect
    into form errors; any other one (a missing VAT rate, a capacity change
    between two clicks) becomes this page with the error's own status, so the
    user reads why instead of "Server error". The API has its own handler
    (``apps/core/api/exceptions.py``) and is left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        fragment = request.headers.get("HX-Request") == "true"
        response = TemplateResponse(
            request,
            "portal/_application_error.html" if fragment else "portal/application_error.html",
            {"error": exception, "request_id": getattr(request, "request_id", "")},
            status=exception.status_code,
        )
        return response.render()
