"""Web hosting: the domain, the runtime and version of the catalogue's web stack, a 1-click app, extra domains."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.managed.rules.fields import Offer, _Errors, _list, _str
from apps.managed.rules.hosts import (
    dns_name_clean,
)

# ---------------------------------------------------------------------------
# The catalogue's web stack (apps/catalogue/services/seed_data.py, family "web-hosting",
# feature block "Web stack": "PHP 7.4, 8.0, 8.1, 8.2, 8.3", "Node.js 16, 18,
# 20, 21 LTS", "Python 3.8 - 3.12", "Ruby 2.7 - 3.2", ".NET 6.0, 7.0, 8.0"),
# as the versions a customer picks. tests/managed/test_validation.py checks
# that every runtime and version here is the one the seed sells.
# ---------------------------------------------------------------------------
WEB_RUNTIMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "php": ("PHP", ("7.4", "8.0", "8.1", "8.2", "8.3")),
    "nodejs": ("Node.js", ("16", "18", "20", "21")),
    "python": ("Python", ("3.8", "3.9", "3.10", "3.11", "3.12")),
    "ruby": ("Ruby", ("2.7", "3.0", "3.1", "3.2")),
    "dotnet": (".NET", ("6.0", "7.0", "8.0")),
}
ONE_CLICK_TITLE = "1-click apps"
WEB_EXTRA_DOMAINS_MAX = 100  # on an "Unlimited websites" tier


def one_click_apps(offer: Offer) -> list[tuple[str, str]]:
    """``(slug, name)`` of the 1-click apps the family lists (``ProductFamily.features``, block "1-click apps")."""
    for block in offer.family.features or []:
        if isinstance(block, Mapping) and str(block.get("title", "")).strip().lower() == ONE_CLICK_TITLE:
            return [(slugify(str(item)), str(item)) for item in block.get("items", []) if str(item).strip()]
    return []


def web_runtime_choices() -> list[tuple[str, str]]:
    """``(runtime, "Name version")`` pairs for forms: ``php:8.3`` → "PHP 8.3"."""
    return [
        (f"{key}:{version}", f"{name} {version}")
        for key, (name, versions) in WEB_RUNTIMES.items()
        for version in versions
    ]


def _web_hosting(offer: Offer, data: Mapping[str, Any], errors: _Errors) -> dict[str, Any]:
    domain, problem = dns_name_clean(data.get("domain"))
    if problem:
        errors.add("domain", problem)

    runtime = _str(data.get("runtime"))
    version = _str(data.get("version"))
    if runtime and ":" in runtime and not version:  # the form's "php:8.3"
        runtime, version = runtime.split(":", 1)
    runtime = (runtime or "").lower()
    if not runtime:
        errors.add("runtime", _("Choose a runtime."))
    elif runtime not in WEB_RUNTIMES:
        errors.add(
            "runtime",
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(WEB_RUNTIMES)},
        )
    elif not version:
        errors.add("version", _("Choose a version."))
    elif version not in WEB_RUNTIMES[runtime][1]:
        errors.add(
            "version",
            _("%(runtime)s is offered in versions %(versions)s.")
            % {"runtime": WEB_RUNTIMES[runtime][0], "versions": ", ".join(WEB_RUNTIMES[runtime][1])},
        )

    app = _str(data.get("app"))
    app_slug = ""
    if app is None:
        errors.add("app", _("Send the app's name as text."))
    elif app:
        apps = one_click_apps(offer)
        wanted = slugify(app)
        match = next((slug for slug, name in apps if wanted in (slug, slugify(name))), None)
        if match is None:
            errors.add(
                "app",
                _("Choose one of the 1-click apps: %(apps)s.") % {"apps": ", ".join(name for _s, name in apps)}
                if apps
                else _("No 1-click app is offered."),
            )
        else:
            app_slug = match

    extra: list[str] = []
    raw_extra = _list(data, "extra_domains", errors)
    for index, item in enumerate(raw_extra):
        name, problem = dns_name_clean(item)
        if problem:
            errors.add(f"extra_domains.{index}", problem)
        elif name == domain or name in extra:
            errors.add(f"extra_domains.{index}", _("This domain is already listed."))
        else:
            extra.append(name)
    allowed = WEB_EXTRA_DOMAINS_MAX if offer.web_sites_unlimited else max((offer.web_sites or 1) - 1, 0)
    if len(raw_extra) > allowed:
        errors.add(
            "extra_domains",
            _("The %(tier)s tier hosts %(sites)s website(s): at most %(extra)s domain(s) besides the primary one.")
            % {
                "tier": offer.code,
                "sites": offer.web_sites if not offer.web_sites_unlimited else "∞",
                "extra": allowed,
            },
        )
    return {
        "domain": domain,
        "runtime": runtime,
        "version": version or "",
        "app": app_slug,
        "extra_domains": extra,
    }
