"""DNS names and public hosts, the checks the families share (web domains, CDN hostnames, Git and origin hosts)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import idna
from django.utils.translation import gettext as _

DNS_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
DNS_NAME_MAX = 253


def dns_name_clean(value: Any) -> tuple[str, str | None]:
    """``(ascii_name, problem)``: a DNS name lower-cased, without its root dot, IDN as A-labels (RFC 5891)."""
    if not isinstance(value, str) or not value.strip():
        return "", _("Enter a domain name.")
    name = value.strip().lower()
    if name.endswith("."):
        name = name[:-1]
    if not name or ".." in name or name.startswith("."):
        return "", _("Enter a domain name such as example.com.")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return "", _("This internationalised domain name is not valid (IDNA 2008).")
    if len(name) > DNS_NAME_MAX:
        return "", _("A domain name has at most 253 characters.")
    labels = name.split(".")
    if len(labels) < 2:
        return "", _("Enter a fully qualified domain name such as example.com.")
    if not all(DNS_LABEL_RE.match(label) for label in labels):
        return "", _(
            "Use letters, digits and hyphens, in labels of 1 to 63 characters separated by dots, "
            "not starting or ending with a hyphen."
        )
    if labels[-1].isdigit():
        return "", _("Enter a domain name, not an IP address.")
    if name.startswith("xn--") or any(label.startswith("xn--") for label in labels):
        try:
            idna.decode(name)
        except (idna.IDNAError, UnicodeError):
            return "", _("This internationalised domain name is not valid (IDNA 2008).")
    return name, None


def dns_name_display(ascii_name: str) -> str:
    """The Unicode form of a stored A-label name, for people (the stored form stays ASCII)."""
    try:
        return str(idna.decode(ascii_name))
    except (idna.IDNAError, UnicodeError):
        return ascii_name


def _public_host_problem(host: str) -> str | None:
    """Why ``host`` (an IP literal or a name) cannot be reached from the internet, or None."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return _("Use an address reachable from the internet.")
        return None
    if not address.is_global:
        return _("Use an address reachable from the internet, not a private, loopback or reserved one.")
    return None


def _host_is_name_or_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    labels = host.lower().rstrip(".").split(".")
    return bool(labels) and all(DNS_LABEL_RE.match(label) for label in labels)
