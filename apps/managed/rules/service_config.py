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

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from apps.catalogue import choices as catalogue_choices
from apps.core.errors import ValidationFailed
from apps.managed.choices import ServiceFamily, family_for_product_slug
from apps.managed.rules.cdn import OriginResolver, _cdn
from apps.managed.rules.fields import Offer, _Errors
from apps.managed.rules.load_balancer import _load_balancer
from apps.managed.rules.paas import _paas
from apps.managed.rules.web_hosting import _web_hosting


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


_KNOWN_FIELDS: dict[str, frozenset[str]] = {
    ServiceFamily.WEB_HOSTING: frozenset({"domain", "runtime", "version", "app", "extra_domains"}),
    ServiceFamily.PAAS: frozenset({"source", "environment", "env", "containers", "ram_gb"}),
    ServiceFamily.CDN: frozenset({"origin", "hostnames", "cache_rules", "waf"}),
    ServiceFamily.LOAD_BALANCER: frozenset({"rules", "targets"}),
}
