"""Portal pages of apps.floating_ips."""

from django.urls import URLPattern

app_name = "floating_ips"

urlpatterns: list[URLPattern] = []
