"""The organisation switcher follows the object you open.

A user in two organisations who opens a link to the other one's server (from an
e-mail, a colleague, the search) expects the console around it (the switcher, the
sidebar's lists, the dashboard after it) to be that organisation's. Before a portal
page of one object is rendered, this middleware reads the object through its app's
selector (scoped to the actor: a 404 stays a 404, and nothing is learnt about an
object the user may not see) and, when it belongs to another organisation the user
is a member of, makes that organisation the current one (``apps.teams.portal``).
Only page views (GET) of the console, never the API (a token names its organisation).
See apps/docs/content/console.md#organisations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from apps.alerts import selectors as alert_selectors
from apps.alerts.models import AlertPolicy
from apps.core.errors import ApplicationError
from apps.firewalls import selectors as firewall_selectors
from apps.firewalls.models import Firewall
from apps.floating_ips import selectors as floating_ip_selectors
from apps.floating_ips.models import FloatingIp
from apps.instances import selectors as instance_selectors
from apps.instances.models import Instance
from apps.managed import selectors as managed_selectors
from apps.managed.models import ManagedService
from apps.networks import selectors as network_selectors
from apps.networks.models import Network
from apps.orders import selectors as order_selectors
from apps.orders.models import Order
from apps.teams.access import organisation_list_for_actor
from apps.teams.portal import current_organisation, set_current_organisation
from apps.volumes import selectors as volume_selectors
from apps.volumes.models import Volume

# URL keyword of a console page → the object's model (every one has a unique ``public_id`` and an
# ``organisation``) and how to read it for the actor (raises NotFound/PermissionDenied).
OBJECT_READERS: dict[str, tuple[type[Model], Callable[[Any, Any], Any]]] = {
    "instance_id": (Instance, lambda actor, pk: instance_selectors.instance_get(actor=actor, public_id=pk)),
    "volume_id": (Volume, lambda actor, pk: volume_selectors.volume_get(actor=actor, public_id=pk)),
    "network_id": (Network, lambda actor, pk: network_selectors.network_get(actor=actor, public_id=pk)),
    "firewall_id": (Firewall, lambda actor, pk: firewall_selectors.firewall_get(actor=actor, public_id=pk)),
    "floating_ip_id": (
        FloatingIp,
        lambda actor, pk: floating_ip_selectors.floating_ip_get(actor=actor, public_id=pk),
    ),
    "service_id": (ManagedService, lambda actor, pk: managed_selectors.service_get(actor=actor, public_id=pk)),
    "policy_id": (AlertPolicy, lambda actor, pk: alert_selectors.alert_policy_get(actor=actor, public_id=pk)),
    "order_id": (Order, lambda actor, pk: order_selectors.order_get(actor=actor, order_id=pk)),
}


def organisation_of_object(request: HttpRequest, view_kwargs: dict[str, Any]) -> Any:
    """The organisation of the object a console page shows, when the actor may see it; None otherwise."""
    for keyword, (_model, read) in OBJECT_READERS.items():
        if keyword in view_kwargs:
            try:
                return read(request.user, view_kwargs[keyword]).organisation
            except ApplicationError:
                return None
    return None


def _in_organisation(view_kwargs: dict[str, Any], organisation: Any) -> bool:
    """Whether the page's object belongs to ``organisation``: one indexed query, the usual case of every page."""
    for keyword, (model, _read) in OBJECT_READERS.items():
        if keyword in view_kwargs:
            try:
                return model._default_manager.filter(
                    public_id=view_kwargs[keyword], organisation_id=organisation.pk
                ).exists()
            except (ValueError, ValidationError):  # a malformed id: the view answers its 404
                return True
    return True


class OrganisationFollowsObjectMiddleware:
    """Switch the current organisation to that of the object a console page opens (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: dict[str, Any]
    ) -> None:
        if request.method != "GET" or request.path.startswith("/api/") or not request.user.is_authenticated:
            return None
        if not any(keyword in view_kwargs for keyword in OBJECT_READERS):
            return None
        current = current_organisation(request)
        # The page's object is nearly always the current organisation's: then the view's own read is the only one.
        if current is not None and _in_organisation(view_kwargs, current):
            return None
        organisation = organisation_of_object(request, view_kwargs)
        if organisation is None:
            return None
        # Only an organisation the switcher itself offers (apps.teams.portal.switchable_organisations).
        if organisation_list_for_actor(actor=request.user).filter(pk=organisation.pk).exists():
            set_current_organisation(request, organisation)
        return None
