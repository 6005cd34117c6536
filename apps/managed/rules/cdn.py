"""CDN: the origin (a public URL, or a server or load balancer of the organisation), hostnames, cache rules, WAF."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from apps.catalogue import choices as catalogue_choices
from apps.managed.rules.fields import Offer, _Errors, _int, _list, _str
from apps.managed.rules.hosts import (
    _host_is_name_or_ip,
    _public_host_problem,
    dns_name_clean,
)

CDN_HOSTNAMES_MAX = 50
CDN_CACHE_RULES_MAX = 50
CDN_TTL_MAX = 365 * 24 * 3600
CDN_PATH_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
# WAF levels in increasing order: a tier includes its own and every one below.
WAF_ORDER = (
    catalogue_choices.WafLevel.NONE,
    catalogue_choices.WafLevel.BASIC,
    catalogue_choices.WafLevel.ADVANCED,
    catalogue_choices.WafLevel.CUSTOM_RULES,
)

OriginResolver = Callable[[str, str], Mapping[str, Any] | None]
"""``resolve_origin(kind, id)``: the organisation's server or load balancer (``kind``), or None when it is not one."""


def origin_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a CDN origin (http or https, a public host, no credentials), or None."""
    if not url:
        return _("Enter the origin's address.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return _("Use an http:// or https:// address.")
    if not parts.hostname or not _host_is_name_or_ip(parts.hostname):
        return _("The origin's host is not valid.")
    if parts.username or parts.password:
        return _("Do not put credentials in the address.")
    try:
        parts.port  # noqa: B018
    except ValueError:
        return _("The origin's port is not valid.")
    if parts.query or parts.fragment:
        return _("Remove the query or fragment from the address.")
    return _public_host_problem(parts.hostname)


def waf_choices(offer: Offer) -> list[str]:
    """The WAF levels ``offer``'s tier includes: its own and every one below (none when it has none)."""
    level = offer.cdn_waf or catalogue_choices.WafLevel.NONE
    return [str(w) for w in WAF_ORDER[: WAF_ORDER.index(catalogue_choices.WafLevel(level)) + 1]]


def _cdn(
    offer: Offer, data: Mapping[str, Any], errors: _Errors, resolve_origin: OriginResolver | None
) -> dict[str, Any]:
    origin: dict[str, Any] = {}
    origin_in = data.get("origin")
    if isinstance(origin_in, str):
        origin_in = {"kind": "url", "url": origin_in}
    if not isinstance(origin_in, Mapping):
        errors.add("origin", _("Give the origin: a URL, or one of your servers or load balancers."))
    else:
        kind = _str(origin_in.get("kind")) or "url"
        for key in origin_in:
            if key not in ("kind", "url", "id"):
                errors.add(f"origin.{key}", _("Unknown field for this kind of service."))
        if kind == "url":
            url = _str(origin_in.get("url"))
            problem = origin_url_problem(url or "") if url is not None else _("Send the address as text.")
            if problem:
                errors.add("origin.url", problem)
            origin = {"kind": "url", "url": url or ""}
        elif kind in ("server", "load_balancer"):
            raw_id = _str(origin_in.get("id"))
            try:
                public_id = str(uuid.UUID(raw_id or ""))
            except ValueError:
                errors.add("origin.id", _("Enter the id of one of your servers or load balancers."))
            else:
                found = resolve_origin(kind, public_id) if resolve_origin is not None else None
                if found is None:
                    errors.add(
                        "origin.id",
                        _("No server of your organisation has this id.")
                        if kind == "server"
                        else _("No load balancer of your organisation has this id."),
                    )
                else:
                    origin = {"kind": kind, "id": public_id, **{k: v for k, v in found.items() if k != "id"}}
        else:
            errors.add("origin.kind", _("Choose url, server or load_balancer."))

    hostnames: list[str] = []
    raw_hostnames = _list(data, "hostnames", errors)
    if not raw_hostnames and "hostnames" not in errors.fields:
        errors.add("hostnames", _("Give at least one hostname the CDN serves, e.g. cdn.example.com."))
    if len(raw_hostnames) > CDN_HOSTNAMES_MAX:
        errors.add("hostnames", _("At most %(max)s hostnames.") % {"max": CDN_HOSTNAMES_MAX})
    for index, item in enumerate(raw_hostnames[:CDN_HOSTNAMES_MAX]):
        name, problem = dns_name_clean(item)
        if problem:
            errors.add(f"hostnames.{index}", problem)
        elif name in hostnames:
            errors.add(f"hostnames.{index}", _("This hostname is already listed."))
        else:
            hostnames.append(name)

    rules: list[dict[str, Any]] = []
    raw_rules = _list(data, "cache_rules", errors)
    if len(raw_rules) > CDN_CACHE_RULES_MAX:
        errors.add("cache_rules", _("At most %(max)s cache rules.") % {"max": CDN_CACHE_RULES_MAX})
    seen_paths: set[str] = set()
    for index, item in enumerate(raw_rules[:CDN_CACHE_RULES_MAX]):
        if not isinstance(item, Mapping):
            errors.add(f"cache_rules.{index}", _("Send an object with a path and a ttl."))
            continue
        path = _str(item.get("path"))
        ttl = _int(item.get("ttl"))
        if not path or not CDN_PATH_RE.match(path) or len(path) > 1024:
            errors.add(
                f"cache_rules.{index}.path",
                _("Enter a path pattern starting with /, e.g. /static/* (* matches any characters)."),
            )
        elif path in seen_paths:
            errors.add(f"cache_rules.{index}.path", _("This path already has a rule."))
        if ttl is None or ttl < 0 or ttl > CDN_TTL_MAX:
            errors.add(
                f"cache_rules.{index}.ttl",
                _("Enter a TTL in seconds, from 0 (no caching) to %(max)s (a year).") % {"max": CDN_TTL_MAX},
            )
        for key in item:
            if key not in ("path", "ttl"):
                errors.add(f"cache_rules.{index}.{key}", _("Unknown field for this kind of service."))
        if path and ttl is not None:
            seen_paths.add(path)
            rules.append({"path": path, "ttl": ttl})

    allowed = waf_choices(offer)
    waf = _str(data.get("waf"))
    waf = allowed[-1] if waf == "" else waf
    if waf not in WAF_ORDER:
        errors.add("waf", _("Choose one of: %(choices)s.") % {"choices": ", ".join(str(w) for w in WAF_ORDER)})
    elif waf not in allowed:
        errors.add(
            "waf",
            _("The %(tier)s tier includes WAF up to %(level)s.")
            % {"tier": offer.code, "level": catalogue_choices.WafLevel(allowed[-1]).label},
        )
    return {"origin": origin, "hostnames": hostnames, "cache_rules": rules, "waf": waf or ""}
