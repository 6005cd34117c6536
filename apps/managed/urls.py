"""Portal pages of managed services: the list, a service's page, and its actions (plain forms)."""

from django.urls import path

from apps.managed import views

app_name = "managed"

urlpatterns = [
    path("services/", views.service_list, name="service_list"),
    path("services/<uuid:service_id>/", views.service_detail, name="service_detail"),
    path("services/<uuid:service_id>/credentials/", views.service_credentials, name="service_credentials"),
    path("services/<uuid:service_id>/tier/", views.service_tier, name="service_tier"),
    path("services/<uuid:service_id>/cancel/", views.service_cancel, name="service_cancel"),
]
