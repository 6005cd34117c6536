"""Requests the platform makes to URLs its customers typed: webhooks, an IdP's metadata.

Such a URL is fetched from inside VMCloud's network, so without a check it
reaches whatever that network reaches: the cloud's instance metadata at
169.254.169.254, Proxmox's API, the database (server-side request forgery,
https://owasp.org/www-community/attacks/Server_Side_Request_Forgery). Checking
the URL's text when it is saved is not enough: a public name can resolve to a
private address, or change its answer between the check and the request (DNS
rebinding). So every request here resolves the name once, refuses unless every
address is public, and connects to the address it checked, sending the name as
the ``Host`` header and as TLS server name (the certificate is verified for the
name). Redirects are never followed, and the answer is read up to a limit.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
import urllib3
from django.utils.translation import gettext as _


class OutboundRefused(Exception):
    """The URL is not one the platform will call: its scheme, or an address it resolves to."""


class OutboundError(Exception):
    """The request was allowed but did not complete (no answer, a timeout, a TLS failure)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind  # the urllib3 exception's class name, for short statuses ("error NewConnectionError")


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    body: bytes
    redirect: bool


def _permitted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, loopback: bool, private: bool) -> bool:
    if address.is_global:
        return True
    if address.is_loopback:
        return loopback or private
    return private and not address.is_multicast and not address.is_unspecified


def outbound_address(host: str, port: int, *, allow_loopback: bool = False, allow_private: bool = False) -> str:
    """The address to connect to for ``host``; OutboundRefused unless every address it resolves to is permitted."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(_("The host name %(host)s does not resolve.") % {"host": host}) from exc
    addresses = sorted({str(answer[4][0]) for answer in answers})
    if not addresses:
        raise OutboundRefused(_("The host name %(host)s does not resolve.") % {"host": host})
    for address in addresses:
        if not _permitted(ipaddress.ip_address(address.split("%")[0]), loopback=allow_loopback, private=allow_private):
            raise OutboundRefused(
                _("The URL leads to a private or reserved address (%(address)s); give a public one.")
                % {"address": address}
            )
    return addresses[0]


def outbound_request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
    max_bytes: int = 1024 * 1024,
    allow_loopback: bool = False,
    allow_private: bool = False,
) -> OutboundResponse:
    """Send one request to a public address (see the module's docstring); the body is read up to ``max_bytes``.

    OutboundRefused: the URL is not http(s) or leads to an address not permitted.
    OutboundError: the request did not complete. A redirect is answered, never followed.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused(_("The URL must start with https:// or http:// and name a host."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefused(_("The URL has an invalid port.")) from exc
    address = outbound_address(parts.hostname, port, allow_loopback=allow_loopback, allow_private=allow_private)
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            timeout=timeout,
            retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent_headers = {"Host": parts.netloc.rpartition("@")[2], **(headers or {})}
    try:
        with pool:
            response = pool.urlopen(
                method, target, body=body, headers=sent_headers, redirect=False, preload_content=False
            )
            data = response.read(max_bytes + 1)
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise OutboundError(type(exc).__name__, str(exc)) from exc
    if len(data) > max_bytes:
        raise OutboundError("ResponseTooLarge", f"more than {max_bytes} bytes")
    return OutboundResponse(status=response.status, body=data, redirect=300 <= response.status < 400)


# ---------------------------------------------------------------------------
# Webhooks: the URL a customer types, and the signature the receiver checks
# (alert policies and budgets, apps/docs/content/alerts.md and costs-and-budgets.md).
# ---------------------------------------------------------------------------
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
WEBHOOK_SIGNATURE_HEADER = "X-VMCloud-Signature"
# A receiver answers quickly or the delivery is retried later (the tasks back off).
WEBHOOK_TIMEOUT_SECONDS = 5
# Only the status matters; a larger answer is cut here.
WEBHOOK_ANSWER_MAX_BYTES = 64 * 1024


def webhook_url_error(url: str, *, allow_loopback: bool) -> str | None:
    """Why ``url`` cannot receive webhooks, or None. Never fetches it (``outbound_request`` checks again).

    HTTPS to a public address only: an address on the loopback, private or link-local network is
    refused (we would be posting inside our own network), except plain http to the loopback
    interface when ``allow_loopback`` (development and tests).
    """
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        return _("Enter a valid URL.")
    if not host or parts.scheme not in ("https", "http") or parts.username or parts.password:
        return _("Enter an https:// URL without credentials.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host in LOOPBACK_NAMES or host.endswith(".localhost") or (address is not None and address.is_loopback):
        return None if allow_loopback else _("The webhook URL must be a public https:// address.")
    if parts.scheme != "https":
        return _("The webhook URL must use https://.")
    if address is not None and (address.is_private or address.is_link_local or address.is_reserved):
        return _("The webhook URL must be a public https:// address.")
    return None


def webhook_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`` (Stripe's scheme).

    https://docs.stripe.com/webhooks#verify-manually
    """
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_verify(*, secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the signature and compare in constant time, within ``tolerance`` s."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    expected = webhook_signature(secret=secret, body=body, timestamp=timestamp)
    return hmac.compare_digest(expected, header) and abs(time.time() - timestamp) <= tolerance


def webhook_post(url: str, *, payload: dict[str, Any], secret: str, allow_loopback: bool) -> OutboundResponse:
    """POST ``payload`` as compact, sorted JSON, signed with ``secret`` (``webhook_signature``).

    Sent to the address checked when the name was resolved (``outbound_request``: no private
    address); raises ``OutboundRefused`` or ``OutboundError`` as it does. The caller records the outcome.
    """
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "VMCloud-Webhooks/1",
        WEBHOOK_SIGNATURE_HEADER: webhook_signature(secret=secret, body=body, timestamp=int(time.time())),
    }
    return outbound_request(
        "POST",
        url,
        body=body,
        headers=headers,
        timeout=WEBHOOK_TIMEOUT_SECONDS,
        max_bytes=WEBHOOK_ANSWER_MAX_BYTES,
        allow_loopback=allow_loopback,
    )
