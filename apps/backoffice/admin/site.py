"""The back office's ``AdminSite``: navigation grouped by the staff's jobs, a landing page of work
queues, and the organisation, fleet and search pages (apps/docs/content/back-office.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.backoffice import selectors
from apps.backoffice.rules import roles


def urlencode_query(query: str) -> str:
    """A queue's filter (``a=1&b=x y``) with its values quoted for a URL."""
    pairs = [part.split("=", 1) for part in query.split("&")]
    return urlencode([(key, value) for key, value in pairs])


# The navigation: each job's group and the apps whose models it lists, in this order. An app not
# named here falls into "System". dj-stripe's models form "Payments", shown to finance staff only.
GROUPS: tuple[tuple[str, str | Promise, tuple[str, ...]], ...] = (
    ("customers", _("Customers"), ("teams", "accounts", "backoffice", "account", "socialaccount")),
    (
        "orders",
        _("Orders and services"),
        (
            "orders",
            "managed",
            "instances",
            "volumes",
            "networks",
            "firewalls",
            "floating_ips",
            "loadbalancers",
            "alerts",
        ),
    ),
    ("fleet", _("Fleet"), ("infrastructure",)),
    ("billing", _("Billing"), ("billing",)),
    ("catalogue", _("Catalogue"), ("catalogue",)),
    ("security", _("Security"), ("auth", "core", "sso", "mfa")),
    ("payments", _("Payments"), ("djstripe",)),
)
SYSTEM: tuple[str, str | Promise, tuple[str, ...]] = ("system", _("System"), ())
PAYMENTS_APPS = frozenset({"djstripe"})


def sees_payments(user: Any) -> bool:
    """Finance staff and superusers see dj-stripe's models (the "Payments" group)."""
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=roles.PAYMENTS_ROLES).exists()


class BackOfficeSite(admin.AdminSite):
    site_header = _("VMCloud back office")
    site_title = _("VMCloud back office")
    index_title = _("Work queues")
    enable_nav_sidebar = True

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """The apps grouped by job (Customers, Orders and services, Fleet, Billing, Catalogue, Security...).

        One app's page (``app_label`` given) keeps Django's shape. dj-stripe's app is left out for
        staff who are neither finance nor superuser, even with a permission on it.
        """
        app_dict = self._build_app_dict(request, app_label)
        if not sees_payments(request.user):
            for hidden in PAYMENTS_APPS:
                app_dict.pop(hidden, None)
        if app_label:
            return super().get_app_list(request, app_label) if app_dict else []
        placed: set[str] = set()
        out = []
        for key, label, app_labels in (*GROUPS, SYSTEM):
            members = app_labels if app_labels else tuple(a for a in app_dict if a not in placed)
            models = [m for a in members if a in app_dict for m in app_dict[a]["models"]]
            placed.update(members)
            if not models:
                continue
            models.sort(key=lambda m: str(m["name"]).lower())
            out.append(
                {
                    "name": label,
                    "app_label": key,
                    "app_url": reverse("admin:index", current_app=self.name) + f"#group-{key}",
                    "has_module_perms": True,
                    "models": models,
                }
            )
        return out

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        user = request.user
        visible = [q for q in selectors.QUEUES if user.has_perm(q.permission)]  # type: ignore[union-attr]
        now = timezone.now()
        queues = []
        for row in selectors.work_queue_counts(queues=visible, now=now):
            query = row.queue.query(now)
            url = reverse(row.queue.changelist, current_app=self.name)
            queues.append({"row": row, "url": f"{url}?{urlencode_query(query)}" if query else url})
        context = {
            "queues": queues,
            "can_see_fleet": user.has_perm("infrastructure.view_node"),  # type: ignore[union-attr]
            **(extra_context or {}),
        }
        return super().index(request, context)  # type: ignore[return-value]

    def get_urls(self) -> list[Any]:
        from apps.backoffice.admin import views

        wrap = self.admin_view
        ours = [
            path("search/", wrap(views.search_view), name="backoffice_search"),
            path("organisation/<int:pk>/", wrap(views.organisation_page), name="backoffice_organisation"),
            path("fleet/", wrap(views.fleet_page), name="backoffice_fleet"),
            path("fleet/datacentre/<str:code>/", wrap(views.datacentre_page), name="backoffice_datacentre"),
            path("fleet/cluster/<int:pk>/", wrap(views.cluster_page), name="backoffice_cluster"),
            path("fleet/node/<int:pk>/", wrap(views.node_page), name="backoffice_node"),
        ]
        return ours + super().get_urls()
