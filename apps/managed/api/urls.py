"""Managed services API routes under /api/v1/ (one route for every family)."""

from django.urls import path

from apps.managed.api import views

urlpatterns = [
    path("services/", views.ServiceListApi.as_view(), name="service-list"),
    path("services/<uuid:service_id>/", views.ServiceDetailApi.as_view(), name="service-detail"),
    path(
        "services/<uuid:service_id>/transitions/",
        views.ServiceTransitionListApi.as_view(),
        name="service-transition-list",
    ),
    path(
        "services/<uuid:service_id>/actions/change_tier/",
        views.ServiceChangeTierApi.as_view(),
        name="service-change-tier",
    ),
    path(
        "services/<uuid:service_id>/actions/reveal_credentials/",
        views.ServiceRevealCredentialsApi.as_view(),
        name="service-reveal-credentials",
    ),
]
