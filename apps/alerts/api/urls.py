"""Alerts API routes under /api/v1/."""

from django.urls import path

from apps.alerts.api import views

urlpatterns = [
    path("alert-policies/", views.AlertPolicyListApi.as_view(), name="alert-policy-list"),
    path("alert-policies/<uuid:policy_id>/", views.AlertPolicyDetailApi.as_view(), name="alert-policy-detail"),
    path(
        "alert-policies/<uuid:policy_id>/incidents/",
        views.AlertPolicyIncidentListApi.as_view(),
        name="alert-policy-incident-list",
    ),
    path(
        "alert-policies/<uuid:policy_id>/rotate-secret/",
        views.AlertPolicyRotateSecretApi.as_view(),
        name="alert-policy-rotate-secret",
    ),
]
