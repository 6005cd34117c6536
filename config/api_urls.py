"""API v1: each app contributes its ``api/urls.py``.

Versioning is by URL prefix: a breaking change gets /api/v2/ while v1 keeps
working; additive changes (new fields, new endpoints) land in v1.
"""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("apps.catalogue.api.urls")),
    path("", include("apps.infrastructure.api.urls")),
    path("", include("apps.instances.api.urls")),
    path("", include("apps.orders.api.urls")),
    path("", include("apps.teams.api.urls")),
    path("", include("apps.volumes.api.urls")),
    path("", include("apps.networks.api.urls")),
    path("", include("apps.firewalls.api.urls")),
    path("", include("apps.floating_ips.api.urls")),
    path("", include("apps.managed.api.urls")),
    path("", include("apps.loadbalancers.api.urls")),
    path("", include("apps.alerts.api.urls")),
    path("billing/", include("apps.billing.api.urls")),
]
