"""The staff roles: Django groups and the default permissions each one holds (pure data).

Staff get their rights in the back office from the groups named here (apps/docs/content/back-office.md,
"Staff roles"); ``services.staff_roles_apply`` writes them (the data migration and the ``staff_roles``
command call it). A rule is ``(app label, model name or "*", actions)``, the actions being Django's
default permissions (https://docs.djangoproject.com/en/5.2/topics/auth/default/#default-permissions).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SUPPORT = "support"
OPERATIONS = "operations"
FINANCE = "finance"
SUPERUSER = "superuser"

VIEW = ("view",)
EDIT = ("view", "change")
ALL = ("view", "add", "change", "delete")

# Customer-facing apps every staff role reads when a customer calls.
_CUSTOMER_APPS = ("teams", "sso", "instances", "volumes", "networks", "firewalls", "floating_ips")
_SERVICE_APPS = ("managed", "loadbalancers", "orders", "alerts")

Rule = tuple[str, str, tuple[str, ...]]

ROLE_RULES: dict[str, tuple[Rule, ...]] = {
    SUPPORT: (
        *((app, "*", VIEW) for app in (*_CUSTOMER_APPS, *_SERVICE_APPS, "accounts", "catalogue", "core")),
        ("billing", "invoice", VIEW),
        ("billing", "creditgrant", VIEW),
        ("billing", "creditnote", VIEW),
        ("billing", "billingaccount", VIEW),
        ("teams", "organisation", EDIT),  # suspend and lift a suspension
        ("teams", "membership", EDIT),
        ("teams", "invitation", EDIT),
        ("accounts", "user", EDIT),  # unlock, suspend a user
        ("sso", "samldomain", EDIT),  # verify a domain for a customer
        ("account", "emailaddress", EDIT),
        ("mfa", "authenticator", VIEW),
        ("backoffice", "staffnote", ("view", "add")),
    ),
    OPERATIONS: (
        *((app, "*", EDIT) for app in ("instances", "volumes", "networks", "firewalls", "floating_ips")),
        *((app, "*", EDIT) for app in _SERVICE_APPS),
        ("infrastructure", "*", ALL),
        ("catalogue", "*", ALL),
        ("teams", "organisation", VIEW),
        ("teams", "project", VIEW),
        ("teams", "membership", VIEW),
        ("core", "*", VIEW),
        ("django_celery_beat", "*", VIEW),
        ("backoffice", "staffnote", ("view", "add")),
    ),
    FINANCE: (
        ("billing", "*", ALL),
        ("djstripe", "*", VIEW),
        *((app, "*", VIEW) for app in ("teams", "orders", "managed", "instances", "catalogue", "core")),
        ("backoffice", "staffnote", ("view", "add")),
    ),
    # Every permission there is: a superuser without the flag (the flag bypasses groups altogether).
    SUPERUSER: (("*", "*", ALL),),
}

ROLE_LABELS = {
    SUPPORT: _("Support: customers, their organisations, users and SSO"),
    OPERATIONS: _("Operations: the fleet, orders, fulfilments and services"),
    FINANCE: _("Finance: invoices, credits, dunning and payments"),
    SUPERUSER: _("Superuser: everything"),
}

# The roles that see dj-stripe's models (the "Payments" group of the navigation).
PAYMENTS_ROLES = frozenset({FINANCE, SUPERUSER})


def rule_matches(rule: Rule, *, app_label: str, model: str, action: str) -> bool:
    """Whether ``rule`` grants ``action`` on ``app_label.model``."""
    app, model_name, actions = rule
    return app in ("*", app_label) and model_name in ("*", model) and action in actions
