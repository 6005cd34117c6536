"""A managed service's fields in the create flow, per family (web hosting, PaaS, load balancer, CDN):
added to the form, shaped into the order's ``service`` object, and its errors put back on them
(``apps.managed.rules`` checks them; the form only shapes them).
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import Offer
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.managed import rules as service_validation
from apps.managed.choices import ENDED_STATES, ServiceFamily
from apps.managed.models import ManagedService
from apps.teams.models import Organisation

# ---------------------------------------------------------------------------
# A managed service's fields, per family (apps.managed.rules checks them; the form only shapes them)
# ---------------------------------------------------------------------------
SOURCE_CHOICES = (("git", _("A Git repository")), ("image", _("A container image")))
ORIGIN_CHOICES = (
    ("url", _("A URL")),
    ("server", _("One of your servers")),
    ("load_balancer", _("One of your load balancers")),
)
ENVIRONMENT_CHOICES = (("prod", _("Production")), ("staging", _("Staging")), ("dev", _("Development")))
LINES = {"rows": 3, "spellcheck": "false"}

# The service object's paths → the form field showing their errors (first prefix that matches).
SERVICE_ERROR_FIELDS: tuple[tuple[str, str], ...] = (
    ("service.domain", "service_domain"),
    ("service.runtime", "service_runtime"),
    ("service.version", "service_runtime"),
    ("service.app", "service_app"),
    ("service.extra_domains", "service_extra_domains"),
    ("service.source.kind", "service_source_kind"),
    ("service.source.url", "service_repository"),
    ("service.source.branch", "service_branch"),
    ("service.source.image", "service_image"),
    ("service.source", "service_repository"),
    ("service.environment", "service_environment"),
    ("service.env", "service_env"),
    ("service.containers", "service_containers"),
    ("service.ram_gb", "service_ram_gb"),
    ("service.origin.kind", "service_origin_kind"),
    ("service.origin.url", "service_origin_url"),
    ("service.origin.id", "service_origin_id"),
    ("service.origin", "service_origin_url"),
    ("service.hostnames", "service_hostnames"),
    ("service.cache_rules", "service_cache_rules"),
    ("service.waf", "service_waf"),
    ("service.rules", "service_rules"),
    ("service.targets", "service_targets"),
)


def service_field_for(path: str) -> str | None:
    return next(
        (name for prefix, name in SERVICE_ERROR_FIELDS if path == prefix or path.startswith(prefix + ".")), None
    )


def _path_hint(path: str) -> str:
    """ "service.env.2.name" → "Line 3: " (the textarea fields hold one item per line)."""
    parts = path.split(".")
    index = next((p for p in parts[2:] if p.isdigit()), None) if len(parts) > 2 else None
    return _("Line %(n)s: ") % {"n": int(index) + 1} if index is not None else ""


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").replace("\r\n", "\n").split("\n") if line.strip()]


def service_fields_add(form: forms.Form, *, family: str, offer: Offer, organisation: Organisation) -> list[str]:
    """Add the family's fields to ``form``; returns their names in display order."""
    f: dict[str, forms.Field] = {}
    if family == ServiceFamily.WEB_HOSTING:
        f["service_domain"] = forms.CharField(
            label=_("Primary domain"),
            max_length=253,
            help_text=_("The site's domain, e.g. shop.example.com (internationalised names are welcome)."),
        )
        f["service_runtime"] = forms.ChoiceField(
            label=_("Runtime"),
            choices=service_validation.web_runtime_choices(),
            initial="php:8.3",
            help_text=_("The language and version your site runs on."),
        )
        apps = service_validation.one_click_apps(offer)
        f["service_app"] = forms.ChoiceField(
            label=_("1-click app (optional)"),
            required=False,
            choices=[("", _("None: an empty site")), *apps],
        )
        if offer.web_sites_unlimited or (offer.web_sites or 1) > 1:
            f["service_extra_domains"] = forms.CharField(
                label=_("Other sites' domains (optional)"),
                required=False,
                widget=forms.Textarea(attrs=LINES),
                help_text=_("One domain per line; the plan's number of websites includes the primary one."),
            )
    elif family == ServiceFamily.PAAS:
        f["service_source_kind"] = forms.ChoiceField(
            label=_("Deploy from"), choices=SOURCE_CHOICES, initial="git", widget=forms.RadioSelect
        )
        f["service_repository"] = forms.CharField(
            label=_("Git repository"),
            required=False,
            max_length=2000,
            help_text=_("https://… or ssh:// (or git@host:path); no credentials: you get a deploy key."),
        )
        f["service_branch"] = forms.CharField(label=_("Branch"), required=False, max_length=255, initial="main")
        f["service_image"] = forms.CharField(
            label=_("Container image"),
            required=False,
            max_length=512,
            help_text=_("e.g. ghcr.io/acme/shop:2.1 or nginx@sha256:…"),
        )
        f["service_environment"] = forms.ChoiceField(
            label=_("Environment"), choices=ENVIRONMENT_CHOICES, initial="prod"
        )
        f["service_env"] = forms.CharField(
            label=_("Environment variables (optional)"),
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={**LINES, "placeholder": "DATABASE_URL=postgres://…"}),
            help_text=_("One NAME=value per line. Values are stored encrypted and never shown again."),
        )
        max_containers = (
            service_validation.PAAS_CLUSTER_MAX_CONTAINERS if offer.paas_kubernetes_cluster else offer.paas_containers
        )
        f["service_containers"] = forms.IntegerField(
            label=_("Containers"), min_value=1, max_value=max_containers or 1, initial=1
        )
        sizes = service_validation.paas_ram_choices(offer)
        f["service_ram_gb"] = forms.TypedChoiceField(
            label=_("RAM per container"),
            coerce=int,
            choices=[(size, f"{size} GB") for size in sizes],
            initial=sizes[-1]
            if not offer.paas_ram_configurable
            else service_validation.PAAS_CONFIGURABLE_DEFAULT_RAM_GB,
        )
    elif family == ServiceFamily.CDN:
        f["service_origin_kind"] = forms.ChoiceField(
            label=_("Origin"), choices=ORIGIN_CHOICES, initial="url", widget=forms.RadioSelect
        )
        f["service_origin_url"] = forms.CharField(
            label=_("Origin URL"), required=False, max_length=2000, help_text=_("e.g. https://origin.example.com")
        )
        servers = Instance.objects.filter(organisation=organisation).exclude(
            status__in=(InstanceStatus.DELETING, InstanceStatus.DELETED)
        )
        balancers = ManagedService.objects.filter(
            organisation=organisation, family=ServiceFamily.LOAD_BALANCER
        ).exclude(state__in=ENDED_STATES)
        f["service_origin_id"] = forms.ChoiceField(
            label=_("Server or load balancer"),
            required=False,
            choices=[
                ("", "—"),
                *[
                    (str(pk), _("Server %(name)s") % {"name": name})
                    for pk, name in servers.values_list("public_id", "name")
                ],
                *[
                    (str(pk), _("Load balancer %(name)s") % {"name": name})
                    for pk, name in balancers.values_list("public_id", "name")
                ],
            ],
        )
        f["service_hostnames"] = forms.CharField(
            label=_("Hostnames"),
            widget=forms.Textarea(attrs=LINES),
            help_text=_("The names the CDN answers for, one per line, e.g. cdn.example.com."),
        )
        f["service_cache_rules"] = forms.CharField(
            label=_("Cache rules (optional)"),
            required=False,
            widget=forms.Textarea(attrs={**LINES, "placeholder": "/static/* 86400"}),
            help_text=_("One path pattern and a TTL in seconds per line."),
        )
        levels = service_validation.waf_choices(offer)
        f["service_waf"] = forms.ChoiceField(
            label=_("Web application firewall"),
            choices=[(w, str(dict(catalogue_choices.WafLevel.choices)[w])) for w in levels],
            initial=levels[-1],
            help_text=_("Up to what your plan includes."),
        )
    else:
        protocols = ", ".join(offer.lb_protocols or [])
        f["service_rules"] = forms.CharField(
            label=_("Forwarding rules"),
            widget=forms.Textarea(attrs={**LINES, "placeholder": "HTTP 80 HTTP 8080"}),
            help_text=_(
                "One rule per line: entry protocol and port, then target protocol and port. Your plan allows %(p)s."
            )
            % {"p": protocols},
        )
        f["service_targets"] = forms.CharField(
            label=_("Targets (optional)"),
            required=False,
            widget=forms.Textarea(attrs={**LINES, "placeholder": "role=web"}),
            help_text=_("One per line: a server id, or a label selector such as role=web."),
        )
    for name, field in f.items():
        form.fields[name] = field
    return list(f)


def service_data_from(family: str, data: dict[str, Any]) -> dict[str, Any]:
    """The service object of an order from the form's cleaned fields (the API's shape)."""
    if family == ServiceFamily.WEB_HOSTING:
        return {
            "domain": data.get("service_domain", ""),
            "runtime": data.get("service_runtime", ""),
            "app": data.get("service_app", ""),
            "extra_domains": _lines(data.get("service_extra_domains")),
        }
    if family == ServiceFamily.PAAS:
        kind = data.get("service_source_kind") or "git"
        source = (
            {"kind": "git", "url": data.get("service_repository", ""), "branch": data.get("service_branch", "")}
            if kind == "git"
            else {"kind": "image", "image": data.get("service_image", "")}
        )
        env = []
        for line in str(data.get("service_env") or "").replace("\r\n", "\n").split("\n"):
            if not line.strip():
                continue
            name, _sep, value = line.partition("=")
            env.append({"name": name.strip(), "value": value})
        return {
            "source": source,
            "environment": data.get("service_environment", ""),
            "env": env,
            "containers": data.get("service_containers"),
            "ram_gb": data.get("service_ram_gb"),
        }
    if family == ServiceFamily.CDN:
        kind = data.get("service_origin_kind") or "url"
        origin = (
            {"kind": "url", "url": data.get("service_origin_url", "")}
            if kind == "url"
            else {"kind": kind, "id": data.get("service_origin_id", "")}
        )
        rules = []
        for line in _lines(data.get("service_cache_rules")):
            path, _sep, ttl = line.rpartition(" ")
            rules.append({"path": path.strip(), "ttl": ttl.strip()} if path else {"path": line, "ttl": ""})
        return {
            "origin": origin,
            "hostnames": _lines(data.get("service_hostnames")),
            "cache_rules": rules,
            "waf": data.get("service_waf", ""),
        }
    # The same parser as the load balancer's page.
    rules_out = service_validation.lb_rules_parse(data.get("service_rules"))
    targets = []
    for line in _lines(data.get("service_targets")):
        try:
            targets.append({"kind": "server", "id": str(uuid.UUID(line))})
        except ValueError:
            targets.append({"kind": "label_selector", "label_selector": line})
    return {"rules": rules_out, "targets": targets}
