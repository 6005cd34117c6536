"""Portal pages of apps.volumes."""

from django.urls import URLPattern

app_name = "volumes"

urlpatterns: list[URLPattern] = []
