"""Portal pages of billing: costs."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
