"""The thin DNS client of SSO domain verification: the TXT strings published at one name.

dnspython's stub resolver (https://dnspython.readthedocs.io/en/stable/resolver-class.html)
asks the nameservers of the ``SSO_DNS_NAMESERVERS`` setting on ``SSO_DNS_PORT``,
or the system's (/etc/resolv.conf) when the list is empty. Answers are not
cached here: "Verify now" must see a record the admin has just created.
"""

from __future__ import annotations

import dns.exception
import dns.resolver
from django.conf import settings


class DnsLookupError(Exception):
    """The nameservers could not be asked (timeout, SERVFAIL, no nameserver answered)."""


def _resolver() -> dns.resolver.Resolver:
    nameservers = list(settings.SSO_DNS_NAMESERVERS or [])
    resolver = dns.resolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = nameservers
    resolver.port = int(settings.SSO_DNS_PORT)
    resolver.lifetime = float(settings.SSO_DNS_TIMEOUT)
    resolver.cache = None
    return resolver


def txt_records(name: str) -> list[str]:
    """The TXT strings at ``name`` (each record's character-strings joined, as RFC 7208 section 3.3 does).

    An absent name or record type is an empty list, not an error.
    """
    try:
        answer = _resolver().resolve(name, "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout) as exc:
        raise DnsLookupError(str(exc)) from exc
    except dns.exception.DNSException as exc:
        raise DnsLookupError(str(exc)) from exc
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]
