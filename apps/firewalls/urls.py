"""Portal pages of apps.firewalls."""

from django.urls import URLPattern

app_name = "firewalls"

urlpatterns: list[URLPattern] = []
