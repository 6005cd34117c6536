"""Portal pages of billing: invoices."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
