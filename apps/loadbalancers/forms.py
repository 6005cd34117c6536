"""Plain HTML forms of the load balancer page: rules, targets, health check, settings.

The forms only turn text into the services' input (the order form's "HTTP 80 HTTP 8080" line
syntax for rules; a server id or name, or a label selector per line for targets); the services
check everything and their field errors are put back on the form's fields (``errors_from``).
Rule lines are parsed by ``apps.managed.rules.lb_rules_parse``, the order form's parser too.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.loadbalancers.models import LoadBalancer
from apps.managed.rules import lb_rules_text
from apps.teams.models import Organisation

LINES = {"rows": 4, "spellcheck": "false"}
SELECTOR_CHARS = set("=!(), ")


def lines_of(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").replace("\r\n", "\n").split("\n") if line.strip()]


def targets_parse(text: str, *, organisation: Organisation) -> list[dict[str, str]]:
    """A server id, a server's name (in the organisation) or a label selector per line."""
    targets: list[dict[str, str]] = []
    for line in lines_of(text):
        try:
            targets.append({"kind": "server", "id": str(uuid.UUID(line))})
            continue
        except ValueError:
            pass
        if not SELECTOR_CHARS & set(line):
            ids = list(
                Instance.objects.filter(organisation=organisation, name=line)
                .exclude(status__in=(InstanceStatus.DELETING, InstanceStatus.DELETED))
                .values_list("public_id", flat=True)[:2]
            )
            if len(ids) == 1:
                targets.append({"kind": "server", "id": str(ids[0])})
                continue
        targets.append({"kind": "label_selector", "label_selector": line})
    return targets


def targets_text(targets: list[dict[str, Any]]) -> str:
    return "\n".join(
        str(t.get("label_selector") if t.get("kind") == "label_selector" else t.get("id")) for t in targets or []
    )


class RulesForm(forms.Form):
    rules = forms.CharField(
        label=_("Forwarding rules"),
        widget=forms.Textarea(attrs={**LINES, "placeholder": "HTTPS 443 HTTP 8080"}),
        help_text=_("One rule per line: entry protocol and port, then target protocol and port."),
    )


class TargetsForm(forms.Form):
    targets = forms.CharField(
        label=_("Targets"),
        required=False,
        widget=forms.Textarea(attrs={**LINES, "placeholder": "role=web"}),
        help_text=_("One per line: a server id or name, or a label selector such as role=web."),
    )


class HealthCheckForm(forms.Form):
    protocol = forms.ChoiceField(
        label=_("Protocol"), choices=[("tcp", "TCP"), ("http", "HTTP"), ("https", "HTTPS")], initial="tcp"
    )
    port = forms.IntegerField(
        label=_("Port"), required=False, min_value=1, max_value=65535, help_text=_("Empty: each rule's target port.")
    )
    path = forms.CharField(label=_("Path (HTTP)"), required=False, max_length=1000, initial="/")
    interval_seconds = forms.IntegerField(label=_("Interval (seconds)"), min_value=1, max_value=3600, initial=5)
    rise = forms.IntegerField(label=_("Rise"), min_value=1, max_value=100, initial=2)
    fall = forms.IntegerField(label=_("Fall"), min_value=1, max_value=100, initial=3)


class SettingsForm(forms.Form):
    sticky = forms.BooleanField(label=_("Sticky sessions"), required=False)
    cookie_name = forms.CharField(
        label=_("Sticky cookie name"), required=False, max_length=64, help_text=_("Empty: LBSTICKY.")
    )
    redirect_http_to_https = forms.BooleanField(
        label=_("Redirect HTTP to HTTPS"),
        required=False,
        help_text=_("Takes effect once a certificate is set: until then HTTP is served as it is."),
    )
    proxy_protocol = forms.BooleanField(label=_("PROXY protocol to the targets"), required=False)


class CertificateForm(forms.Form):
    """A PEM certificate, its chain and its key (``certificates.certificate_validate`` checks them)."""

    certificate = forms.CharField(
        label=_("Certificate (PEM)"),
        widget=forms.Textarea(attrs={**LINES, "placeholder": "-----BEGIN CERTIFICATE-----"}),
    )
    chain = forms.CharField(label=_("Chain (PEM, intermediates)"), required=False, widget=forms.Textarea(attrs=LINES))
    private_key = forms.CharField(
        label=_("Private key (PEM, stored encrypted, never shown again)"), widget=forms.Textarea(attrs=LINES)
    )


def initial_forms(lb: LoadBalancer) -> dict[str, forms.Form]:
    """The five forms, filled with the load balancer's current configuration (the certificate's is empty)."""
    health = lb.health_check or {}
    sticky = lb.sticky_sessions or {}
    return {
        "rules_form": RulesForm(initial={"rules": lb_rules_text(lb.rules)}),
        "targets_form": TargetsForm(initial={"targets": targets_text(lb.targets)}),
        "health_form": HealthCheckForm(
            initial={k: health.get(k) for k in ("protocol", "port", "path", "interval_seconds", "rise", "fall")}
        ),
        "settings_form": SettingsForm(
            initial={
                "sticky": bool(lb.sticky_sessions),
                "cookie_name": sticky.get("cookie_name", ""),
                "redirect_http_to_https": lb.redirect_http_to_https,
                "proxy_protocol": lb.proxy_protocol,
            }
        ),
        "certificate_form": CertificateForm(),
    }


def _field_for(form: forms.Form, path: str) -> str | None:
    head, _sep, rest = path.partition(".")
    if head == "health_check":
        head = rest.split(".")[0]
    elif head == "sticky_sessions":
        head = "cookie_name" if "cookie_name" in form.fields else "sticky"
    return head if head in form.fields else None


def _line_hint(path: str) -> str:
    """ "rules.2.port" → "Line 3: " (the textareas hold one item per line)."""
    index = next((p for p in path.split(".")[1:] if p.isdigit()), None)
    return gettext("Line %(n)s: ") % {"n": int(index) + 1} if index is not None else ""


def errors_from(form: forms.Form, message: str, fields: dict[str, list[str]] | None) -> None:
    """Put a service's field errors on the form's fields (the rest, and the message, above the form)."""
    placed = False
    for path, texts in (fields or {}).items():
        name = _field_for(form, path)
        for text in texts:
            if name is None:
                form.add_error(None, f"{path}: {text}")
            else:
                form.add_error(name, _line_hint(path) + text)
            placed = True
    if not placed:
        form.add_error(None, message)
