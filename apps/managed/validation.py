"""What a customer orders for a managed service, checked against the tier (pure: no database, no request).

``service_config_clean(offer=..., data=...)`` takes the ``service`` object of an
order (API body or portal form) and returns ``(config, secrets)``: the
normalised configuration the service keeps (``ManagedService.config``, shown
back to the customer and to staff) and the secrets to store encrypted
(``ServiceSecret`` of kind ``env``: PaaS environment variable values, never
shown again). Problems raise one ``ValidationFailed`` listing every field at
once, with paths under ``service.`` (``service.domain``,
``service.env.0.name``, ``service.rules.1.port``).

The families and what each asks for (apps/docs/content/web-hosting.md,
paas.md, cdn.md, load-balancers.md):

- web hosting: ``domain`` (a DNS name; an internationalised one is stored as
  its IDNA 2008 A-label, https://www.rfc-editor.org/rfc/rfc5891), ``runtime``
  and ``version`` from the catalogue's web stack, an optional 1-click ``app``
  from the family's list (``ProductFamily.features``, staff may edit it), and
  ``extra_domains`` within the tier's websites;
- PaaS: ``source`` (a Git repository over https or ssh and a branch, or a
  container image reference in the distribution grammar), ``environment``,
  ``env`` (names as POSIX shells accept them; values are secrets),
  ``containers`` and ``ram_gb`` within the tier;
- CDN: ``origin`` (a public URL, or one of the organisation's servers or load
  balancers, resolved by the caller's ``resolve_origin``), ``hostnames``,
  ``cache_rules`` (path pattern and TTL) and ``waf`` up to the tier's level;
- load balancer: ``rules`` (entry protocol and port → target protocol and
  port, protocols the tier allows) and ``targets`` (servers by id or a label
  selector; servers named count against the tier's backends). The automated
  load balancer (apps.loadbalancers) checks the rest when it lands.

Limits that are usage rather than order data (storage, bandwidth, databases,
mailboxes, deployments per day, requests per second, PoPs, traffic) are
recorded by staff against the tier (``ServiceUsage``), not checked here.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import idna
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import Offer
from apps.core.errors import ValidationFailed
from apps.core.labels import label_selector_parse
from apps.managed.choices import ServiceFamily, family_for_product_slug

PREFIX = "service"

# ---------------------------------------------------------------------------
# The catalogue's web stack (apps/catalogue/seed.py, family "web-hosting",
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

PAAS_ENVIRONMENTS = ("dev", "staging", "prod")
# Sizes a customer picks on a tier whose RAM per container is "Configurable"
# (PAAS-KUBERNETES), and its container ceiling: guards against typos, not
# sales limits (apps/docs/content/paas.md "Limits").
PAAS_CONFIGURABLE_RAM_GB: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
PAAS_CONFIGURABLE_DEFAULT_RAM_GB = 4
PAAS_CLUSTER_MAX_CONTAINERS = 1000
ENV_MAX = 100
ENV_VALUE_MAX = 32 * 1024
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")

WEB_EXTRA_DOMAINS_MAX = 100  # on an "Unlimited websites" tier
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

LB_RULE_KEYS = ("protocol", "port", "target_protocol", "target_port")


def lb_rules_parse(text: Any) -> list[dict[str, str]]:
    """The forms' rule lines → rule objects: "HTTPS 443 HTTP 8080" (or "HTTPS 443 -> HTTP 8080") per line.

    The one parser of the order form and the load balancer's page (apps/docs/content/load-balancers.md,
    "Order it"); what it gives is checked by ``service_config_clean`` (a short line misses keys, named there).
    """
    rules = []
    for line in str(text or "").replace("\r\n", "\n").split("\n"):
        parts = line.strip().replace("->", " ").replace("\u2192", " ").split()
        if parts:
            rules.append(dict(zip(LB_RULE_KEYS, parts, strict=False)))
    return rules


def lb_rules_text(rules: Any) -> str:
    """Rule objects → the forms' lines (``lb_rules_parse`` reads them back)."""
    return "\n".join(" ".join(str(r.get(k, "")) for k in LB_RULE_KEYS) for r in rules or [])


LB_RULES_MAX = 50
LB_TARGETS_MAX = 200
# The protocols as the catalogue writes them (seed: "HTTP", "HTTPS", "TCP", "UDP", "WebSocket", "gRPC", "HTTP/3").
LB_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "UDP", "WebSocket", "gRPC", "HTTP/3")
LB_TARGET_PROTOCOLS = {
    "HTTP": ("HTTP", "HTTPS"),
    "HTTPS": ("HTTP", "HTTPS"),
    "WebSocket": ("HTTP", "HTTPS"),
    "gRPC": ("HTTP", "HTTPS"),
    "HTTP/3": ("HTTP", "HTTPS"),
    "TCP": ("TCP",),
    "UDP": ("UDP",),
}
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
DNS_NAME_MAX = 253

# Git refs (git-check-ref-format(1)): what a branch name may not contain.
BRANCH_MAX = 255
BRANCH_FORBIDDEN_RE = re.compile(r"(\.\.|@\{|//|[\x00-\x20\x7f~^:?*\[\\])")

# Container image references, the grammar of github.com/distribution/reference (reference.go):
#   reference := name [ ":" tag ] [ "@" digest ]
#   name := [domain '/'] remote-name;  domain := host [':' port]
#   path-component := [a-z0-9]+ (separator [a-z0-9]+)*;  separator := [_.] | __ | [-]+
#   tag := [\w][\w.-]{0,127};  digest := algorithm ":" hex{32,}
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_REFERENCE_RE = re.compile(
    rf"^(?P<name>(?:(?P<domain>{_DOMAIN})/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
IMAGE_NAME_MAX = 255

# An scp-like Git address: git@host:path (git-clone(1) "GIT URLS").
SCP_GIT_RE = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^\s:][^\s]*)$")

OriginResolver = Callable[[str, str], Mapping[str, Any] | None]
"""``resolve_origin(kind, id)``: the organisation's server or load balancer (``kind``), or None when it is not one."""


@dataclass
class _Errors:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        self.fields.setdefault(f"{PREFIX}.{path}" if path else PREFIX, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)


def service_family_of(offer: Offer) -> str | None:
    """The service family an offer sells (``ServiceFamily``), or None for servers and block storage."""
    if offer.family.kind != catalogue_choices.FamilyKind.MANAGED_SERVICE:
        return None
    return family_for_product_slug(offer.family.slug)


def service_config_clean(
    *,
    offer: Offer,
    data: Mapping[str, Any] | None,
    resolve_origin: OriginResolver | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The configuration and the secrets of a service of ``offer``'s tier, from the order's ``service`` object.

    Raises ``ValidationFailed`` with every problem under ``service.<path>``.
    ``resolve_origin`` looks a CDN origin server or load balancer up in the
    ordering organisation; without it such an origin is refused.
    """
    family = service_family_of(offer)
    errors = _Errors()
    if family is None:
        errors.add("", _("%(offer)s is not a managed service: it takes no service object.") % {"offer": offer.code})
        raise ValidationFailed(_("The service is not valid."), fields=errors.fields)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        errors.add("", _("Send an object with the fields of the service."))
        raise ValidationFailed(_("The service is not valid."), fields=errors.fields)
    config: dict[str, Any]
    secrets: dict[str, str] = {}
    if family == ServiceFamily.WEB_HOSTING:
        config = _web_hosting(offer, data, errors)
    elif family == ServiceFamily.PAAS:
        config, secrets = _paas(offer, data, errors)
    elif family == ServiceFamily.CDN:
        config = _cdn(offer, data, errors, resolve_origin)
    else:
        config = _load_balancer(offer, data, errors)
    known = _KNOWN_FIELDS[family]
    for key in data:
        if key not in known:
            errors.add(str(key), _("Unknown field for this kind of service."))
    if errors:
        raise ValidationFailed(_("The service is not valid."), fields=errors.fields)
    return config, secrets


# ---------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------
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


def _int(value: Any, *, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _str(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return None


def _list(data: Mapping[str, Any], key: str, errors: _Errors) -> list[Any]:
    value = data.get(key)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        errors.add(key, _("Send a list."))
        return []
    return value


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


# ---------------------------------------------------------------------------
# Web hosting
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# PaaS
# ---------------------------------------------------------------------------
def git_url_problem(url: str) -> str | None:
    """Why ``url`` is not a Git repository address this platform can clone (https or ssh), or None."""
    if not url:
        return _("Enter the repository's address.")
    if any(c.isspace() for c in url) or len(url) > 2000:
        return _("Enter a Git repository address without spaces.")
    scp = SCP_GIT_RE.match(url)
    if scp and "://" not in url:
        host = scp.group("host")
        if not _host_is_name_or_ip(host):
            return _("The repository's host is not valid.")
        return _public_host_problem(host)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "ssh"):
        return _("Use an https:// or ssh:// address (or git@host:path).")
    if not parts.hostname or not _host_is_name_or_ip(parts.hostname):
        return _("The repository's host is not valid.")
    if parts.scheme == "https" and (parts.username or parts.password):
        # A token in the URL would be stored in the clear and shown back: deploy keys or env secrets carry access.
        return _("Do not put credentials in the address: the platform gives you a deploy key instead.")
    if parts.password:
        return _("Do not put a password in the address.")
    try:
        parts.port  # noqa: B018  # raises ValueError on a port out of range
    except ValueError:
        return _("The repository's port is not valid.")
    if not parts.path or parts.path == "/":
        return _("Give the repository's path, e.g. https://git.example.com/team/app.git.")
    if parts.query or parts.fragment:
        return _("Remove the query or fragment from the address.")
    return _public_host_problem(parts.hostname)


def _host_is_name_or_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    labels = host.lower().rstrip(".").split(".")
    return bool(labels) and all(DNS_LABEL_RE.match(label) for label in labels)


def branch_problem(branch: str) -> str | None:
    """Why ``branch`` is not a valid Git branch name (git-check-ref-format(1)), or None."""
    if not branch:
        return _("Enter a branch.")
    if (
        len(branch) > BRANCH_MAX
        or BRANCH_FORBIDDEN_RE.search(branch)
        or branch.startswith(("-", "/"))
        or branch.endswith(("/", ".", ".lock"))
        or branch == "@"
        or any(part.startswith(".") or part.endswith(".lock") for part in branch.split("/"))
    ):
        return _("This is not a valid Git branch name.")
    return None


def image_reference_problem(reference: str) -> str | None:
    """Why ``reference`` is not a container image reference (distribution/reference grammar), or None."""
    if not reference:
        return _("Enter an image reference such as registry.example.com/team/app:1.2.")
    match = IMAGE_REFERENCE_RE.match(reference)
    if match is None:
        return _(
            "This is not an image reference: use [registry/]path[:tag][@digest] with lower-case path components, "
            "e.g. ghcr.io/acme/shop:2.1 or nginx@sha256:<64 hex digits>."
        )
    if len(match.group("name")) > IMAGE_NAME_MAX:
        return _("An image name has at most 255 characters.")
    digest = match.group("digest")
    if digest and digest.lower().startswith("sha256:") and len(digest) != len("sha256:") + 64:
        return _("A sha256 digest has 64 hexadecimal digits.")
    return None


def _paas(offer: Offer, data: Mapping[str, Any], errors: _Errors) -> tuple[dict[str, Any], dict[str, str]]:
    source_in = data.get("source")
    source: dict[str, Any] = {}
    if not isinstance(source_in, Mapping):
        errors.add("source", _("Give the source: a Git repository and branch, or a container image."))
    else:
        kind = _str(source_in.get("kind")) or ("image" if source_in.get("image") else "git")
        for key in source_in:
            if key not in ("kind", "url", "branch", "image"):
                errors.add(f"source.{key}", _("Unknown field for this kind of service."))
        if kind == "git":
            url = _str(source_in.get("url"))
            branch = _str(source_in.get("branch"))
            branch = "main" if branch == "" else branch
            problem = git_url_problem(url or "") if url is not None else _("Send the address as text.")
            if problem:
                errors.add("source.url", problem)
            problem = branch_problem(branch) if branch is not None else _("Send the branch as text.")
            if problem:
                errors.add("source.branch", problem)
            if source_in.get("image"):
                errors.add("source.image", _("A Git source takes no image."))
            source = {"kind": "git", "url": url or "", "branch": branch or ""}
        elif kind == "image":
            image = _str(source_in.get("image"))
            problem = image_reference_problem(image or "") if image is not None else _("Send the image as text.")
            if problem:
                errors.add("source.image", problem)
            if source_in.get("url") or source_in.get("branch"):
                errors.add("source.url", _("An image source takes no repository."))
            source = {"kind": "image", "image": image or ""}
        else:
            errors.add("source.kind", _("Choose git or image."))

    environment = _str(data.get("environment"))
    environment = "prod" if environment == "" else environment
    if environment not in PAAS_ENVIRONMENTS:
        errors.add("environment", _("Choose one of: %(choices)s.") % {"choices": ", ".join(PAAS_ENVIRONMENTS)})

    env_names: list[str] = []
    secrets: dict[str, str] = {}
    env = _list(data, "env", errors)
    if len(env) > ENV_MAX:
        errors.add("env", _("At most %(max)s environment variables.") % {"max": ENV_MAX})
    for index, item in enumerate(env[:ENV_MAX]):
        if not isinstance(item, Mapping):
            errors.add(f"env.{index}", _("Send an object with a name and a value."))
            continue
        name = item.get("name")
        value = item.get("value", "")
        if not isinstance(name, str) or not ENV_NAME_RE.match(name):
            errors.add(
                f"env.{index}.name",
                _("Use letters, digits and underscores, not starting with a digit (e.g. DATABASE_URL)."),
            )
        elif name in secrets:
            errors.add(f"env.{index}.name", _("This variable is already set."))
        if not isinstance(value, str):
            errors.add(f"env.{index}.value", _("Send the value as text."))
        elif len(value) > ENV_VALUE_MAX:
            errors.add(f"env.{index}.value", _("A value has at most 32 KiB."))
        elif "\x00" in value:
            errors.add(f"env.{index}.value", _("A value cannot contain a NUL character."))
        if isinstance(name, str) and ENV_NAME_RE.match(name) and name not in secrets and isinstance(value, str):
            secrets[name] = value
            env_names.append(name)
        for key in item:
            if key not in ("name", "value"):
                errors.add(f"env.{index}.{key}", _("Unknown field for this kind of service."))

    cluster = offer.paas_kubernetes_cluster
    max_containers = PAAS_CLUSTER_MAX_CONTAINERS if cluster else (offer.paas_containers or 1)
    containers = _int(data.get("containers"), default=1)
    if containers is None:
        errors.add("containers", _("Enter a whole number."))
    elif containers < 1:
        errors.add("containers", _("Run at least one container."))
    elif containers > max_containers:
        errors.add(
            "containers",
            _("The %(tier)s tier runs at most %(max)s container(s).") % {"tier": offer.code, "max": max_containers},
        )

    sizes = paas_ram_choices(offer)
    # The tier's size by default; on a configurable tier, 4 GB (the Business tier's size).
    default_ram = PAAS_CONFIGURABLE_DEFAULT_RAM_GB if offer.paas_ram_configurable else sizes[-1]
    ram_gb = _int(data.get("ram_gb"), default=default_ram)
    if ram_gb is None:
        errors.add("ram_gb", _("Enter a whole number of GB."))
    elif ram_gb not in sizes:
        errors.add(
            "ram_gb",
            _("The %(tier)s tier offers %(sizes)s GB per container.")
            % {"tier": offer.code, "sizes": ", ".join(str(s) for s in sizes)},
        )
    config = {
        "source": source,
        "environment": environment or "",
        "env": env_names,
        "containers": containers or 0,
        "ram_gb": ram_gb or 0,
    }
    return config, secrets


def paas_ram_choices(offer: Offer) -> tuple[int, ...]:
    """RAM sizes (GB) a container of ``offer``'s tier may have (for forms)."""
    if offer.paas_ram_configurable or offer.paas_ram_per_container_gb is None:
        return PAAS_CONFIGURABLE_RAM_GB
    sizes = tuple(s for s in PAAS_CONFIGURABLE_RAM_GB if s <= offer.paas_ram_per_container_gb)
    return sizes if offer.paas_ram_per_container_gb in sizes else (*sizes, offer.paas_ram_per_container_gb)


# ---------------------------------------------------------------------------
# CDN
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Load balancer (a plain structured configuration until apps.loadbalancers runs it)
# ---------------------------------------------------------------------------
def _protocol(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    wanted = value.strip().lower()
    return next((p for p in LB_PROTOCOLS if p.lower() == wanted), None)


def _port(value: Any) -> int | None:
    port = _int(value)
    return port if port is not None and 1 <= port <= 65535 else None


def _load_balancer(offer: Offer, data: Mapping[str, Any], errors: _Errors) -> dict[str, Any]:
    tier_protocols = [p for p in (_protocol(x) for x in offer.lb_protocols or []) if p]
    rules: list[dict[str, Any]] = []
    raw_rules = _list(data, "rules", errors)
    if not raw_rules and "rules" not in errors.fields:
        errors.add("rules", _("Add at least one forwarding rule, e.g. HTTP 80 → HTTP 8080."))
    if len(raw_rules) > LB_RULES_MAX:
        errors.add("rules", _("At most %(max)s forwarding rules.") % {"max": LB_RULES_MAX})
    entry_ports: set[tuple[str, int]] = set()
    for index, item in enumerate(raw_rules[:LB_RULES_MAX]):
        if not isinstance(item, Mapping):
            errors.add(f"rules.{index}", _("Send an object with protocol, port, target_protocol and target_port."))
            continue
        protocol = _protocol(item.get("protocol"))
        target_protocol = _protocol(item.get("target_protocol") or item.get("protocol"))
        port = _port(item.get("port"))
        target_port = _port(item.get("target_port") or item.get("port"))
        for key, value in (("protocol", protocol), ("target_protocol", target_protocol)):
            if value is None:
                errors.add(
                    f"rules.{index}.{key}", _("Choose one of: %(choices)s.") % {"choices": ", ".join(LB_PROTOCOLS)}
                )
            elif value not in tier_protocols:
                errors.add(
                    f"rules.{index}.{key}",
                    _("The %(tier)s tier allows %(protocols)s.")
                    % {"tier": offer.code, "protocols": ", ".join(tier_protocols)},
                )
        if protocol and target_protocol and target_protocol not in LB_TARGET_PROTOCOLS[protocol]:
            errors.add(
                f"rules.{index}.target_protocol",
                _("%(protocol)s traffic is forwarded as %(targets)s.")
                % {"protocol": protocol, "targets": " or ".join(LB_TARGET_PROTOCOLS[protocol])},
            )
        if port is None:
            errors.add(f"rules.{index}.port", _("Enter a port from 1 to 65535."))
        if target_port is None:
            errors.add(f"rules.{index}.target_port", _("Enter a port from 1 to 65535."))
        if protocol and port:
            transport = "udp" if protocol in ("UDP", "HTTP/3") else "tcp"
            if (transport, port) in entry_ports:
                errors.add(f"rules.{index}.port", _("Another rule already listens on this port."))
            entry_ports.add((transport, port))
        for key in item:
            if key not in ("protocol", "port", "target_protocol", "target_port"):
                errors.add(f"rules.{index}.{key}", _("Unknown field for this kind of service."))
        if protocol and target_protocol and port and target_port:
            rules.append(
                {"protocol": protocol, "port": port, "target_protocol": target_protocol, "target_port": target_port}
            )

    targets: list[dict[str, Any]] = []
    servers: set[str] = set()
    raw_targets = _list(data, "targets", errors)
    if len(raw_targets) > LB_TARGETS_MAX:
        errors.add("targets", _("At most %(max)s targets.") % {"max": LB_TARGETS_MAX})
    for index, item in enumerate(raw_targets[:LB_TARGETS_MAX]):
        if not isinstance(item, Mapping):
            errors.add(f"targets.{index}", _("Send an object: a server id or a label selector."))
            continue
        kind = _str(item.get("kind")) or ("label_selector" if item.get("label_selector") else "server")
        if kind == "server":
            try:
                public_id = str(uuid.UUID(_str(item.get("id")) or ""))
            except ValueError:
                errors.add(f"targets.{index}.id", _("Enter a server id."))
                continue
            if public_id in servers:
                errors.add(f"targets.{index}.id", _("This server is already a target."))
                continue
            servers.add(public_id)
            targets.append({"kind": "server", "id": public_id})
        elif kind == "label_selector":
            selector = _str(item.get("label_selector"))
            if not selector:
                errors.add(f"targets.{index}.label_selector", _("Enter a label selector such as role=web,env=prod."))
                continue
            try:
                label_selector_parse(selector)
            except ValueError as exc:
                errors.add(f"targets.{index}.label_selector", str(exc))
                continue
            targets.append({"kind": "label_selector", "label_selector": selector})
        else:
            errors.add(f"targets.{index}.kind", _("Choose server or label_selector."))
    if not offer.lb_backends_unlimited and offer.lb_backends is not None and len(servers) > offer.lb_backends:
        errors.add(
            "targets",
            _("The %(tier)s tier balances at most %(max)s backends.") % {"tier": offer.code, "max": offer.lb_backends},
        )
    return {"rules": rules, "targets": targets}


_KNOWN_FIELDS: dict[str, frozenset[str]] = {
    ServiceFamily.WEB_HOSTING: frozenset({"domain", "runtime", "version", "app", "extra_domains"}),
    ServiceFamily.PAAS: frozenset({"source", "environment", "env", "containers", "ram_gb"}),
    ServiceFamily.CDN: frozenset({"origin", "hostnames", "cache_rules", "waf"}),
    ServiceFamily.LOAD_BALANCER: frozenset({"rules", "targets"}),
}
