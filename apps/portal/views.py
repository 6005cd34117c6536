"""Portal pages: the public home, the signed-in dashboard (with its live partials) and the global search."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from apps.alerts import selectors as alert_selectors
from apps.catalogue.choices import FamilyKind
from apps.instances import selectors as instance_selectors
from apps.instances.choices import InstanceStatus
from apps.orders import selectors as order_selectors
from apps.orders.choices import FulfilmentStatus, OrderState
from apps.portal.selectors import dashboard_overview, home_facts, onboarding_checklist
from apps.portal.selectors import search as portal_search
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import current_organisation

S = InstanceStatus
# Statuses that settle by themselves: the dashboard polls while one is shown.
SETTLED = frozenset({S.RUNNING, S.STOPPED, S.ERROR, S.DELETED})
# Orders still on their way: a server not created yet, or a service staff have not delivered.
ORDERS_IN_FLIGHT = (OrderState.PENDING, OrderState.AWAITING_APPROVAL, OrderState.PROVISIONING)
# Orders that are no resource at all (never delivered, and final).
ORDERS_GONE = (OrderState.CANCELLED, OrderState.REJECTED)
SERVICES_SHOWN = 100
# Headings of the search results, by kind (apps.portal.selectors.search).
SEARCH_KINDS: dict[str, StrOrPromise] = {
    "server": _("Servers"),
    "volume": _("Volumes"),
    "network": _("Networks"),
    "service": _("Services"),
    "invoice": _("Invoices"),
    "doc": _("Documentation"),
}


def home(request: HttpRequest) -> HttpResponse:
    """The public home: its places, GPU models and figures come from the catalogue and fleet (portal.selectors)."""
    return render(request, "portal/home.html", {"facts": home_facts()})


def _services(request: HttpRequest, organisation: Organisation) -> list[Any]:
    """Managed-service orders (web hosting, PaaS, load balancers, CDN…) with their fulfilment status, plus
    server orders that have no server yet (awaiting approval, or about to be created), newest first."""
    qs = order_selectors.order_list(actor=request.user, organisation=organisation).exclude(state__in=ORDERS_GONE)
    qs = qs.filter(
        ~Q(offer__family__kind=FamilyKind.VIRTUAL_MACHINE) | Q(instance__isnull=True, state__in=ORDERS_IN_FLIGHT)
    )
    orders = list(qs[:SERVICES_SHOWN])
    for order in orders:
        order.is_service = order.offer.family.kind != FamilyKind.VIRTUAL_MACHINE  # type: ignore[attr-defined]
        order.moving = order.state in ORDERS_IN_FLIGHT or order.fulfilment_status in (  # type: ignore[attr-defined]
            FulfilmentStatus.QUEUED,
            FulfilmentStatus.IN_PROGRESS,
        )
    return orders


def _services_context(request: HttpRequest, organisation: Organisation | None) -> dict[str, Any]:
    """What ``portal/_dashboard_services.html`` needs; it polls itself while an order moves."""
    services = _services(request, organisation) if organisation is not None and not organisation.is_suspended else []
    return {
        "services": services,
        "services_polling": any(o.moving for o in services),
        "services_url": reverse("portal:dashboard_services"),
    }


# What the dashboard's resource cards link to, in the order they show (count keys of ``dashboard_overview``).
RESOURCE_CARDS: tuple[tuple[str, StrOrPromise, str, str], ...] = (
    ("servers", _("Servers"), "/servers/", "server"),
    ("volumes", _("Volumes"), "/volumes/", "database"),
    ("networks", _("Networks"), "/networks/", "split"),
    ("firewalls", _("Firewalls"), "/firewalls/", "shield"),
    ("floating_ips", _("Floating IPs"), "/floating-ips/", "pin"),
    ("services", _("Managed services"), "/services/", "globe"),
    ("load_balancers", _("Load balancers"), "/services/", "layers"),
    ("alert_policies", _("Alert policies"), "/alerts/", "list"),
    ("ssh_keys", _("SSH keys"), "/ssh-keys/", "key"),
)
# Resources proper (an SSH key or an alert policy alone is no resource the empty state would hide).
RESOURCE_KINDS = ("servers", "volumes", "networks", "firewalls", "floating_ips", "services", "load_balancers")
# The first-run checklist: key → (what to do, why, where it is done). Ticks come from data (portal.selectors).
CHECKLIST: dict[str, tuple[StrOrPromise, StrOrPromise, str]] = {
    "billing_identity": (
        _("Tell us who is billed"),
        _("Country, business or consumer, and VAT id: they decide the VAT on your invoices."),
        "teams:org_settings",
    ),
    "ssh_key": (_("Add an SSH key"), _("Log in to your servers without a password."), "instances:ssh_key_list"),
    "first_server": (_("Create your first server"), _("Ready in about a minute."), "orders:order_create"),
    "teammate": (_("Invite a teammate"), _("Work together, each with their own role."), "teams:member_list"),
    "two_factor": (
        _("Turn on two-factor authentication"),
        _("An authenticator app or a passkey protects your account."),
        "mfa_index",
    ),
}
SERVERS_SHOWN = 10  # the dashboard shows the newest; the servers page lists them all


def _checklist(request: HttpRequest, organisation: Organisation) -> list[dict[str, Any]]:
    items = []
    for item in onboarding_checklist(actor=request.user, organisation=organisation):
        label, hint, url_name = CHECKLIST[item.key]
        items.append({"key": item.key, "label": label, "hint": hint, "url": reverse(url_name), "done": item.done})
    return items


def _newest_servers(request: HttpRequest, organisation: Organisation) -> list[Any]:
    return list(instance_selectors.instance_list(actor=request.user).filter(organisation=organisation)[:SERVERS_SHOWN])


@login_required
def dashboard_servers(request: HttpRequest) -> HttpResponse:
    """The dashboard's newest servers, polled by htmx while one moves (the servers page polls its whole list)."""
    organisation = current_organisation(request)
    instances = _newest_servers(request, organisation) if organisation and not organisation.is_suspended else []
    context = {
        "instances": instances,
        "compact": True,
        "polling": any(i.status not in SETTLED for i in instances),
        "table_url": reverse("portal:dashboard_servers"),
    }
    return render(request, "instances/_server_table.html", context)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The current organisation at a glance: its first steps until they are done, every resource it has across
    products (counts and links), what is in progress, this month's spend against its budgets, notices (alerts
    firing, approvals waiting, servers on a node in maintenance), and its newest servers with live status.

    A user without an organisation (or whose organisation is suspended) sees the empty state. Queries do not
    grow with the number of resources (tests/portal/test_dashboard_overview.py).
    """
    organisation = current_organisation(request)
    context: dict[str, Any] = {
        "organisation": organisation,
        "instances": [],
        "compact": True,
        "polling": False,
        "table_url": reverse("portal:dashboard_servers"),
        "can_order": False,
        "overview": None,
        "checklist": [],
        "resource_cards": [],
        "has_resources": False,
    }
    if organisation is not None and not organisation.is_suspended:
        overview = dashboard_overview(actor=request.user, organisation=organisation)
        instances = _newest_servers(request, organisation)
        checklist = _checklist(request, organisation)
        context.update(
            {
                "overview": overview,
                "instances": instances,
                "polling": any(i.status not in SETTLED for i in instances),
                "can_order": actor_has_permission(request.user, organisation, Permission.RESOURCES_WRITE),
                # Shown until every step is done; then it is gone (nothing to dismiss, nothing stored).
                "checklist": checklist if not all(item["done"] for item in checklist) else [],
                "checklist_done": sum(1 for item in checklist if item["done"]),
                "resource_cards": [
                    {"key": key, "label": label, "url": url, "icon": icon, "count": overview.counts.get(key, 0)}
                    for key, label, url, icon in RESOURCE_CARDS
                ],
                "has_resources": any(overview.counts.get(kind) for kind in RESOURCE_KINDS),
                "running": overview.servers.running,
                "stopped": overview.servers.stopped,
                "attention": overview.servers.error,
                "monthly_cap": overview.monthly_cap,
            }
        )
    context.update(_services_context(request, organisation))
    # The empty state's "ready in about a minute in …": only where a server can be ordered now.
    context["server_cities"] = (
        home_facts().server_cities if not context["has_resources"] and not context["services"] else []
    )
    # Alerts fired or resolved, until dismissed (apps.alerts, issue 16).
    context["alert_notices"] = (
        list(alert_selectors.alert_notices_open(organisation=organisation, limit=5)) if organisation is not None else []
    )
    return render(request, "portal/dashboard.html", context)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """The global search (``/search/?q=``): a plain page without JavaScript; with it, the overlay opened by "/" or
    Ctrl+K asks for the results alone (``?partial=1``) and shows them as you type."""
    organisation = current_organisation(request)
    results = portal_search(actor=request.user, organisation=organisation, query=request.GET.get("q", ""))
    groups = [(kind, label, results.hits[kind]) for kind, label in SEARCH_KINDS.items() if kind in results.hits]
    context = {"organisation": organisation, "results": results, "query": results.query, "groups": groups}
    if request.GET.get("partial") == "1":
        return render(request, "portal/_search_results.html", context)
    return render(request, "portal/search.html", context)


@login_required
def dashboard_services(request: HttpRequest) -> HttpResponse:
    """The live services list partial, polled by htmx while an order or a set-up is in progress."""
    return render(request, "portal/_dashboard_services.html", _services_context(request, current_organisation(request)))
