"""The URL map: portal, docs, API v1 with its schema, admin, accounts."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core import metrics as core_metrics
from apps.core import views as core_views

# The back office's titles (translatable) are its site's own: apps/backoffice/admin/site.py.

urlpatterns = [
    path("admin/", admin.site.urls),
    # Portal account pages (deletion) next to allauth's; no path collides.
    path("accounts/", include("apps.accounts.urls")),
    # SSO's ACS finish, SLS and logout replace allauth's (apps/sso/saml_views.py).
    path("accounts/", include("apps.sso.saml_urls")),
    path("accounts/", include("allauth.urls")),
    path("org/sso/", include("apps.sso.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-swagger"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # Anything else under /api/ is the API's JSON 404, even with DEBUG on.
    re_path(r"^api/(?P<rest>.*)$", core_views.api_not_found, name="api-not-found"),
    path("docs/", include("apps.docs.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_metrics.metrics_view, name="metrics"),
    path("", include("apps.teams.urls")),
    path("pricing/", include("apps.catalogue.urls")),
    path("", include("apps.orders.urls")),
    path("", include("apps.instances.urls")),
    path("", include("apps.volumes.urls")),
    path("", include("apps.alerts.urls")),
    path("", include("apps.networks.urls")),
    path("", include("apps.firewalls.urls")),
    path("", include("apps.floating_ips.urls")),
    path("", include("apps.managed.urls")),
    path("", include("apps.loadbalancers.urls")),
    path("billing/", include("apps.billing.urls")),
    path("", include("apps.portal.urls")),
]

handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
