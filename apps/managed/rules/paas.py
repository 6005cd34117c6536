"""PaaS: the source (a Git repository and branch, or a container image), environment, variables, containers, RAM."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from apps.managed.rules.fields import Offer, _Errors, _int, _list, _str
from apps.managed.rules.hosts import (
    _host_is_name_or_ip,
    _public_host_problem,
)

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
