"""Labels on customer resources and the label selectors that filter lists by them.

Labels are a flat JSON object of text keys and text values, with the syntax of
Kubernetes labels, which Hetzner Cloud also uses
(https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set,
https://docs.hetzner.cloud/reference/cloud#label-selector):

* key: an optional prefix (a DNS subdomain, at most 253 characters) and ``/``,
  then a name of 1 to 63 characters: letters, digits, ``-``, ``_``, ``.``,
  starting and ending with a letter or digit;
* value: empty, or 1 to 63 characters with the same rule as a key's name.

A selector is a comma-separated list of requirements, all of which must hold:
``k=v`` (also ``k==v``), ``k!=v``, ``k``, ``!k``, ``k in (a,b)`` and
``k notin (a,b)``. As in Kubernetes, ``k!=v`` and ``k notin (...)`` also match
resources without the key. ``label_selector_q`` turns a parsed selector into a
Django ``Q`` on a ``JSONField`` that works on PostgreSQL and SQLite.
Docs: apps/docs/content/api-overview.md ("Labels and label selectors").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact, In, IsNull
from django.utils.translation import gettext as _

from apps.core.errors import ValidationFailed

MAX_LABELS = 64
MAX_SELECTOR_LENGTH = 2000

_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?"
KEY_PATTERN = rf"(?:{_PREFIX}/)?{_NAME}"
VALUE_PATTERN = rf"(?:{_NAME})?"

_KEY_RE = re.compile(rf"^{KEY_PATTERN}$")
_VALUE_RE = re.compile(rf"^{VALUE_PATTERN}$")
_SET_RE = re.compile(rf"^(?P<key>{KEY_PATTERN})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_EQUALITY_RE = re.compile(rf"^(?P<key>{KEY_PATTERN})\s*(?P<op>==|!=|=)\s*(?P<value>{VALUE_PATTERN})$")
_EXISTS_RE = re.compile(rf"^(?P<not>!)?\s*(?P<key>{KEY_PATTERN})$")

_S = " *"
_REQ = (
    rf"(?:!{_S}{KEY_PATTERN}"
    rf"|{KEY_PATTERN}{_S}(?:(?:==|!=|=){_S}{VALUE_PATTERN})?"
    rf"|{KEY_PATTERN} +(?:in|notin){_S}\({_S}{VALUE_PATTERN}{_S}(?:,{_S}{VALUE_PATTERN}{_S})*\))"
)
# The whole selector as one regular expression (also valid in ECMAScript), published as the OpenAPI
# ``pattern`` of ``label_selector``: whatever matches it, the parser accepts.
SELECTOR_PATTERN = rf"^{_S}{_REQ}{_S}(?:,{_S}{_REQ}{_S})*$"


@dataclass(frozen=True)
class Requirement:
    """One requirement of a selector: ``op`` is one of =, !=, exists, !exists, in, notin."""

    key: str
    op: str
    values: tuple[str, ...] = ()


def labels_validate(labels: Any, *, field: str = "labels") -> dict[str, str]:
    """``labels`` as a clean dict, or ``ValidationFailed`` naming the first bad key or value."""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        message = _("Labels are a JSON object of text keys and text values.")
        raise ValidationFailed(message, code="invalid_labels", fields={field: [message]})
    if len(labels) > MAX_LABELS:
        message = _("At most %(max)d labels.") % {"max": MAX_LABELS}
        raise ValidationFailed(message, code="invalid_labels", fields={field: [message]})
    clean: dict[str, str] = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not _KEY_RE.match(key):
            message = _(
                "“%(key)s” is not a valid label key: an optional DNS prefix and “/”, then 1 to 63 letters, "
                "digits, “-”, “_” or “.”, starting and ending with a letter or digit."
            ) % {"key": str(key)[:80]}
            raise ValidationFailed(message, code="invalid_labels", fields={field: [message]})
        if not isinstance(value, str) or not _VALUE_RE.match(value):
            message = _(
                "The value of label “%(key)s” is not valid: empty, or 1 to 63 letters, digits, “-”, “_” or “.”, "
                "starting and ending with a letter or digit."
            ) % {"key": key}
            raise ValidationFailed(message, code="invalid_labels", fields={field: [message]})
        clean[key] = value
    return clean


def _split(selector: str) -> list[str]:
    """Split on the commas that are not inside ``( )``."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def label_selector_parse(selector: str) -> list[Requirement]:
    """Parse a selector; ``ValueError`` with a message that names the faulty requirement."""
    if len(selector) > MAX_SELECTOR_LENGTH:
        raise ValueError(_("A label selector has at most %(max)d characters.") % {"max": MAX_SELECTOR_LENGTH})
    if not selector.strip():
        raise ValueError(_("The label selector is empty."))
    if selector.count("(") != selector.count(")"):
        raise ValueError(_("Unbalanced parentheses in the label selector."))
    requirements: list[Requirement] = []
    for position, raw in enumerate(_split(selector), start=1):
        text = raw.strip()
        if not text:
            raise ValueError(_("Requirement %(n)d of the label selector is empty.") % {"n": position})
        if match := _SET_RE.match(text):
            values = tuple(v.strip() for v in match["values"].split(","))
            for value in values:
                if not _VALUE_RE.match(value):
                    raise ValueError(
                        _("“%(value)s” in requirement %(n)d is not a valid label value.")
                        % {"value": value[:80], "n": position}
                    )
            requirements.append(Requirement(match["key"], match["op"], values))
        elif match := _EQUALITY_RE.match(text):
            op = "!=" if match["op"] == "!=" else "="
            requirements.append(Requirement(match["key"], op, (match["value"],)))
        elif match := _EXISTS_RE.match(text):
            requirements.append(Requirement(match["key"], "!exists" if match["not"] else "exists"))
        else:
            raise ValueError(
                _(
                    "Requirement %(n)d (“%(text)s”) is not valid: use key=value, key!=value, key, !key, "
                    "key in (v1,v2) or key notin (v1,v2), with keys and values of letters, digits, “-”, “_” "
                    "and “.” (keys may have a DNS prefix and “/”)."
                )
                % {"n": position, "text": text[:80]}
            )
    return requirements


def label_selector_q(requirements: list[Requirement], *, field: str = "labels") -> Q:
    """A ``Q`` that keeps the rows whose ``field`` (a JSONField of labels) meets every requirement."""
    q = Q()
    for req in requirements:
        value = KeyTextTransform(req.key, field)
        missing = IsNull(KeyTextTransform(req.key, field), True)
        if req.op == "=":
            q &= Q(Exact(value, req.values[0]))
        elif req.op == "!=":
            q &= Q(missing) | ~Q(Exact(value, req.values[0]))
        elif req.op == "in":
            q &= Q(In(value, list(req.values)))
        elif req.op == "notin":
            q &= Q(missing) | ~Q(In(value, list(req.values)))
        elif req.op == "exists":
            q &= Q(**{f"{field}__has_key": req.key})
        else:
            q &= ~Q(**{f"{field}__has_key": req.key})
    return q
