"""Load balancer API routes under /api/v1/ (below the managed service they belong to)."""

from django.urls import path

from apps.loadbalancers.api import views

PREFIX = "services/<uuid:service_id>/load-balancer/"

urlpatterns = [
    path(PREFIX, views.LoadBalancerDetailApi.as_view(), name="load-balancer-detail"),
    path(f"{PREFIX}rules/", views.LoadBalancerRulesApi.as_view(), name="load-balancer-rules"),
    path(f"{PREFIX}targets/", views.LoadBalancerTargetsApi.as_view(), name="load-balancer-targets"),
    path(f"{PREFIX}health-check/", views.LoadBalancerHealthCheckApi.as_view(), name="load-balancer-health-check"),
    path(f"{PREFIX}certificate/", views.LoadBalancerCertificateApi.as_view(), name="load-balancer-certificate"),
    path(f"{PREFIX}settings/", views.LoadBalancerSettingsApi.as_view(), name="load-balancer-settings"),
    path(f"{PREFIX}actions/read_health/", views.LoadBalancerReadHealthApi.as_view(), name="load-balancer-read-health"),
]
