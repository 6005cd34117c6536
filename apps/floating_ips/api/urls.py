"""Floating IPs API routes under /api/v1/."""

from django.urls import path

from apps.floating_ips.api import views

urlpatterns = [
    path("floating_ips/", views.FloatingIpListApi.as_view(), name="floating-ip-list"),
    path("floating_ips/<uuid:floating_ip_id>/", views.FloatingIpDetailApi.as_view(), name="floating-ip-detail"),
    path(
        "floating_ips/<uuid:floating_ip_id>/actions/",
        views.FloatingIpActionListApi.as_view(),
        name="floating-ip-action-list",
    ),
    path(
        "floating_ips/<uuid:floating_ip_id>/actions/assign/",
        views.FloatingIpAssignApi.as_view(),
        name="floating-ip-assign",
    ),
    path(
        "floating_ips/<uuid:floating_ip_id>/actions/unassign/",
        views.FloatingIpUnassignApi.as_view(),
        name="floating-ip-unassign",
    ),
]
