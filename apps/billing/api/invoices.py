"""Billing API: invoices (views and their routes; serializers in serializers_invoices.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
