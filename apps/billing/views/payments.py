"""Portal pages of billing: payments."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
