"""Portal page of a load balancer (below its service's page)."""

from django.urls import path

from apps.loadbalancers import views

app_name = "loadbalancers"

urlpatterns = [
    path("services/<uuid:service_id>/load-balancer/", views.load_balancer_detail, name="load_balancer_detail"),
    path(
        "services/<uuid:service_id>/load-balancer/certificate/",
        views.load_balancer_certificate,
        name="load_balancer_certificate",
    ),
    path("services/<uuid:service_id>/load-balancer/health/", views.load_balancer_health, name="load_balancer_health"),
    path("services/<uuid:service_id>/load-balancer/rules/", views.load_balancer_rules, name="load_balancer_rules"),
    path(
        "services/<uuid:service_id>/load-balancer/targets/", views.load_balancer_targets, name="load_balancer_targets"
    ),
    path(
        "services/<uuid:service_id>/load-balancer/health-check/",
        views.load_balancer_health_check,
        name="load_balancer_health_check",
    ),
    path(
        "services/<uuid:service_id>/load-balancer/settings/",
        views.load_balancer_settings,
        name="load_balancer_settings",
    ),
]
