"""Portal pages of apps.networks."""

from django.urls import URLPattern

app_name = "networks"

urlpatterns: list[URLPattern] = []
